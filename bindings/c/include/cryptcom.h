/* cryptcom.h: the C API of cryptcom, one-time-key encryption for ZeroMQ applications (C99).
 *
 * A cryptcom socket replaces a ZeroMQ socket of the same type; the wire carries only ciphertext,
 * every message sealed (HPKE, RFC 9180) to a one-time X25519 key that the receiver destroys after
 * opening it. It follows zmq.h wherever it can:
 *
 *   void *ctx = zmq_ctx_new ();                               // any libzmq context (czmq, pyzmq)
 *   cryptcom_socket_t *s = cryptcom_socket (ctx, ZMQ_REQ);    // was: zmq_socket (ctx, ZMQ_REQ)
 *   cryptcom_connect (s, "tcp://server:5555");
 *   cryptcom_send (s, "hello", 5, 0);
 *   char buf [256];
 *   int n = cryptcom_recv (s, buf, sizeof buf, 0);            // size of the reply, or -1
 *   zmq_pollitem_t item = {cryptcom_handle (s), 0, ZMQ_POLLIN, 0};   // zmq_poll works
 *   cryptcom_destroy (&s);
 *
 * Socket types: the ZeroMQ type numbers (ZMQ_REQ, ZMQ_REP, ZMQ_DEALER, ZMQ_ROUTER, ZMQ_PAIR,
 * ZMQ_PUSH and ZMQ_PULL are supported); a type cryptcom does not support fails with EINVAL and
 * cryptcom_strerror() says why. Both ends must be cryptcom sockets; brokers in between may be plain
 * ZeroMQ.
 *
 * Errors. Every function that can fail returns -1 (or NULL) and sets errno, as libzmq does:
 *  - EFAULT: a required pointer is NULL (or a zmq_msg_t is not initialised), or the context is
 *    not a libzmq context;
 *  - ENOTSOCK: the socket is not a live cryptcom socket (NULL, destroyed, never made here), or it
 *    is closed and the call needs an open one;
 *  - EINVAL: a bad value: unknown option or flag, wrong option size, unsupported socket type,
 *    inconsistent options;
 *  - what ZeroMQ itself would say: EAGAIN (nothing now, ZMQ_DONTWAIT or a timeout), EFSM (REQ/REP
 *    used out of turn), ETERM (context terminated), EINTR, EMSGSIZE (a message above the
 *    configured maximum: nothing of it was sent), EADDRINUSE, EPROTONOSUPPORT, ...
 * cryptcom_strerror(errno) explains the failure in a sentence. No C++ exception crosses this API.
 *
 * Threads: as with ZeroMQ, a socket is used by one thread at a time; different sockets may be
 * used from different threads at once. Each socket runs an I/O thread of its own, which answers
 * key requests, acknowledges and retransmits while the application is busy elsewhere.
 */
#ifndef CRYPTCOM_H_INCLUDED
#define CRYPTCOM_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#if defined(__GNUC__) || defined(__clang__)
#define CRYPTCOM_EXPORT __attribute__((visibility("default")))
#else
#define CRYPTCOM_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ---------------------------------------------------------------------------------*/

#define CRYPTCOM_VERSION_MAJOR 0
#define CRYPTCOM_VERSION_MINOR 2
#define CRYPTCOM_VERSION_PATCH 0
#define CRYPTCOM_MAKE_VERSION(major, minor, patch) ((major)*10000 + (minor)*100 + (patch))
#define CRYPTCOM_VERSION \
  CRYPTCOM_MAKE_VERSION(CRYPTCOM_VERSION_MAJOR, CRYPTCOM_VERSION_MINOR, CRYPTCOM_VERSION_PATCH)

/* The library's version (which may differ from the header's). Any argument may be NULL. */
CRYPTCOM_EXPORT void cryptcom_version(int* major, int* minor, int* patch);

/* ---- Errors ----------------------------------------------------------------------------------*/

/* A sentence explaining errnum. When errnum is the errno of the last cryptcom call that failed
 * on this thread, the explanation of that failure ("ZeroMQ option 6 is not supported: ..."),
 * otherwise zmq_strerror(errnum). The text stays valid until the next failing cryptcom call on
 * this thread. Never NULL. */
CRYPTCOM_EXPORT const char* cryptcom_strerror(int errnum);

/* ---- Options fixed at construction -----------------------------------------------------------
 * cryptcom's own settings (the C++ cryptcom::zmq::socket_options) are read when the socket is
 * made. Set them on an options object and pass it to cryptcom_socket_with_options(); read them
 * back from a socket with cryptcom_getsockopt(). Types by option: durations are int64_t
 * milliseconds, counts uint64_t, choices and booleans int; the size passed must be exactly that
 * type's. Default values in brackets. */

#define CRYPTCOM_FLOW 10001                /* int: CRYPTCOM_FLOW_* [per socket type] */
#define CRYPTCOM_CIPHER 10002              /* int: CRYPTCOM_CIPHER_* [ChaCha20-Poly1305] */
#define CRYPTCOM_KEY_TTL 10003             /* ms: life of each key we issue [60000] */
#define CRYPTCOM_EXPIRY_MARGIN 10004       /* ms: keys closer to expiry are not used [5000] */
#define CRYPTCOM_POOL_TARGET 10005         /* count: peer keys to hold per peer [64] */
#define CRYPTCOM_POOL_LOW_WATERMARK 10006  /* count: ask for more below this [32] */
#define CRYPTCOM_MAX_KEYS_PER_PEER 10007   /* count: live keys issued to one peer [1024] */
#define CRYPTCOM_MAX_KEYS_TOTAL 10008      /* count: live keys issued in all [65536] */
#define CRYPTCOM_KEY_GRANT_RATE 10009      /* count: keys per second to one peer [100000] */
#define CRYPTCOM_MAX_MESSAGE_SIZE 10010    /* count: bytes of a message, all parts [64 MiB] */
#define CRYPTCOM_MAX_PARTS 10011           /* count: parts of a message [1000] */
#define CRYPTCOM_MAX_QUEUED_PER_PEER 10012 /* count: messages waiting for a key [1000] */
#define CRYPTCOM_MAX_UNACKNOWLEDGED_PER_PEER 10013 /* count: kept for re-sealing [10000] */
#define CRYPTCOM_RETRANSMIT_AFTER 10014            /* ms: least wait before resending [2000] */
#define CRYPTCOM_DELIVERY_TIMEOUT 10015       /* ms: a message is given up after this [30000] */
#define CRYPTCOM_ACK_DELAY 10016              /* ms: acknowledgements wait at most this [20] */
#define CRYPTCOM_ACK_BATCH 10017              /* count: ...or until this many are pending [256] */
#define CRYPTCOM_KEY_REQUEST_RETRY 10018      /* ms: a key request unanswered is repeated [1000] */
#define CRYPTCOM_KEY_POOL_CAPACITY 10019      /* count: key pairs made ahead [1024] */
#define CRYPTCOM_KEY_POOL_LOW_WATERMARK 10020 /* count: refill below this [768] */
#define CRYPTCOM_KEY_POOL_THREADS 10021       /* count: key generation threads [1] */
#define CRYPTCOM_PREFETCH_KEYS 10022          /* int 0/1: ask for keys at connect/bind [1] */
#define CRYPTCOM_MAX_EVENTS 10023        /* count: events kept for cryptcom_event_next [10000] */
#define CRYPTCOM_MAX_PEERS 10024         /* count: routing paths kept [65536] */
#define CRYPTCOM_PEER_IDLE_TIMEOUT 10025 /* ms: a silent peer is forgotten, 0 never [600000] */
/* Hostile peers (docs/ARCHITECTURE.md, "What a hostile peer can still cost us"): */
#define CRYPTCOM_UNPROVEN_GRANT_RATE 10026      /* count: keys/s for unproven peers [256] */
#define CRYPTCOM_UNPROVEN_GRANT_BURST 10027     /* count: ...and its burst [256] */
#define CRYPTCOM_PEER_RESTART_INTERVAL 10028    /* ms: one restart per this [1000] */
#define CRYPTCOM_FAILED_OPEN_RATE 10029         /* count: failed opens/s a peer may cause [4] */
#define CRYPTCOM_FAILED_OPEN_BURST 10030        /* count: ...and their burst [16] */
#define CRYPTCOM_MAX_FAILED_OPENS_PER_KEY 10031 /* count: a key failing this often retires [3] */
#define CRYPTCOM_MAX_REJECTION_RESENDS 10032    /* count: re-seals of a message on rejections [3] */
#define CRYPTCOM_MAX_UNESTABLISHED_PER_CONNECTION 10033 /* count: unestablished paths [1024] */
/* Authenticated mode (README, "Authenticated mode"; docs/PROTOCOL.md §12). Set on the socket with
 * cryptcom_setsockopt before its first bind, connect or send (later: EINVAL); not on an options
 * object. Keys are 32 raw bytes or 40 characters of Z85 (41 with the terminating NUL), as
 * zmq_curve_keypair() and `cryptcom keygen` make them and ZeroMQ's ZMQ_CURVE_* options take them
 * (which keep their own meaning: CURVE on each connection, underneath). Read back with
 * cryptcom_getsockopt, a key is Z85 and its NUL when the buffer has 41 bytes or more, the raw
 * bytes when it has exactly 32, nothing (size 0) when unset. */
#define CRYPTCOM_IDENTITY_SECRET_KEY 10034 /* key, write-only: our identity: authenticated mode */
#define CRYPTCOM_IDENTITY_PUBLIC_KEY 10035 /* key: check of the secret key (set); ours (get) */
#define CRYPTCOM_SERVER_KEY 10036          /* key: the server's; this socket is then a client */
#define CRYPTCOM_ALLOW_KEY 10037 /* key, write-only: a client to allow (size 0: clear the list) */
#define CRYPTCOM_ACCEPT_ANY_IDENTITY 10038 /* int 0/1: accept every authenticated client [0] */
#define CRYPTCOM_IDENTITY_POLICY 10039     /* int: CRYPTCOM_POLICY_* [ALLOW_LIST] */
#define CRYPTCOM_ZAP 10040                 /* int 0/1: the ZAP handler decides about clients [0] */
#define CRYPTCOM_ZAP_DOMAIN 10041          /* string: ZAP on, with this domain [""] */
#define CRYPTCOM_ZAP_TIMEOUT 10042         /* int ms: a ZAP request unanswered refuses [1000] */
/* int 0/1: a client (DEALER, REQ) or worker (DEALER) of a key-blind cryptcom broker, set like
 * the options above (docs/PROTOCOL.md §11.7; README, "Worker pools behind a broker") [0] */
#define CRYPTCOM_THROUGH_BROKER 10043
/* Values of CRYPTCOM_IDENTITY_POLICY: which clients a server accepts once they have proven their
 * identity. ASK: each new identity is a CRYPTCOM_EVENT_IDENTITY_CHECK event, answered with
 * cryptcom_resolve_identity (with ZAP on, the handler answers instead and the policy reads ASK). */
#define CRYPTCOM_POLICY_ANY 0
#define CRYPTCOM_POLICY_ALLOW_LIST 1
#define CRYPTCOM_POLICY_ASK 2
/* Read-only, from cryptcom_getsockopt: */
#define CRYPTCOM_INSTANCE 10101      /* 16 bytes: this socket's protocol instance id */
#define CRYPTCOM_MESSAGES_SENT 10102 /* uint64_t: messages accepted by send so far */

/* Values of CRYPTCOM_FLOW and CRYPTCOM_CIPHER. */
#define CRYPTCOM_FLOW_DEFAULT (-1)    /* pull for REQ and REQ-style DEALER messages, else push */
#define CRYPTCOM_FLOW_PUSH 0          /* the receiver's offered keys only */
#define CRYPTCOM_FLOW_PULL 1          /* also attach a one-time key for the reply */
#define CRYPTCOM_CIPHER_AES_256_GCM 2 /* HPKE AEAD ids; AES only where the CPU has it */
#define CRYPTCOM_CIPHER_CHACHA20_POLY1305 3

typedef struct cryptcom_options_t cryptcom_options_t;

/* A set of options at their defaults; NULL (ENOMEM) if memory ran out. */
CRYPTCOM_EXPORT cryptcom_options_t* cryptcom_options_new(void);
/* Frees the object and sets *options to NULL; a NULL pointer or *options is ignored. */
CRYPTCOM_EXPORT void cryptcom_options_destroy(cryptcom_options_t** options);
CRYPTCOM_EXPORT int cryptcom_options_set(cryptcom_options_t* options, int option, const void* value,
                                         size_t size);
/* *size is the buffer's size on entry and the value's on return. */
CRYPTCOM_EXPORT int cryptcom_options_get(const cryptcom_options_t* options, int option, void* value,
                                         size_t* size);

/* ---- Sockets ---------------------------------------------------------------------------------*/

typedef struct cryptcom_socket_t cryptcom_socket_t;

/* A socket of ZeroMQ type `type` on the libzmq context `context`, which must outlive it. The
 * options object is only read; it may be destroyed afterwards. NULL and errno on failure. */
CRYPTCOM_EXPORT cryptcom_socket_t* cryptcom_socket(void* context, int type);
CRYPTCOM_EXPORT cryptcom_socket_t* cryptcom_socket_with_options(void* context, int type,
                                                                const cryptcom_options_t* options);

/* How many I/O threads the cryptcom sockets of `context` share: the context's ZMQ_IO_THREADS
 * (default 1), which also sizes libzmq's own pool. cryptcom_set_io_threads is
 * zmq_ctx_set(context, ZMQ_IO_THREADS, threads) after checking the count (1 to 256): set it before
 * the context's first socket. 0, or -1 and errno (EINVAL for a bad count, EFAULT for a NULL
 * context). cryptcom_get_io_threads returns the count, or -1 and errno (EFAULT). */
CRYPTCOM_EXPORT int cryptcom_set_io_threads(void* context, int threads);
CRYPTCOM_EXPORT int cryptcom_get_io_threads(void* context);

/* Lingers (ZMQ_LINGER, default 1000 ms) until what was sent is acknowledged, then stops the
 * socket. What it had to give up is reported as events: cryptcom_event_next() and
 * cryptcom_get_stats() keep working on a closed socket, every other call fails with ENOTSOCK.
 * Closing a closed socket does nothing. */
CRYPTCOM_EXPORT int cryptcom_close(cryptcom_socket_t* socket);
/* Closes the socket if it is open, frees it and sets *socket to NULL. */
CRYPTCOM_EXPORT int cryptcom_destroy(cryptcom_socket_t** socket);

/* The libzmq socket to poll: use it in zmq_pollitem_t.socket. It becomes
 * readable only when an application message is waiting. Do not send, receive, set options on or
 * close it directly. NULL (ENOTSOCK) for a closed socket. */
CRYPTCOM_EXPORT void* cryptcom_handle(cryptcom_socket_t* socket);

CRYPTCOM_EXPORT int cryptcom_bind(cryptcom_socket_t* socket, const char* endpoint);
CRYPTCOM_EXPORT int cryptcom_unbind(cryptcom_socket_t* socket, const char* endpoint);
CRYPTCOM_EXPORT int cryptcom_connect(cryptcom_socket_t* socket, const char* endpoint);
CRYPTCOM_EXPORT int cryptcom_disconnect(cryptcom_socket_t* socket, const char* endpoint);

/* ZeroMQ options pass through where they keep their meaning (timeouts, high-water marks,
 * ZMQ_RCVMORE, ZMQ_EVENTS, ZMQ_FD, ZMQ_TYPE, ZMQ_LINGER, routing id, reconnect, heartbeats, TCP
 * keepalive, CURVE/PLAIN as a second, hop-by-hop layer, ZMQ_LAST_ENDPOINT, ...); options that
 * would change framing or routing under the encryption (ZMQ_SUBSCRIBE, ZMQ_CONFLATE,
 * ZMQ_PROBE_ROUTER, ZMQ_REQ_RELAXED, ...) fail with EINVAL. cryptcom's own options (CRYPTCOM_*)
 * can be read here, and set only at construction (EINVAL here), except the authenticated-mode
 * ones (CRYPTCOM_IDENTITY_SECRET_KEY ... CRYPTCOM_ZAP_TIMEOUT) and CRYPTCOM_THROUGH_BROKER, which
 * are set here, before the socket's first bind, connect or send. */
CRYPTCOM_EXPORT int cryptcom_setsockopt(cryptcom_socket_t* socket, int option, const void* value,
                                        size_t size);
CRYPTCOM_EXPORT int cryptcom_getsockopt(cryptcom_socket_t* socket, int option, void* value,
                                        size_t* size);

/* Flags: ZMQ_DONTWAIT and ZMQ_SNDMORE (send), ZMQ_DONTWAIT (recv); other bits are EINVAL.
 * A multipart message (ZMQ_SNDMORE on all parts but the last) is sealed as one unit and arrives as
 * the same parts (ZMQ_RCVMORE, zmq_msg_more). Send returns once the message is queued. A message
 * above CRYPTCOM_MAX_MESSAGE_SIZE or CRYPTCOM_MAX_PARTS fails with EMSGSIZE at its last part and
 * none of it is sent. Sizes are returned as int, as zmq_send does (INT_MAX if larger). */
CRYPTCOM_EXPORT int cryptcom_send(cryptcom_socket_t* socket, const void* buf, size_t len,
                                  int flags);
/* Receives one part into buf; returns its full size, which is larger than len when it was
 * truncated (as zmq_recv). */
CRYPTCOM_EXPORT int cryptcom_recv(cryptcom_socket_t* socket, void* buf, size_t len, int flags);
/* As zmq_msg_send: on success the message is emptied; on failure it is left as it was. */
CRYPTCOM_EXPORT int cryptcom_msg_send(zmq_msg_t* msg, cryptcom_socket_t* socket, int flags);
/* As zmq_msg_recv: msg must be initialised (zmq_msg_init); its old content is released. */
CRYPTCOM_EXPORT int cryptcom_msg_recv(zmq_msg_t* msg, cryptcom_socket_t* socket, int flags);

/* ---- Events ----------------------------------------------------------------------------------
 * What the socket noticed besides application messages, oldest first: frames refused, messages
 * given up or refused, peers restarted. A message is named by its number on this socket: the
 * n-th message sent is n. */

#define CRYPTCOM_EVENT_FRAME_REJECTED 1        /* we refused a frame from the peer */
#define CRYPTCOM_EVENT_MESSAGE_UNDELIVERABLE 2 /* one of our messages was given up */
#define CRYPTCOM_EVENT_MESSAGE_REJECTED 3      /* the peer refused a frame of ours; re-sealed */
#define CRYPTCOM_EVENT_PEER_RESTARTED 4        /* the peer announced a new instance */
#define CRYPTCOM_EVENT_MESSAGE_REFUSED 5       /* one of our messages never left (a limit) */
#define CRYPTCOM_EVENT_MESSAGE_DROPPED 6       /* a message from the wire could not be delivered */
#define CRYPTCOM_EVENT_TRANSPORT_ERROR 7       /* the I/O thread stopped (context terminated) */
#define CRYPTCOM_EVENT_PEER_EVICTED 8          /* a routing path was evicted at a bound */
#define CRYPTCOM_EVENT_PEER_AUTHENTICATED 9    /* authenticated mode: a session was established */
#define CRYPTCOM_EVENT_PEER_REFUSED 10         /* an identity was refused, by us or the peer */
#define CRYPTCOM_EVENT_IDENTITY_CHECK 11       /* an identity awaits the application's verdict */

/* Reasons are the protocol's error codes (docs/PROTOCOL.md), stable numbers. */
#define CRYPTCOM_REASON_OK 0
#define CRYPTCOM_REASON_INVALID_ARGUMENT 1
#define CRYPTCOM_REASON_MALFORMED_FRAME 2
#define CRYPTCOM_REASON_UNSUPPORTED_VERSION 3
#define CRYPTCOM_REASON_UNKNOWN_KIND 4
#define CRYPTCOM_REASON_UNKNOWN_KEY 5
#define CRYPTCOM_REASON_EXPIRED_KEY 6
#define CRYPTCOM_REASON_REPLAYED_KEY 7
#define CRYPTCOM_REASON_AUTHENTICATION_FAILED 8
#define CRYPTCOM_REASON_LOW_ORDER_POINT 9
#define CRYPTCOM_REASON_LIMIT_EXCEEDED 10
#define CRYPTCOM_REASON_RATE_LIMITED 11
#define CRYPTCOM_REASON_OUT_OF_MEMORY 12
#define CRYPTCOM_REASON_UNAVAILABLE 13
#define CRYPTCOM_REASON_MESSAGE_TOO_LARGE 14
#define CRYPTCOM_REASON_UNDELIVERABLE 15
#define CRYPTCOM_REASON_INTERNAL 16
#define CRYPTCOM_REASON_ACCESS_DENIED 17           /* an identity was refused, by us or the peer */
#define CRYPTCOM_REASON_AUTHENTICATION_REQUIRED 18 /* one side runs authenticated mode, one not */

typedef struct cryptcom_event_t cryptcom_event_t;

/* The next event, to free with cryptcom_event_destroy; NULL with EAGAIN when there is none.
 * Works on a closed socket. */
CRYPTCOM_EXPORT cryptcom_event_t* cryptcom_event_next(cryptcom_socket_t* socket);
CRYPTCOM_EXPORT void cryptcom_event_destroy(cryptcom_event_t** event);
/* Accessors; on a NULL event they return -1 / 0 / NULL with errno EFAULT. */
CRYPTCOM_EXPORT int cryptcom_event_kind(const cryptcom_event_t* event);
CRYPTCOM_EXPORT int cryptcom_event_reason(const cryptcom_event_t* event);
/* Which of our messages it is about (1 = the first sent), 0 for none. */
CRYPTCOM_EXPORT uint64_t cryptcom_event_message(const cryptcom_event_t* event);
/* The 16-byte id of the one-time key concerned (all zero for none). */
CRYPTCOM_EXPORT const unsigned char* cryptcom_event_key_id(const cryptcom_event_t* event);
/* A sentence; never key material or plaintext. */
CRYPTCOM_EXPORT const char* cryptcom_event_detail(const cryptcom_event_t* event);
/* The peer's routing path as the application sees it (a ROUTER's routing id frames), frame by
 * frame; 0 frames for the directly connected peer of a DEALER, REQ or PAIR. */
CRYPTCOM_EXPORT size_t cryptcom_event_route_frames(const cryptcom_event_t* event);
CRYPTCOM_EXPORT const void* cryptcom_event_route_frame(const cryptcom_event_t* event, size_t index,
                                                       size_t* size);
/* Authenticated mode: the identity the event is about (a peer's public key) as 40 characters of
 * Z85 and a NUL; NULL with errno ENOENT when it names none (base mode, other events). */
CRYPTCOM_EXPORT const char* cryptcom_event_peer_key(const cryptcom_event_t* event);
/* Names ("frame_rejected", "unknown_key"); "unknown" for a number outside the lists above. */
CRYPTCOM_EXPORT const char* cryptcom_event_kind_name(int kind);
CRYPTCOM_EXPORT const char* cryptcom_reason_name(int reason);

/* ---- Identities (authenticated mode) ---------------------------------------------------------
 * A peer is named by its routing path: `frames` and `sizes` give its `count` frames, as a ROUTER
 * receives them in front of a message (its routing id) or an event names them
 * (cryptcom_event_route_frame); count 0 names the directly connected peer of a DEALER, REQ or PAIR
 * and, on a REP, the sender of the request being answered. */

/* Who the peer is: its authenticated public key as Z85 and a NUL into key_z85 (41 bytes), and the
 * User-Id a ZAP handler gave it into user_id (NUL-terminated, cut to user_id_size; may be NULL
 * when user_id_size is 0). Returns 1 when the key is known, 0 when it is not (no session with
 * the peer yet, an unknown route, base mode: key_z85 and user_id are then ""), -1 on error. */
CRYPTCOM_EXPORT int cryptcom_peer_identity(cryptcom_socket_t* socket, const void* const* frames,
                                           const size_t* sizes, size_t count, char* key_z85,
                                           char* user_id, size_t user_id_size);
/* Answers a CRYPTCOM_EVENT_IDENTITY_CHECK: whether the identity key_z85 (the event's
 * cryptcom_event_peer_key) may talk to us as the peer at the route. An answer for a check no
 * longer pending or for an unknown route is ignored. 0, or -1 on error. */
CRYPTCOM_EXPORT int cryptcom_resolve_identity(cryptcom_socket_t* socket, const void* const* frames,
                                              const size_t* sizes, size_t count,
                                              const char* key_z85, int accepted);

/* ---- Statistics ------------------------------------------------------------------------------
 * Totals of the socket: the protocol engine's counters, its gauges, the key pool's and the
 * transport's. Fields are only ever appended, all uint64_t: pass sizeof(cryptcom_stats_t) and an
 * older caller's smaller struct is filled as far as it goes. */
typedef struct cryptcom_stats_t {
  /* engine: keys */
  uint64_t keys_generated, keys_offered, keys_used, keys_expired, keys_destroyed, keys_received,
      keys_discarded;
  /* engine: messages and frames */
  uint64_t messages_sealed, messages_opened, messages_resent, messages_undeliverable,
      messages_acknowledged, frames_sent, frames_received, control_frames_sent, bytes_sent,
      bytes_received;
  /* engine: frames rejected, by reason */
  uint64_t rejected_malformed, rejected_unknown_key, rejected_expired_key, rejected_replay,
      rejected_authentication, rejected_too_large, rejected_rate_limited, peer_restarts,
      engine_events_dropped;
  /* engine: now */
  uint64_t live_keys, peer_keys, queued_messages, unacknowledged, locked_bytes;
  /* key pool */
  uint64_t pool_generated, pool_generated_inline, pool_taken, pool_ready, pool_fully_locked;
  /* transport */
  uint64_t messages_sent, messages_received, messages_refused, messages_dropped, wire_messages_sent,
      wire_messages_received, wire_bytes_sent, wire_bytes_received, wire_send_waits,
      wire_messages_discarded, peers_forgotten, events_dropped, peers;
  /* engine: how refused frames were answered, and the hostile-peer bounds (since 0.2) */
  uint64_t rejections_sent, frames_dropped, opens_refused, keys_retired, rejections_ignored,
      key_requests_trimmed;
  /* transport: routing paths evicted at a bound, and paths not established now (since 0.2) */
  uint64_t peers_evicted, peers_unestablished;
} cryptcom_stats_t;

/* size: a positive multiple of 8, at most sizeof(cryptcom_stats_t). Works on a closed socket
 * (the last snapshot). */
CRYPTCOM_EXPORT int cryptcom_get_stats(cryptcom_socket_t* socket, cryptcom_stats_t* stats,
                                       size_t size);
/* The fields by name, in struct order, for bindings: the number of fields, and the name of
 * field i (NULL past the end). */
CRYPTCOM_EXPORT size_t cryptcom_stats_count(void);
CRYPTCOM_EXPORT const char* cryptcom_stats_name(size_t index);

#ifdef __cplusplus
}
#endif

#endif /* CRYPTCOM_H_INCLUDED */
