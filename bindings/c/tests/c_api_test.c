/* The C API's test, in C99: round trips over real sockets (tcp on 127.0.0.1), zmq_poll on the
 * handle, multipart through zmq_msg_t, options, events, statistics, and that every entry point
 * refuses bad arguments with the documented errno instead of crashing. Run by ctest (also under
 * AddressSanitizer + UndefinedBehaviorSanitizer); prints each failed check and exits 1. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "cryptcom.h"

/* Checks may fail on several threads at once (test_threads). */
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;
static int failures = 0;

static void count_failure(void) {
  pthread_mutex_lock(&failures_lock);
  ++failures;
  pthread_mutex_unlock(&failures_lock);
}

#if defined(__SANITIZE_THREAD__)
#define CRYPTCOM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CRYPTCOM_TSAN 1
#endif
#endif
#ifdef CRYPTCOM_TSAN
/* libzmq is not instrumented: its hand-overs between threads are invisible to ThreadSanitizer
 * (tests/zmq/tsan_suppressions.cpp says more). Our own code stays checked. */
const char* __tsan_default_suppressions(void);
const char* __tsan_default_suppressions(void) { return "called_from_lib:libzmq.so.5\n"; }
#endif

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      count_failure();                                                         \
    }                                                                          \
  } while (0)

/* A call that must fail with `code`: return `failed` (-1 or NULL) and set errno. */
#define CHECK_FAILS_AS(call, failed, code)                                                        \
  do {                                                                                            \
    errno = 0;                                                                                    \
    if ((call) != (failed) || errno != (code)) {                                                  \
      fprintf(stderr, "%s:%d: %s: expected failure with errno %d, got errno %d (%s)\n", __FILE__, \
              __LINE__, #call, (code), errno, cryptcom_strerror(errno));                          \
      count_failure();                                                                            \
    }                                                                                             \
  } while (0)
#define CHECK_FAILS(call, code) CHECK_FAILS_AS(call, -1, code)
#define CHECK_NULL_FAILS(call, code) CHECK_FAILS_AS(call, NULL, code)

static const int timeout_ms = 10000;

static void sleep_ms(long ms) {
  struct timespec t;
  t.tv_sec = ms / 1000;
  t.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&t, NULL);
}

/* A socket with receive and send timeouts, so that no check can hang the test. */
static cryptcom_socket_t* make(void* ctx, int type) {
  cryptcom_socket_t* s = cryptcom_socket(ctx, type);
  if (s == NULL) {
    fprintf(stderr, "cryptcom_socket(%d) failed: %s\n", type, cryptcom_strerror(errno));
    count_failure();
    return NULL;
  }
  CHECK(cryptcom_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) == 0);
  CHECK(cryptcom_setsockopt(s, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms) == 0);
  return s;
}

/* Binds to a free tcp port on 127.0.0.1 and writes the endpoint to `endpoint`. */
static void bind_any(cryptcom_socket_t* s, char* endpoint, size_t size) {
  CHECK(cryptcom_bind(s, "tcp://127.0.0.1:*") == 0);
  CHECK(cryptcom_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &size) == 0);
}

static void test_version(void) {
  int major = -1, minor = -1, patch = -1;
  cryptcom_version(&major, &minor, &patch);
  CHECK(major == CRYPTCOM_VERSION_MAJOR && minor == CRYPTCOM_VERSION_MINOR &&
        patch == CRYPTCOM_VERSION_PATCH);
  cryptcom_version(NULL, NULL, NULL); /* any argument may be NULL */
}

static void test_req_rep_round_trip(void* ctx) {
  char endpoint[256];
  char buf[64];
  cryptcom_socket_t* rep = make(ctx, ZMQ_REP);
  cryptcom_socket_t* req = make(ctx, ZMQ_REQ);
  bind_any(rep, endpoint, sizeof endpoint);
  CHECK(cryptcom_connect(req, endpoint) == 0);

  CHECK(cryptcom_send(req, "hello", 5, 0) == 5);
  CHECK(cryptcom_recv(rep, buf, sizeof buf, 0) == 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  CHECK(cryptcom_send(rep, "world, in full", 14, 0) == 14);
  /* A reply longer than the buffer is truncated; its full size is returned, as zmq_recv does. */
  CHECK(cryptcom_recv(req, buf, 5, 0) == 14);
  CHECK(memcmp(buf, "world", 5) == 0);

  /* REQ out of turn: EFSM, as ZeroMQ says it. */
  CHECK(cryptcom_send(req, "a", 1, 0) == 1);
  CHECK_FAILS(cryptcom_send(req, "b", 1, 0), EFSM);
  CHECK(cryptcom_recv(rep, buf, sizeof buf, 0) == 1);
  CHECK(cryptcom_send(rep, "c", 1, 0) == 1);
  CHECK(cryptcom_recv(req, buf, sizeof buf, 0) == 1);

  /* The socket's statistics saw it, and its pool made keys. */
  {
    cryptcom_stats_t st;
    CHECK(cryptcom_get_stats(req, &st, sizeof st) == 0);
    CHECK(st.messages_sent == 2 && st.messages_received == 2);
    CHECK(st.messages_sealed >= 2 && st.messages_opened == 2);
    CHECK(st.wire_bytes_sent > 10);
  }
  {
    uint64_t sent = 0;
    size_t size = sizeof sent;
    CHECK(cryptcom_getsockopt(req, CRYPTCOM_MESSAGES_SENT, &sent, &size) == 0);
    CHECK(sent == 2 && size == sizeof sent);
  }
  CHECK(cryptcom_destroy(&req) == 0 && req == NULL);
  CHECK(cryptcom_destroy(&rep) == 0 && rep == NULL);
}

/* Multipart through zmq_msg_t, with an empty part, between DEALER and ROUTER; zmq_poll on the
 * handle wakes for the message and recv with ZMQ_DONTWAIT then has it. */
static void test_multipart_and_poll(void* ctx) {
  char endpoint[256];
  const char* parts[3] = {"first", "", "third part"};
  zmq_msg_t msg;
  zmq_pollitem_t item;
  int i, more;
  size_t size = sizeof more;
  cryptcom_socket_t* router = make(ctx, ZMQ_ROUTER);
  cryptcom_socket_t* dealer = make(ctx, ZMQ_DEALER);
  bind_any(router, endpoint, sizeof endpoint);
  CHECK(cryptcom_connect(dealer, endpoint) == 0);

  item.socket = cryptcom_handle(router);
  item.fd = 0;
  item.events = ZMQ_POLLIN;
  item.revents = 0;
  CHECK(item.socket != NULL);
  CHECK(zmq_poll(&item, 1, 0) == 0); /* nothing yet */

  for (i = 0; i < 3; ++i) {
    size_t n = strlen(parts[i]);
    CHECK(zmq_msg_init_size(&msg, n) == 0);
    memcpy(zmq_msg_data(&msg), parts[i], n);
    CHECK(cryptcom_msg_send(&msg, dealer, i < 2 ? ZMQ_SNDMORE : 0) == (int)n);
    CHECK(zmq_msg_size(&msg) == 0); /* taken, as zmq_msg_send leaves it */
    zmq_msg_close(&msg);
  }

  CHECK(zmq_poll(&item, 1, timeout_ms) == 1 && (item.revents & ZMQ_POLLIN));
  CHECK(zmq_msg_init(&msg) == 0);
  /* The ROUTER sees the routing id first, then the three parts. */
  CHECK(cryptcom_msg_recv(&msg, router, ZMQ_DONTWAIT) > 0);
  CHECK(zmq_msg_more(&msg) == 1);
  {
    zmq_msg_t id;
    zmq_msg_init(&id);
    zmq_msg_copy(&id, &msg);
    for (i = 0; i < 3; ++i) {
      CHECK(cryptcom_msg_recv(&msg, router, ZMQ_DONTWAIT) == (int)strlen(parts[i]));
      CHECK(memcmp(zmq_msg_data(&msg), parts[i], strlen(parts[i])) == 0);
      CHECK(cryptcom_getsockopt(router, ZMQ_RCVMORE, &more, &size) == 0);
      CHECK(more == (i < 2));
    }
    /* Echo back through the routing id. */
    CHECK(cryptcom_msg_send(&id, router, ZMQ_SNDMORE) > 0);
    zmq_msg_close(&id);
  }
  CHECK(cryptcom_send(router, "back", 4, 0) == 4);
  CHECK(cryptcom_msg_recv(&msg, dealer, 0) == 4);
  CHECK(memcmp(zmq_msg_data(&msg), "back", 4) == 0);
  CHECK(zmq_poll(&item, 1, 0) == 0); /* the protocol's own frames never wake a poll */
  zmq_msg_close(&msg);
  cryptcom_destroy(&dealer);
  cryptcom_destroy(&router);
}

static void test_options(void* ctx) {
  cryptcom_options_t* o = cryptcom_options_new();
  int64_t ttl = 30000, got = 0;
  uint64_t target = 8, low = 4, big = 10;
  int flow = CRYPTCOM_FLOW_PUSH, cipher = 0, bad = 7;
  size_t size = sizeof got;
  cryptcom_socket_t* s;
  CHECK(o != NULL);

  CHECK(cryptcom_options_set(o, CRYPTCOM_KEY_TTL, &ttl, sizeof ttl) == 0);
  CHECK(cryptcom_options_set(o, CRYPTCOM_POOL_TARGET, &target, sizeof target) == 0);
  CHECK(cryptcom_options_set(o, CRYPTCOM_POOL_LOW_WATERMARK, &low, sizeof low) == 0);
  CHECK(cryptcom_options_set(o, CRYPTCOM_MAX_MESSAGE_SIZE, &big, sizeof big) == 0);
  CHECK(cryptcom_options_set(o, CRYPTCOM_FLOW, &flow, sizeof flow) == 0);
  CHECK(cryptcom_options_get(o, CRYPTCOM_KEY_TTL, &got, &size) == 0 && got == 30000);
  size = sizeof cipher;
  CHECK(cryptcom_options_get(o, CRYPTCOM_CIPHER, &cipher, &size) == 0);
  CHECK(cipher == CRYPTCOM_CIPHER_CHACHA20_POLY1305 && size == sizeof(int));

  /* Wrong sizes, values, options and pointers. */
  CHECK_FAILS(cryptcom_options_set(o, CRYPTCOM_KEY_TTL, &flow, sizeof flow), EINVAL);
  CHECK_FAILS(cryptcom_options_set(o, CRYPTCOM_FLOW, &bad, sizeof bad), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "CRYPTCOM_FLOW") != NULL);
  ttl = -1;
  CHECK_FAILS(cryptcom_options_set(o, CRYPTCOM_KEY_TTL, &ttl, sizeof ttl), EINVAL);
  CHECK_FAILS(cryptcom_options_set(o, ZMQ_LINGER, &flow, sizeof flow), EINVAL);
  CHECK_FAILS(cryptcom_options_set(o, CRYPTCOM_KEY_TTL, NULL, sizeof ttl), EFAULT);
  CHECK_FAILS(cryptcom_options_set(NULL, CRYPTCOM_KEY_TTL, &ttl, sizeof ttl), EFAULT);
  size = 4;
  CHECK_FAILS(cryptcom_options_get(o, CRYPTCOM_KEY_TTL, &got, &size), EINVAL);
  CHECK_FAILS(cryptcom_options_get(o, CRYPTCOM_KEY_TTL, &got, NULL), EFAULT);
  CHECK_NULL_FAILS(cryptcom_socket_with_options(ctx, ZMQ_DEALER, NULL), EFAULT);

  s = cryptcom_socket_with_options(ctx, ZMQ_DEALER, o);
  cryptcom_options_destroy(&o);
  CHECK(o == NULL);
  cryptcom_options_destroy(&o); /* a NULL pointer is ignored */
  CHECK(s != NULL);
  if (s == NULL) return;

  /* The socket reports the options it was made with; they cannot change afterwards. */
  size = sizeof got;
  CHECK(cryptcom_getsockopt(s, CRYPTCOM_KEY_TTL, &got, &size) == 0 && got == 30000);
  {
    uint64_t t = 0;
    size = sizeof t;
    CHECK(cryptcom_getsockopt(s, CRYPTCOM_POOL_TARGET, &t, &size) == 0 && t == 8);
  }
  CHECK_FAILS(cryptcom_setsockopt(s, CRYPTCOM_KEY_TTL, &got, sizeof got), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "options object") != NULL);
  {
    unsigned char id[16], zero[16] = {0};
    size = sizeof id;
    CHECK(cryptcom_getsockopt(s, CRYPTCOM_INSTANCE, id, &size) == 0 && size == 16);
    CHECK(memcmp(id, zero, 16) != 0);
  }

  /* ZeroMQ options pass through, or are refused with the reason. */
  {
    int v = 1234, type = 0;
    CHECK(cryptcom_setsockopt(s, ZMQ_RCVTIMEO, &v, sizeof v) == 0);
    v = 0;
    size = sizeof v;
    CHECK(cryptcom_getsockopt(s, ZMQ_RCVTIMEO, &v, &size) == 0 && v == 1234);
    size = sizeof type;
    CHECK(cryptcom_getsockopt(s, ZMQ_TYPE, &type, &size) == 0 && type == ZMQ_DEALER);
    CHECK_FAILS(cryptcom_setsockopt(s, ZMQ_CONFLATE, &v, sizeof v), EINVAL);
    CHECK(strstr(cryptcom_strerror(EINVAL), "not supported") != NULL);
    CHECK_FAILS(cryptcom_setsockopt(s, ZMQ_RCVTIMEO, NULL, sizeof v), EFAULT);
    CHECK_FAILS(cryptcom_getsockopt(s, ZMQ_RCVTIMEO, &v, NULL), EFAULT);
  }

  /* A message above CRYPTCOM_MAX_MESSAGE_SIZE (10 bytes) never leaves: EMSGSIZE. */
  CHECK_FAILS(cryptcom_send(s, "eleven byte", 11, ZMQ_DONTWAIT), EMSGSIZE);
  CHECK(strstr(cryptcom_strerror(EMSGSIZE), "max_message_size") != NULL);
  {
    uint64_t sent = 99;
    size = sizeof sent;
    CHECK(cryptcom_getsockopt(s, CRYPTCOM_MESSAGES_SENT, &sent, &size) == 0 && sent == 0);
  }
  cryptcom_destroy(&s);

  /* Inconsistent options are refused at construction (low watermark above the target). */
  o = cryptcom_options_new();
  target = 4;
  low = 8;
  CHECK(cryptcom_options_set(o, CRYPTCOM_POOL_TARGET, &target, sizeof target) == 0);
  CHECK(cryptcom_options_set(o, CRYPTCOM_POOL_LOW_WATERMARK, &low, sizeof low) == 0);
  CHECK_NULL_FAILS(cryptcom_socket_with_options(ctx, ZMQ_DEALER, o), EINVAL);
  cryptcom_options_destroy(&o);
}

/* A message that finds no server is given up after CRYPTCOM_DELIVERY_TIMEOUT and reported. */
static void test_events(void* ctx) {
  cryptcom_options_t* o = cryptcom_options_new();
  int64_t timeout = 300, retry = 100;
  int linger = 0, i;
  cryptcom_socket_t* s;
  cryptcom_event_t* e = NULL;
  CHECK(cryptcom_options_set(o, CRYPTCOM_DELIVERY_TIMEOUT, &timeout, sizeof timeout) == 0);
  CHECK(cryptcom_options_set(o, CRYPTCOM_RETRANSMIT_AFTER, &retry, sizeof retry) == 0);
  s = cryptcom_socket_with_options(ctx, ZMQ_DEALER, o);
  cryptcom_options_destroy(&o);
  CHECK(s != NULL);
  if (s == NULL) return;
  CHECK(cryptcom_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) == 0);
  CHECK(cryptcom_connect(s, "tcp://127.0.0.1:9") == 0); /* discard port: nobody answers */

  CHECK_NULL_FAILS(cryptcom_event_next(s), EAGAIN);
  CHECK(cryptcom_send(s, "lost", 4, 0) == 4);
  for (i = 0; i < 100 && e == NULL; ++i) {
    e = cryptcom_event_next(s);
    if (e == NULL) sleep_ms(50);
  }
  CHECK(e != NULL);
  if (e != NULL) {
    size_t size = 0;
    CHECK(cryptcom_event_kind(e) == CRYPTCOM_EVENT_MESSAGE_UNDELIVERABLE);
    CHECK(strcmp(cryptcom_event_kind_name(cryptcom_event_kind(e)), "message_undeliverable") == 0);
    CHECK(cryptcom_event_message(e) == 1);
    CHECK(cryptcom_event_reason(e) == CRYPTCOM_REASON_UNDELIVERABLE);
    CHECK(strcmp(cryptcom_reason_name(cryptcom_event_reason(e)), "undeliverable") == 0);
    CHECK(strlen(cryptcom_event_detail(e)) > 0);
    CHECK(cryptcom_event_key_id(e) != NULL);
    CHECK(cryptcom_event_route_frames(e) == 0);
    CHECK(cryptcom_event_route_frame(e, 0, &size) == NULL && errno == EINVAL);
    cryptcom_event_destroy(&e);
    CHECK(e == NULL);
  }
  {
    cryptcom_stats_t st;
    CHECK(cryptcom_get_stats(s, &st, sizeof st) == 0);
    CHECK(st.messages_undeliverable == 1);
  }
  /* Events and statistics stay readable after close. */
  CHECK(cryptcom_close(s) == 0);
  CHECK(cryptcom_close(s) == 0);
  CHECK_NULL_FAILS(cryptcom_event_next(s), EAGAIN);
  {
    cryptcom_stats_t st;
    CHECK(cryptcom_get_stats(s, &st, sizeof st) == 0 && st.messages_sent == 1);
  }
  cryptcom_destroy(&s);

  /* Accessors of a NULL event. */
  CHECK(cryptcom_event_kind(NULL) == -1 && errno == EFAULT);
  CHECK(cryptcom_event_reason(NULL) == -1 && errno == EFAULT);
  CHECK(cryptcom_event_message(NULL) == 0 && errno == EFAULT);
  CHECK(cryptcom_event_detail(NULL) == NULL && errno == EFAULT);
  CHECK(cryptcom_event_key_id(NULL) == NULL && errno == EFAULT);
  CHECK(cryptcom_event_route_frames(NULL) == 0 && errno == EFAULT);
  CHECK(strcmp(cryptcom_event_kind_name(99), "unknown") == 0);
  CHECK(strcmp(cryptcom_event_kind_name(CRYPTCOM_EVENT_PEER_EVICTED), "peer_evicted") == 0);
  CHECK(strcmp(cryptcom_reason_name(-1), "unknown") == 0);
  CHECK(strcmp(cryptcom_reason_name(CRYPTCOM_REASON_UNKNOWN_KEY), "unknown_key") == 0);
  cryptcom_event_destroy(NULL);
}

static void test_stats_names(void) {
  size_t n = cryptcom_stats_count();
  CHECK(n * sizeof(uint64_t) == sizeof(cryptcom_stats_t));
  CHECK(strcmp(cryptcom_stats_name(0), "keys_generated") == 0);
  CHECK(strcmp(cryptcom_stats_name(n - 1), "peers_unestablished") == 0);
  CHECK(cryptcom_stats_name(n) == NULL);
}

/* Every entry point refuses what it cannot use: NULL, closed and destroyed sockets, bad flags,
 * sizes and pointers. None of this may crash (the sanitizers watch). */
static void test_bad_arguments(void* ctx) {
  char buf[8];
  size_t size = sizeof buf;
  cryptcom_stats_t st;
  zmq_msg_t msg, garbage;
  cryptcom_socket_t *s, *stale;
  int v = 0;

  CHECK_NULL_FAILS(cryptcom_socket(NULL, ZMQ_REQ), EFAULT);
  CHECK_NULL_FAILS(cryptcom_socket(ctx, ZMQ_STREAM), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "STREAM") != NULL);
  CHECK_NULL_FAILS(cryptcom_socket(ctx, 12345), EINVAL);

  /* NULL socket. */
  CHECK_FAILS(cryptcom_bind(NULL, "tcp://127.0.0.1:*"), ENOTSOCK);
  CHECK_FAILS(cryptcom_connect(NULL, "tcp://127.0.0.1:1"), ENOTSOCK);
  CHECK_FAILS(cryptcom_unbind(NULL, "tcp://127.0.0.1:1"), ENOTSOCK);
  CHECK_FAILS(cryptcom_disconnect(NULL, "tcp://127.0.0.1:1"), ENOTSOCK);
  CHECK_FAILS(cryptcom_send(NULL, "x", 1, 0), ENOTSOCK);
  CHECK_FAILS(cryptcom_recv(NULL, buf, sizeof buf, 0), ENOTSOCK);
  CHECK_FAILS(cryptcom_setsockopt(NULL, ZMQ_LINGER, &v, sizeof v), ENOTSOCK);
  CHECK_FAILS(cryptcom_getsockopt(NULL, ZMQ_LINGER, &v, &size), ENOTSOCK);
  CHECK_FAILS(cryptcom_get_stats(NULL, &st, sizeof st), ENOTSOCK);
  CHECK_FAILS(cryptcom_close(NULL), ENOTSOCK);
  CHECK_NULL_FAILS(cryptcom_handle(NULL), ENOTSOCK);
  CHECK_NULL_FAILS(cryptcom_event_next(NULL), ENOTSOCK);
  CHECK_FAILS(cryptcom_destroy(NULL), EFAULT);
  s = NULL;
  CHECK(cryptcom_destroy(&s) == 0); /* like free(NULL) */
  /* A pointer that is not a cryptcom socket is never dereferenced. */
  CHECK_FAILS(cryptcom_send((cryptcom_socket_t*)buf, "x", 1, 0), ENOTSOCK);

  s = make(ctx, ZMQ_DEALER);
  if (s == NULL) return;
  /* Bad flags, pointers and sizes on a live socket. */
  CHECK_FAILS(cryptcom_send(s, "x", 1, 0x100), EINVAL);
  CHECK_FAILS(cryptcom_recv(s, buf, sizeof buf, ZMQ_SNDMORE), EINVAL);
  CHECK_FAILS(cryptcom_send(s, NULL, 1, 0), EFAULT);
  CHECK_FAILS(cryptcom_recv(s, NULL, 4, ZMQ_DONTWAIT), EFAULT);
  CHECK_FAILS(cryptcom_recv(s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
  CHECK_FAILS(cryptcom_bind(s, NULL), EFAULT);
  CHECK_FAILS(cryptcom_connect(s, NULL), EFAULT);
  CHECK_FAILS(cryptcom_bind(s, "nonsense://here"), EPROTONOSUPPORT);
  CHECK_FAILS(cryptcom_get_stats(s, NULL, sizeof st), EFAULT);
  CHECK_FAILS(cryptcom_get_stats(s, &st, 0), EINVAL);
  CHECK_FAILS(cryptcom_get_stats(s, &st, 7), EINVAL);
  CHECK_FAILS(cryptcom_get_stats(s, &st, sizeof st + 8), EINVAL);
  CHECK(cryptcom_get_stats(s, &st, 8) == 0); /* an older, shorter struct */
  CHECK_FAILS(cryptcom_msg_send(NULL, s, 0), EFAULT);
  CHECK_FAILS(cryptcom_msg_recv(NULL, s, 0), EFAULT);
  memset(&garbage, 0, sizeof garbage);
  CHECK_FAILS(cryptcom_msg_send(&garbage, s, 0), EFAULT);
  CHECK_FAILS(cryptcom_msg_recv(&garbage, s, ZMQ_DONTWAIT), EFAULT);
  zmq_msg_init(&msg);
  CHECK_FAILS(cryptcom_msg_recv(&msg, s, ZMQ_DONTWAIT), EAGAIN);
  CHECK_FAILS(cryptcom_msg_send(&msg, s, 0x100), EINVAL);
  zmq_msg_close(&msg);

  /* Closed: only events, statistics, close and destroy work. */
  CHECK(cryptcom_close(s) == 0);
  CHECK_FAILS(cryptcom_send(s, "x", 1, 0), ENOTSOCK);
  CHECK(strstr(cryptcom_strerror(ENOTSOCK), "closed") != NULL);
  CHECK_FAILS(cryptcom_recv(s, buf, sizeof buf, 0), ENOTSOCK);
  CHECK_FAILS(cryptcom_bind(s, "tcp://127.0.0.1:*"), ENOTSOCK);
  CHECK_FAILS(cryptcom_setsockopt(s, ZMQ_LINGER, &v, sizeof v), ENOTSOCK);
  CHECK_NULL_FAILS(cryptcom_handle(s), ENOTSOCK);
  CHECK(cryptcom_get_stats(s, &st, sizeof st) == 0);

  /* Destroyed: nothing works, nothing crashes. */
  stale = s;
  CHECK(cryptcom_destroy(&s) == 0 && s == NULL);
  CHECK_FAILS(cryptcom_send(stale, "x", 1, 0), ENOTSOCK);
  CHECK_FAILS(cryptcom_close(stale), ENOTSOCK);
  CHECK_FAILS(cryptcom_destroy(&stale), ENOTSOCK);
  CHECK_NULL_FAILS(cryptcom_event_next(stale), ENOTSOCK);

  /* cryptcom_strerror falls back to ZeroMQ's words for other numbers. */
  CHECK(strcmp(cryptcom_strerror(ETERM), zmq_strerror(ETERM)) == 0);
}

/* A socket whose context is terminated: its calls fail with ETERM, and close still works. */
static void test_context_terminated(void) {
  void* ctx = zmq_ctx_new();
  cryptcom_socket_t* s = make(ctx, ZMQ_DEALER);
  char buf[4];
  if (s == NULL) return;
  CHECK(zmq_ctx_shutdown(ctx) == 0);
  CHECK_FAILS(cryptcom_recv(s, buf, sizeof buf, 0), ETERM);
  CHECK(cryptcom_destroy(&s) == 0);
  CHECK(zmq_ctx_term(ctx) == 0);
}

/* Different sockets on different threads at once, as with ZeroMQ: each thread runs its own
 * REQ/REP pair; errors stay per thread. */
static void* thread_body(void* ctx) {
  char endpoint[256], buf[16];
  int i;
  cryptcom_socket_t* rep = make(ctx, ZMQ_REP);
  cryptcom_socket_t* req = make(ctx, ZMQ_REQ);
  if (rep == NULL || req == NULL) return NULL;
  bind_any(rep, endpoint, sizeof endpoint);
  CHECK(cryptcom_connect(req, endpoint) == 0);
  for (i = 0; i < 20; ++i) {
    CHECK(cryptcom_send(req, "ping", 4, 0) == 4);
    CHECK(cryptcom_recv(rep, buf, sizeof buf, 0) == 4);
    CHECK(cryptcom_send(rep, "pong", 4, 0) == 4);
    CHECK(cryptcom_recv(req, buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0);
  }
  CHECK_FAILS(cryptcom_send(req, "x", 1, 0x100), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "unknown flags") != NULL);
  cryptcom_destroy(&req);
  cryptcom_destroy(&rep);
  return NULL;
}

static void test_threads(void* ctx) {
  pthread_t threads[4];
  int i;
  for (i = 0; i < 4; ++i) CHECK(pthread_create(&threads[i], NULL, thread_body, ctx) == 0);
  for (i = 0; i < 4; ++i) pthread_join(threads[i], NULL);
}

/* The I/O threads a context's sockets share: the count is per context, checked, and sockets on
 * a context with several threads talk as on one. */
static void test_io_threads(void) {
  void* ctx = zmq_ctx_new();
  char endpoint[256], buf[16];
  cryptcom_socket_t *rep, *req;
  CHECK(cryptcom_get_io_threads(ctx) == 1);
  CHECK(cryptcom_set_io_threads(ctx, 3) == 0);
  CHECK(cryptcom_get_io_threads(ctx) == 3);
  CHECK_FAILS(cryptcom_set_io_threads(ctx, 0), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "threads") != NULL);
  CHECK_FAILS(cryptcom_set_io_threads(NULL, 2), EFAULT);
  CHECK_FAILS(cryptcom_get_io_threads(NULL), EFAULT);
  rep = make(ctx, ZMQ_REP);
  req = make(ctx, ZMQ_REQ);
  if (rep != NULL && req != NULL) {
    bind_any(rep, endpoint, sizeof endpoint);
    CHECK(cryptcom_connect(req, endpoint) == 0);
    CHECK(cryptcom_send(req, "ping", 4, 0) == 4);
    CHECK(cryptcom_recv(rep, buf, sizeof buf, 0) == 4 && memcmp(buf, "ping", 4) == 0);
  }
  cryptcom_destroy(&req);
  cryptcom_destroy(&rep);
  CHECK(zmq_ctx_term(ctx) == 0);
}

/* Authenticated mode's options: keys in, the public key out, refusals with their reason. */
static void test_auth_options(void* ctx) {
  char pub[41], sec[41], other_pub[41], other_sec[41], got[64];
  size_t size = sizeof got;
  int policy = -1, one = 1;
  cryptcom_options_t* o = cryptcom_options_new();
  cryptcom_socket_t* s = make(ctx, ZMQ_DEALER);
  if (s == NULL || o == NULL) return;
  CHECK(zmq_curve_keypair(pub, sec) == 0 && zmq_curve_keypair(other_pub, other_sec) == 0);
  CHECK(cryptcom_getsockopt(s, CRYPTCOM_IDENTITY_PUBLIC_KEY, got, &size) == 0 && size == 0);
  CHECK(cryptcom_setsockopt(s, CRYPTCOM_IDENTITY_SECRET_KEY, sec, 40) == 0);
  size = sizeof got;
  CHECK(cryptcom_getsockopt(s, CRYPTCOM_IDENTITY_PUBLIC_KEY, got, &size) == 0);
  CHECK(size == 41 && strcmp(got, pub) == 0);
  CHECK_FAILS(cryptcom_getsockopt(s, CRYPTCOM_IDENTITY_SECRET_KEY, got, &size), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "write-only") != NULL);
  CHECK_FAILS(cryptcom_setsockopt(s, CRYPTCOM_SERVER_KEY, "short", 5), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "32 bytes or 40 characters of Z85") != NULL);
  CHECK_FAILS(cryptcom_setsockopt(s, CRYPTCOM_IDENTITY_PUBLIC_KEY, other_pub, 41), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "does not belong") != NULL);
  CHECK(cryptcom_setsockopt(s, CRYPTCOM_SERVER_KEY, other_pub, 41) == 0);
  size = sizeof got;
  CHECK(cryptcom_getsockopt(s, CRYPTCOM_SERVER_KEY, got, &size) == 0 &&
        strcmp(got, other_pub) == 0);
  CHECK(cryptcom_setsockopt(s, CRYPTCOM_ZAP, &one, sizeof one) == 0);
  size = sizeof policy;
  CHECK(cryptcom_getsockopt(s, CRYPTCOM_IDENTITY_POLICY, &policy, &size) == 0);
  CHECK(policy == CRYPTCOM_POLICY_ASK);
  /* Not on an options object, and not after connect. */
  CHECK_FAILS(cryptcom_options_set(o, CRYPTCOM_IDENTITY_SECRET_KEY, sec, 40), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "cryptcom_setsockopt") != NULL);
  CHECK(cryptcom_connect(s, "tcp://127.0.0.1:9") == 0);
  CHECK_FAILS(cryptcom_setsockopt(s, CRYPTCOM_ALLOW_KEY, pub, 40), EINVAL);
  CHECK(strstr(cryptcom_strerror(EINVAL), "before the socket's first bind") != NULL);
  CHECK(strcmp(cryptcom_reason_name(CRYPTCOM_REASON_ACCESS_DENIED), "access_denied") == 0);
  CHECK(strcmp(cryptcom_event_kind_name(CRYPTCOM_EVENT_PEER_REFUSED), "peer_refused") == 0);
  CHECK(cryptcom_peer_identity(s, NULL, NULL, 0, got, NULL, 0) == 0 && got[0] == '\0');
  CHECK_FAILS(cryptcom_peer_identity(s, NULL, NULL, 0, NULL, NULL, 0), EFAULT);
  CHECK_FAILS(cryptcom_resolve_identity(s, NULL, NULL, 0, "not z85", 1), EINVAL);
  CHECK_NULL_FAILS(cryptcom_event_peer_key(NULL), EFAULT);
  cryptcom_options_destroy(&o);
  cryptcom_destroy(&s);
}

/* Authenticated mode end to end: a DEALER client with an identity and the server's key, a ROUTER
 * server allowing it; the server names the sender of each message and reports the session. */
static void test_auth_round_trip(void* ctx) {
  char server_pub[41], server_sec[41], client_pub[41], client_sec[41];
  char endpoint[256], id[256], buf[64], key[41], user[16];
  const void* frames[1];
  size_t sizes[1];
  int n, i, authenticated = 0;
  cryptcom_socket_t* server = make(ctx, ZMQ_ROUTER);
  cryptcom_socket_t* client = make(ctx, ZMQ_DEALER);
  if (server == NULL || client == NULL) return;
  CHECK(zmq_curve_keypair(server_pub, server_sec) == 0);
  CHECK(zmq_curve_keypair(client_pub, client_sec) == 0);
  CHECK(cryptcom_setsockopt(server, CRYPTCOM_IDENTITY_SECRET_KEY, server_sec, 40) == 0);
  CHECK(cryptcom_setsockopt(server, CRYPTCOM_ALLOW_KEY, client_pub, 40) == 0);
  CHECK(cryptcom_setsockopt(client, CRYPTCOM_IDENTITY_SECRET_KEY, client_sec, 40) == 0);
  CHECK(cryptcom_setsockopt(client, CRYPTCOM_SERVER_KEY, server_pub, 40) == 0);
  bind_any(server, endpoint, sizeof endpoint);
  CHECK(cryptcom_connect(client, endpoint) == 0);
  CHECK(cryptcom_send(client, "who am i", 8, 0) == 8);
  n = cryptcom_recv(server, id, sizeof id, 0);
  CHECK(n > 0);
  CHECK(cryptcom_recv(server, buf, sizeof buf, 0) == 8 && memcmp(buf, "who am i", 8) == 0);
  if (n <= 0) n = 0;
  frames[0] = id;
  sizes[0] = (size_t)n;
  CHECK(cryptcom_peer_identity(server, frames, sizes, 1, key, user, sizeof user) == 1);
  CHECK(strcmp(key, client_pub) == 0 && user[0] == '\0');
  for (i = 0; i < 200 && !authenticated; ++i) {
    cryptcom_event_t* e = cryptcom_event_next(server);
    if (e == NULL) {
      sleep_ms(10);
      continue;
    }
    if (cryptcom_event_kind(e) == CRYPTCOM_EVENT_PEER_AUTHENTICATED) {
      authenticated = 1;
      CHECK(cryptcom_event_peer_key(e) != NULL &&
            strcmp(cryptcom_event_peer_key(e), client_pub) == 0);
    }
    cryptcom_event_destroy(&e);
  }
  CHECK(authenticated);
  cryptcom_destroy(&client);
  cryptcom_destroy(&server);
}

int main(void) {
  void* ctx = zmq_ctx_new();
  test_version();
  test_req_rep_round_trip(ctx);
  test_multipart_and_poll(ctx);
  test_options(ctx);
  test_events(ctx);
  test_stats_names();
  test_bad_arguments(ctx);
  test_threads(ctx);
  test_auth_options(ctx);
  test_auth_round_trip(ctx);
  CHECK(zmq_ctx_term(ctx) == 0);
  test_context_terminated();
  test_io_threads();
  if (failures != 0) {
    fprintf(stderr, "c_api_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api_test: all checks passed\n");
  return 0;
}
