// cryptcom::zmq::socket: a drop-in for cppzmq's zmq::socket_t whose wire carries only one-time-key
// ciphertext (HPKE, RFC 9180; every message sealed to a fresh X25519 key destroyed after one use).
//
//   zmq::socket_t           s(ctx, zmq::socket_type::req);            // before
//   cryptcom::zmq::socket   s(ctx, zmq::socket_type::req);            // after
//
// The rest of the application is unchanged: bind/connect, set/get of sockopts, send/recv with
// send_flags/recv_flags and their std::optional results, multipart with sndmore/rcvmore and
// message_t::more(), send_multipart/recv_multipart, zmq_poll on handle() (and zmq::poller_t,
// a cppzmq draft API, where libzmq is built with drafts), ZMQ_RCVTIMEO/ZMQ_SNDTIMEO, EFSM on
// REQ/REP misuse, EAGAIN for "nothing yet".
//
// Socket types. Full support: REQ, REP, DEALER, ROUTER, PAIR, in the pairs REQ-REP, REQ-ROUTER,
// DEALER-REP, DEALER-ROUTER, DEALER-DEALER, ROUTER-ROUTER and PAIR-PAIR, directly or through
// ROUTER/DEALER brokers (zmq_proxy), which forward the ciphertext without being able to read it;
// and PUSH-PULL, connected directly: a PUSH round-robins over its connected PULLs, offering each
// message only to a PULL whose one-time keys it holds (key-aware), and seals it for that PULL;
// a PULL fair-queues (docs/PROTOCOL.md §11.5; both have a ROUTER on the wire, which is why no
// plain streamer device can sit between them). A PULL's send and a PUSH's recv fail with ENOTSUP.
// PUB-SUB and XPUB-XSUB, directly or through zmq_proxy(XSUB, XPUB): each subscriber gets its own
// sealed copy of each matching message (docs/PROTOCOL.md §11.8). Both ends must be cryptcom
// sockets. STREAM, RADIO, DISH and the draft types are refused at construction with
// cryptcom::zmq::error (a zmq::error_t, num() == EINVAL) whose what() gives the reason.
//
// How it works. The socket's protocol work runs on an I/O thread of cryptcom's that owns the real
// ZeroMQ socket ("the wire socket") and the protocol engine; the sockets of one context share
// those threads, one by default (cryptcom/zmq/io_threads.hpp). The application talks to that
// thread through an inproc pipe whose application end is what handle() returns, so:
//  - progress never depends on the application calling in: key requests are answered, keys
//    refilled, acknowledgements sent, messages retransmitted or given up while the application
//    sleeps, computes or sits in zmq_poll;
//  - handle() becomes readable only for application messages: the protocol's own frames never
//    wake a poll, so recv with dontwait after a poll always has a message;
//  - REQ and REP alternation holds exactly: the application end of the pipe is a real REQ (or
//    REP) socket, so libzmq itself enforces it (EFSM), while the wire socket under a REQ is a
//    DEALER and under a REP a ROUTER, free to carry the protocol's frames in any order. A REQ's
//    request and a REP's reply carry their empty delimiter part inside the ciphertext, so both
//    interoperate with each other, with ROUTER and DEALER, and through brokers.
// A REQ's application waits for each reply anyway, so its own thread does the work of its calls:
// send seals and sends the request before it returns (holding a key of the server, as in steady
// state), and a recv that has to wait for the reply waits on the socket itself and opens it,
// sparing the round trip a thread hand-off each way. The I/O thread keeps everything else
// moving, as for any socket (and all of it for an application that polls handle() instead).
// Wire mapping (docs/PROTOCOL.md §11). Every wire message is the routing frames a ROUTER hop
// needs (none between directly connected peers) followed by exactly one engine frame; no empty
// frame ever goes on the wire, and empty frames received in front of an engine frame are
// ignored. The application's multipart message is one engine message: all its parts after the
// routing path, empty ones included, travel inside the ciphertext and come out as the same
// parts. A ROUTER's (or REP's) peer is the routing path, so a ROUTER keeps one engine peer per
// client, also per client behind a broker; on recv the application sees the routing id frame(s)
// and then the message (from a REQ: the empty delimiter, then the body, as with a plain REQ) and
// gives the routing frames back on send. To split an outgoing ROUTER or DEALER message into
// routing path and message, the longest routing path already seen from the wire that prefixes
// the message is taken (a ROUTER's unknown first frame is taken as a new routing id); routing ids
// are never empty, so an empty frame is always part of the message. REQ and REP strip the empty
// part in front of a reply or request they receive (when more parts follow it).
// Peers are bounded (socket_options::max_peers, max_unestablished_per_connection): a new path
// evicts an old one rather than being refused; see socket_options.hpp.
// Several servers: a DEALER or REQ connected to several endpoints gets a wire DEALER per endpoint
// (docs/PROTOCOL.md §11.6); cryptcom chooses the server of each message (key-aware round robin,
// as PUSH) and seals it to that server's key. A plain broker that load-balances one client over
// several workers would hand a message sealed to one worker's key to another, which cannot open
// it: for a pool of workers use cryptcom::zmq::broker (cryptcom/zmq/broker.hpp, §11.7), or a
// zmq_proxy with one worker per backend.
//
// Blocking semantics.
//  - send: the message is handed to the I/O thread through the pipe (REQ: sealed and sent by
//    this thread before send returns); send returns as soon as it is queued, like
//    zmq::socket_t::send. The parts of a multipart message are collected until
//    the last one, so that size and part limits are checked before anything leaves (error
//    EMSGSIZE: nothing of the message is sent); whether the pipe has room is checked on the first
//    part, so EAGAIN (dontwait, ZMQ_SNDTIMEO) and EFSM come on the first part, as with ZeroMQ.
//    The engine seals it at once if it holds a key of the peer, else it queues it and asks for
//    keys. If the peer's queue is full (no keys for a while) the I/O thread stops taking messages
//    (a ROUTER instead refuses the one message, as a ROUTER drops on a full peer), the pipe
//    fills, and send blocks up to ZMQ_SNDTIMEO, or returns EAGAIN with dontwait.
//  - recv: blocks up to ZMQ_RCVTIMEO for the next application message; dontwait returns empty
//    (EAGAIN) when there is none.
//  - A message that cannot be delivered (no key or no acknowledgement within
//    options.engine.delivery_timeout, the peer restarted, the socket closed first) is never
//    dropped silently: poll_event() reports it with its number. A REQ whose request was reported
//    so gets no reply: bound its recv with ZMQ_RCVTIMEO, as the lazy pirate pattern does with
//    plain ZeroMQ. Acknowledgement happens when the receiving engine opens a message; what a
//    killed receiver had opened and its application not yet read dies with it.
//  - close() and the destructor linger (socket_options::linger, ZMQ_LINGER) until what was sent
//    is acknowledged, then report what is still pending.
//
// Options through set()/get(): ZMQ_SNDTIMEO, ZMQ_RCVTIMEO, ZMQ_RCVMORE, ZMQ_EVENTS and ZMQ_FD act
// on the application end of the pipe; ZMQ_SNDHWM and ZMQ_RCVHWM on the pipe and the wire socket;
// ZMQ_LINGER as above; ZMQ_TYPE reads the type the socket was made with; transport, security and
// identity options (routing id, reconnect intervals, heartbeats, TCP keepalive, IPv6, buffers,
// CURVE/PLAIN/ZAP as a second, hop-by-hop layer, last endpoint, ...) go to the wire socket. Options
// that would break the protocol (subscriptions, conflate, probe_router, req_relaxed, ...) throw
// cryptcom::zmq::error with EINVAL. The wire socket's ZMQ_MAXMSGSIZE starts at the largest frame
// the engine accepts, so a peer cannot make libzmq allocate more.
//
// Ownership and threads: like zmq::socket_t, move-only and used by one thread at a time (a
// socket may move to another thread with a memory barrier, e.g. thread start). The context must
// outlive the socket. close() is idempotent. Messages returned by recv are owned by the caller.
// Conversion to zmq::socket_ref gives the pipe's application end: zmq::poller_t, zmq_poll and even
// zmq::send_multipart on it work and still go through the encryption; only the size checks of
// send() and the ThreadSanitizer annotations described in src/handover.hpp are skipped that way.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "cryptcom/types.hpp"
#include "cryptcom/zmq/error.hpp"
#include "cryptcom/zmq/event.hpp"
#include "cryptcom/zmq/socket_options.hpp"
#include "cryptcom/zmq/sockopt.hpp"

namespace cryptcom::zmq {

class socket {
 public:
  // A socket that is not open (operator bool is false), as zmq::socket_t().
  socket() noexcept;
  // Throws cryptcom::zmq::error (EINVAL) for an unsupported type or inconsistent options, and
  // zmq::error_t for what libzmq refuses (e.g. ETERM for a terminated context).
  socket(::zmq::context_t& context, ::zmq::socket_type type, socket_options options = {});
  // The same on a libzmq context known by its handle (zmq_ctx_new(), czmq's zsys_init(), pyzmq's
  // Context.underlying), which the socket does not own: it must outlive the socket. A null or
  // invalid handle throws zmq::error_t (EFAULT), a terminated context ETERM.
  socket(void* context, ::zmq::socket_type type, socket_options options = {});
  ~socket();
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;
  socket(socket&&) noexcept;
  socket& operator=(socket&&) noexcept;

  explicit operator bool() const noexcept;
  // The application end of the pipe: poll it like any ZeroMQ socket.
  void* handle() const noexcept;
  operator ::zmq::socket_ref() const noexcept;  // NOLINT: implicit, as zmq::socket_t's

  // Executed by the I/O thread on the wire socket; libzmq's errors come back as zmq::error_t.
  void bind(const std::string& endpoint);
  void bind(const char* endpoint) { bind(std::string(endpoint)); }
  void unbind(const std::string& endpoint);
  void unbind(const char* endpoint) { unbind(std::string(endpoint)); }
  void connect(const std::string& endpoint);
  void connect(const char* endpoint) { connect(std::string(endpoint)); }
  void disconnect(const std::string& endpoint);
  void disconnect(const char* endpoint) { disconnect(std::string(endpoint)); }
  // Lingers (see above), stops the I/O thread, closes everything. Idempotent, never throws.
  void close() noexcept;

  ::zmq::send_result_t send(::zmq::const_buffer buf, ::zmq::send_flags flags = {});
  // On success `msg` is left empty, as with zmq::socket_t; on EAGAIN it is left as it was.
  ::zmq::send_result_t send(::zmq::message_t& msg, ::zmq::send_flags flags);
  ::zmq::send_result_t send(::zmq::message_t&& msg, ::zmq::send_flags flags) {
    return send(msg, flags);
  }
  ::zmq::recv_result_t recv(::zmq::message_t& msg, ::zmq::recv_flags flags = {});
  ::zmq::recv_buffer_result_t recv(::zmq::mutable_buffer buf, ::zmq::recv_flags flags = {});

  // cppzmq's typed options: socket.set(zmq::sockopt::rcvtimeo, 500), socket.get(...).
  template <int Opt, class T, bool BoolUnit>
  void set(::zmq::sockopt::integral_option<Opt, T, BoolUnit>, const T& val) {
    static_assert(std::is_integral<T>::value, "T must be integral");
    set_option(Opt, &val, sizeof val);
  }
  template <int Opt, class T>
  void set(::zmq::sockopt::integral_option<Opt, T, true>, bool val) {
    static_assert(std::is_integral<T>::value, "T must be integral");
    T rep_val = val;
    set_option(Opt, &rep_val, sizeof rep_val);
  }
  template <int Opt, int NullTerm>
  void set(::zmq::sockopt::array_option<Opt, NullTerm>, const char* buf) {
    set_option(Opt, buf, std::strlen(buf));
  }
  template <int Opt, int NullTerm>
  void set(::zmq::sockopt::array_option<Opt, NullTerm>, ::zmq::const_buffer buf) {
    set_option(Opt, buf.data(), buf.size());
  }
  template <int Opt, int NullTerm>
  void set(::zmq::sockopt::array_option<Opt, NullTerm>, const std::string& buf) {
    set_option(Opt, buf.data(), buf.size());
  }
  template <int Opt, int NullTerm>
  void set(::zmq::sockopt::array_option<Opt, NullTerm>, std::string_view buf) {
    set_option(Opt, buf.data(), buf.size());
  }
  template <int Opt, class T, bool BoolUnit>
  [[nodiscard]] T get(::zmq::sockopt::integral_option<Opt, T, BoolUnit>) const {
    static_assert(std::is_scalar<T>::value, "T must be scalar");
    T val{};
    std::size_t size = sizeof val;
    get_option(Opt, &val, &size);
    return val;
  }
  template <int Opt, int NullTerm>
  [[nodiscard]] std::size_t get(::zmq::sockopt::array_option<Opt, NullTerm>,
                                ::zmq::mutable_buffer buf) const {
    std::size_t size = buf.size();
    get_option(Opt, buf.data(), &size);
    return size;
  }
  template <int Opt, int NullTerm>
  [[nodiscard]] std::string get(::zmq::sockopt::array_option<Opt, NullTerm>,
                                std::size_t init_size = 1024) const {
    std::string str(init_size, '\0');
    std::size_t size = str.size();
    get_option(Opt, str.data(), &size);
    if constexpr (NullTerm == 1) {
      if (size > 0 && str[size - 1] == '\0') --size;
    } else if constexpr (NullTerm == 2) {
      if (size == 41 && str[size - 1] == '\0') --size;
    }
    str.resize(size);
    return str;
  }

  // The next event (oldest first), or nothing. Readable after close(): what close() had to give
  // up is reported there.
  std::optional<event> poll_event();
  // The engine's counters and the transport's; a consistent snapshot taken by the I/O thread
  // (after close(): the last one).
  socket_stats stats() const;
  // This socket's protocol instance id (its engine's), as peers see it.
  const cryptcom::guid& instance() const noexcept;
  ::zmq::socket_type type() const noexcept;
  // Messages accepted by send() so far: the number the next event about the latest one carries.
  std::uint64_t messages_sent() const noexcept;

  // Authenticated mode (README, "Authenticated mode"; options in socket_options::engine.auth or
  // through set() with cryptcom::zmq::sockopt). Who the peer at `route` is: its routing frames as
  // recv() hands them over in front of a message (a ROUTER's routing id, the envelope a DEALER
  // behind a broker sees) or as an event names them; empty for the directly connected peer of a
  // DEALER, REQ or PAIR, and on a REP for the sender of the request being answered (between
  // recv() of a request and send() of its reply). `key` is the peer's authenticated public key
  // (unset before its session is established, for an unknown route, and in base mode);
  // `user_id` the User-Id the ZAP handler gave that key. Asks the I/O thread; a few microseconds.
  identity_info peer_identity(const std::vector<std::string>& route = {}) const;
  // Answers an event_kind::identity_check (policy ask without ZAP): whether the identity `key`
  // may talk to us as the peer at `route` (the event's route and peer_key). Until it is answered
  // the peer waits (its messages queue on its side); an answer for a check no longer pending (the
  // peer went, or a newer handshake replaced it) or for an unknown route is ignored. At most
  // engine.auth.max_pending_checks identities wait at once; beyond it new ones are refused
  // (peer_refused, rate_limited). With ZAP on, the transport answers every check itself.
  void resolve_identity(const std::vector<std::string>& route, const cryptcom::public_key& key,
                        bool accepted);

  // Untyped options, as zmq_setsockopt/zmq_getsockopt take them (for bindings and for options
  // cppzmq has no zmq::sockopt for); the typed set()/get() above call these. Same rules and
  // errors; *size is the buffer's size on entry and the value's on return.
  void set_option(int option, const void* value, std::size_t size);
  void get_option(int option, void* value, std::size_t* size) const;

 private:
  struct impl;

  std::unique_ptr<impl> impl_;
};

static_assert(std::is_nothrow_move_constructible_v<socket>);
static_assert(std::is_nothrow_move_assignable_v<socket>);

// cppzmq's send_multipart/recv_multipart for cryptcom sockets (found by argument-dependent lookup
// when called unqualified), with cppzmq's contracts: send_multipart returns the number of parts
// sent, or nothing (EAGAIN, then nothing was sent); recv_multipart the number of parts received,
// or nothing.
template <class Range>
::zmq::send_result_t send_multipart(socket& s, Range&& msgs,
                                    ::zmq::send_flags flags = ::zmq::send_flags::none) {
  using std::begin;
  using std::end;
  auto it = begin(msgs);
  const auto end_it = end(msgs);
  std::size_t count = 0;
  while (it != end_it) {
    const auto next = std::next(it);
    const auto part_flags =
        flags | (next == end_it ? ::zmq::send_flags::none : ::zmq::send_flags::sndmore);
    ::zmq::send_result_t r;
    if constexpr (std::is_same_v<std::decay_t<decltype(*it)>, ::zmq::message_t>) {
      r = s.send(*it, part_flags);  // consumes the message, as cppzmq's send_multipart does
    } else {
      r = s.send(::zmq::const_buffer(it->data(), it->size()), part_flags);
    }
    if (!r) return {};
    ++count;
    it = next;
  }
  return count;
}

template <class OutputIt>
[[nodiscard]] ::zmq::recv_result_t recv_multipart(
    socket& s, OutputIt out, ::zmq::recv_flags flags = ::zmq::recv_flags::none) {
  std::size_t count = 0;
  while (true) {
    ::zmq::message_t msg;
    if (!s.recv(msg, flags))
      return {};  // parts of one message arrive together: only the first waits
    ++count;
    const bool more = msg.more();
    *out++ = std::move(msg);
    if (!more) break;
  }
  return count;
}

}  // namespace cryptcom::zmq
