// cryptcom::zmq::socket, the application's side: the pipe end, commands to the I/O thread, and
// the collection of multipart messages. See cryptcom/zmq/socket.hpp for the contract and
// io_loop.hpp for the I/O thread.
#include "cryptcom/zmq/socket.hpp"

#include <poll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "auth_options.hpp"
#include "handover.hpp"
#include "io_loop.hpp"
#include "io_pool.hpp"
#include "owned_socket.hpp"
#include "shared_state.hpp"
#include "socket_kind.hpp"

namespace cryptcom::zmq {

using clock_type = std::chrono::steady_clock;
using detail::io_loop;
using detail::role;

namespace {

std::atomic<std::uint64_t> pipe_counter{0};

// libzmq's default ZMQ_SNDHWM and ZMQ_RCVHWM, which the pipe's application end starts with.
constexpr int default_pipe_hwm = 1000;

// REQ send: at most this many turns on the application's thread (the first seals and
// sends; the others take what was still ready), before what is left goes to the I/O thread.
constexpr int max_send_turns = 4;

// Options the wire socket may be given: transport, identity and hop-by-hop security. Anything
// that changes which messages flow or how they are framed is refused.
bool wire_option(int option) {
  switch (option) {
    case ZMQ_AFFINITY:
    case ZMQ_ROUTING_ID:
    case ZMQ_CONNECT_ROUTING_ID:
    case ZMQ_SNDBUF:
    case ZMQ_RCVBUF:
    case ZMQ_RECONNECT_IVL:
    case ZMQ_RECONNECT_IVL_MAX:
    case ZMQ_BACKLOG:
    case ZMQ_MAXMSGSIZE:
    case ZMQ_IPV6:
    case ZMQ_IMMEDIATE:
    case ZMQ_TCP_KEEPALIVE:
    case ZMQ_TCP_KEEPALIVE_CNT:
    case ZMQ_TCP_KEEPALIVE_IDLE:
    case ZMQ_TCP_KEEPALIVE_INTVL:
    case ZMQ_TCP_MAXRT:
    case ZMQ_TOS:
    case ZMQ_LAST_ENDPOINT:
    case ZMQ_MECHANISM:
    case ZMQ_PLAIN_SERVER:
    case ZMQ_PLAIN_USERNAME:
    case ZMQ_PLAIN_PASSWORD:
    case ZMQ_CURVE_SERVER:
    case ZMQ_CURVE_PUBLICKEY:
    case ZMQ_CURVE_SECRETKEY:
    case ZMQ_CURVE_SERVERKEY:
    case ZMQ_ZAP_DOMAIN:
    case ZMQ_HANDSHAKE_IVL:
    case ZMQ_HEARTBEAT_IVL:
    case ZMQ_HEARTBEAT_TTL:
    case ZMQ_HEARTBEAT_TIMEOUT:
    case ZMQ_CONNECT_TIMEOUT:
    case ZMQ_ROUTER_HANDOVER:
    case ZMQ_SOCKS_PROXY:
    case ZMQ_BINDTODEVICE:
    case ZMQ_MULTICAST_HOPS:
      return true;
    default:
      return false;
  }
}

// Options of the pipe's application end: how the application's own calls block and poll.
bool app_option(int option) {
  switch (option) {
    case ZMQ_SNDTIMEO:
    case ZMQ_RCVTIMEO:
    case ZMQ_RCVMORE:
    case ZMQ_EVENTS:
    case ZMQ_FD:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void unsupported_option(int option) {
  throw error(EINVAL, "cryptcom::zmq::socket: ZeroMQ option " + std::to_string(option) +
                          " is not supported: it would change how messages are framed or "
                          "routed under the encryption (subscriptions, conflate, probe_router, "
                          "req_relaxed, raw/stream modes, ...) or has no meaning here");
}

[[noreturn]] void not_open() {
  throw error(ENOTSOCK, "cryptcom::zmq::socket: the socket is not open (closed or moved from)");
}

}  // namespace

struct socket::impl {
  ::zmq::socket_type type;
  detail::socket_kind kind;
  socket_options options;
  std::shared_ptr<detail::shared_state> shared;
  detail::owned_socket pipe;                    // the application's end of the data pipe
  std::shared_ptr<detail::io_pool> io_threads;  // runs the socket's io_loop on one of its threads
  guid instance;
  bool open = true;
  // A multipart message being collected, its part count and bytes as the engine counts them.
  std::vector<::zmq::message_t> pending;
  std::size_t pending_bytes = 0;
  std::uint64_t sent = 0;
  detail::auth_check auth_check;
  bool dropping = false;          // PUB/XPUB: the parts of a message being dropped whole
  std::vector<pollfd> drive_fds;  // a REQ's turns, kept to spare an allocation per call
  // REQ: a request was sent and its reply not yet received whole. Only then does recv turn the
  // loop; out of turn it fails with EFSM from the pipe at once, as libzmq's REQ does.
  bool awaiting_reply = false;

  impl(void* context, ::zmq::socket_type t, socket_options o)
      : type(t),
        kind(detail::kind_of(t)),
        options(std::move(o)),
        shared(std::make_shared<detail::shared_state>(options.max_events)) {
    const std::uint64_t n = pipe_counter.fetch_add(1, std::memory_order_relaxed);
    const std::string base = "inproc://cryptcom.zmq." + std::to_string(n);
    io_threads = detail::io_pool::of(context);
    if (!options.key_pool && options.key_pool_options == key_pool_options{}) {
      options.key_pool = io_threads->shared_keys();
    }
    auto loop = std::make_unique<io_loop>(context, kind, options, shared, base + ".data");
    instance = loop->instance();
    pipe = detail::owned_socket(context, kind.app_end);
    pipe.set(::zmq::sockopt::linger, 0);
    // libzmq (4.3) sizes an inproc pipe with the high-water marks both ends had when it
    // connected, and keeps those connect-time values as a fixed "boost" when either end changes
    // its marks later. The reader side then acknowledges only every (new + old + 1) / 2 messages
    // while the writer stops at new + 1: an application that lowers ZMQ_SNDHWM below ~1000
    // after construction (as everyone does: construct, then set) would wedge the pipe for good
    // once it fills. Connecting with marks of 1 makes the boost 1, so every later value is
    // consistent; libzmq's defaults are then restored through the same update path.
    pipe.set(::zmq::sockopt::sndhwm, 1);
    pipe.set(::zmq::sockopt::rcvhwm, 1);
    pipe.connect(base + ".data");
    pipe.set(::zmq::sockopt::sndhwm, default_pipe_hwm);
    pipe.set(::zmq::sockopt::rcvhwm, default_pipe_hwm);
    if (loop->turned_by_application()) shared->loop = loop.get();
    io_threads->least_loaded().adopt(std::move(loop), [s = shared] { s->mark_stopped(); });
  }

  // ---- REQ: the application's thread turns the I/O loop itself ----
  // A REQ's application waits for each reply anyway. Sealing the request and opening the reply on
  // its own thread, inside send and recv, spares the round trip a thread hand-off each way on
  // this side. The messages still travel through the pipe (within this thread), which keeps
  // ZeroMQ's REQ/REP alternation and the handle's pollability; outside these calls, and for
  // everything the application does not wait for (acknowledgements, key refills,
  // retransmission), the I/O thread turns the loop as for any socket. Both hold
  // shared->turn_mutex while they turn it. Not a REP: there the I/O thread computes the reply's
  // agreement while the request travels to the application and the reply back, which the
  // hand-offs would otherwise only replace (docs/ARCHITECTURE.md).
  bool turned_here() const noexcept { return kind.what == role::req; }

  // A whole message went into the pipe.
  void after_send() {
    if (!turned_here()) return;
    awaiting_reply = true;
    drive_once();
  }
  void before_recv(::zmq::recv_flags flags) {
    if (turned_here() && awaiting_reply) {
      drive_until_readable(flags == ::zmq::recv_flags::dontwait);
    }
  }
  void after_recv(bool more) {
    if (!more) awaiting_reply = false;
  }

  bool pipe_readable() { return (pipe.get(::zmq::sockopt::events) & ZMQ_POLLIN) != 0; }

  // send: one turn, which seals and sends what the pipe just took.
  void drive_once() {
    std::lock_guard turning(shared->turn_mutex);
    if (shared->loop == nullptr) return;  // gone (context terminated): the pipe alone serves
    // What the turn left ready (a wire message that came meanwhile) is taken now, on this
    // thread, rather than handed to the I/O thread: likely the reply the next recv waits for.
    for (int turns = 0; turns < max_send_turns; ++turns) {
      drive_fds.clear();
      if (!shared->loop->drive(clock_type::now(), turns == 0, drive_fds)) break;
    }
    shared->loop->hand_back(clock_type::now());
  }

  // recv: turns the loop until the pipe holds a message or the receive timeout (ZMQ_RCVTIMEO;
  // none with dontwait) has passed. The caller then receives from the pipe as before.
  void drive_until_readable(bool dontwait) {
    if (pipe_readable()) return;
    const int rcvtimeo = dontwait ? 0 : pipe.get(::zmq::sockopt::rcvtimeo);
    std::optional<time_point> deadline;
    if (rcvtimeo >= 0) deadline = clock_type::now() + std::chrono::milliseconds(rcvtimeo);
    std::vector<pollfd>& fds = drive_fds;
    for (;;) {
      std::optional<time_point> wake;
      {
        std::lock_guard turning(shared->turn_mutex);
        detail::io_loop* loop = shared->loop;
        if (loop == nullptr) return;
        const time_point now = clock_type::now();
        fds.clear();
        const bool ready = loop->drive(now, false, fds);
        // A loop that finished (context terminated) leaves the call to the pipe, which says so.
        if (loop->finished() || pipe_readable() || (deadline && now >= *deadline)) {
          loop->hand_back(now);
          return;
        }
        if (ready) continue;
        wake = loop->next_wake();
        loop->application_waits();
      }
      // The loop's sockets and the pipe, whichever the next message shows up in (the I/O
      // thread may take a wire message first; it then lands in the pipe).
      int fd = -1;
      std::size_t size = sizeof fd;
      if (zmq_getsockopt(pipe.handle(), ZMQ_FD, &fd, &size) == 0) fds.push_back({fd, POLLIN, 0});
      if (!wake || (deadline && *deadline < *wake)) wake = deadline;
      (void)::poll(fds.data(), fds.size(),
                   wake ? detail::poll_timeout_until(*wake, clock_type::now()) : -1);
    }
  }

  // Runs `fn` on the I/O thread and waits for it; its exception comes back here.
  void call(std::function<void(io_loop&)> fn) {
    detail::command c;
    c.run = std::move(fn);
    std::future<detail::command_failure> done = c.done.get_future();
    std::string why;
    if (!shared->post(std::move(c), &why)) throw error(ETERM, why);
    const detail::command_failure failure = done.get();
    switch (failure.what_type) {
      case detail::command_failure::type::none:
        return;
      case detail::command_failure::type::cryptcom:
        throw error(failure.num, failure.what);
      case detail::command_failure::type::zmq:
        throw ::zmq::error_t(failure.num);
      case detail::command_failure::type::other:
        throw std::runtime_error(failure.what);
    }
  }

  // The engine's view of a message of `parts` parts and `bytes` bytes as the application gives
  // it: a ROUTER's first frame is its routing id, not payload.
  void check_limits(std::size_t parts, std::size_t bytes, std::size_t first_size) const {
    std::size_t payload_parts = parts;
    std::size_t payload_bytes = bytes;
    if (kind.what == role::router && parts > 0) {
      payload_parts -= 1;
      payload_bytes -= first_size;
    }
    if (payload_parts > options.engine.max_parts) {
      throw error(EMSGSIZE, "cryptcom::zmq::socket: the message has more than max_parts (" +
                                std::to_string(options.engine.max_parts) +
                                ") parts; nothing of it was sent");
    }
    if (payload_bytes > options.engine.max_message_size) {
      throw error(EMSGSIZE, "cryptcom::zmq::socket: the message is larger than max_message_size (" +
                                std::to_string(options.engine.max_message_size) +
                                " bytes); nothing of it was sent");
    }
  }

  // Before the first part of a multipart message: will the pipe take the message?
  bool pipe_ready(::zmq::send_flags flags) {
    const int events = pipe.get(::zmq::sockopt::events);
    if (events & ZMQ_POLLOUT) return true;
    // A REQ or REP end never fills (one message at a time): it refuses because of its state.
    if (kind.what == role::req || kind.what == role::rep) throw ::zmq::error_t(EFSM);
    if ((flags & ::zmq::send_flags::dontwait) != ::zmq::send_flags::none) return false;
    const int timeout = pipe.get(::zmq::sockopt::sndtimeo);
    ::zmq::pollitem_t item{pipe.handle(), 0, ZMQ_POLLOUT, 0};
    ::zmq::poll(&item, 1, std::chrono::milliseconds(timeout));
    return (item.revents & ZMQ_POLLOUT) != 0;
  }

  void close() noexcept {
    if (!open) return;
    open = false;
    pending.clear();
    try {
      detail::command c;
      c.run = [](io_loop& io) { io.begin_close(); };
      std::string why;
      (void)shared->post(std::move(c), &why);
    } catch (...) {
    }
    shared->wait_stopped();
    try {
      pipe.close();
    } catch (...) {
    }
    io_threads.reset();  // the last socket of a context joins its I/O threads
  }
};

socket::socket() noexcept = default;

socket::socket(::zmq::context_t& context, ::zmq::socket_type type, socket_options options)
    : socket(context.handle(), type, std::move(options)) {}

socket::socket(void* context, ::zmq::socket_type type, socket_options options)
    : impl_(std::make_unique<impl>(context, type, std::move(options))) {}

socket::~socket() { close(); }

socket::socket(socket&&) noexcept = default;

socket& socket::operator=(socket&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

socket::operator bool() const noexcept { return impl_ && impl_->open; }

void* socket::handle() const noexcept {
  return (impl_ && impl_->open) ? impl_->pipe.handle() : nullptr;
}

socket::operator ::zmq::socket_ref() const noexcept {
  return ::zmq::socket_ref(::zmq::from_handle, handle());
}

void socket::bind(const std::string& endpoint) {
  if (!*this) not_open();
  impl_->call([&](io_loop& io) { io.bind(endpoint); });
}

void socket::unbind(const std::string& endpoint) {
  if (!*this) not_open();
  impl_->call([&](io_loop& io) { io.unbind(endpoint); });
}

void socket::connect(const std::string& endpoint) {
  if (!*this) not_open();
  impl_->call([&](io_loop& io) { io.connect(endpoint); });
}

void socket::disconnect(const std::string& endpoint) {
  if (!*this) not_open();
  impl_->call([&](io_loop& io) { io.disconnect(endpoint); });
}

void socket::close() noexcept {
  if (impl_) impl_->close();
}

::zmq::send_result_t socket::send(::zmq::const_buffer buf, ::zmq::send_flags flags) {
  ::zmq::message_t msg(buf.data(), buf.size());
  return send(msg, flags);
}

::zmq::send_result_t socket::send(::zmq::message_t& msg, ::zmq::send_flags flags) {
  if (!*this) not_open();
  auto& im = *impl_;
  if (im.kind.what == role::pull || im.kind.what == role::sub) {
    // As libzmq's PULL and SUB (the pipe end would say so too, but a multipart send would first
    // wait for room it never gets).
    throw error(ENOTSUP, std::string("cryptcom::zmq::socket: a ") +
                             (im.kind.what == role::pull ? "PULL" : "SUB") + " socket cannot send");
  }
  const bool more = (flags & ::zmq::send_flags::sndmore) != ::zmq::send_flags::none;
  const std::size_t size = msg.size();
  if (im.kind.what == role::xsub && more) {
    // libzmq's XSUB reads each part on its own (a subscription, or a message passed upstream),
    // and cryptcom's subscribers send nothing upstream but subscriptions (§11.8).
    throw error(EINVAL,
                "cryptcom::zmq::socket: an XSUB sends single-part subscription messages (01 or "
                "00 and a topic); a multipart message is refused, nothing of it was sent");
  }
  if (im.kind.publishes()) {
    // A PUB never blocks: a message the pipe to the I/O thread has no room for is dropped
    // whole (counted in stats().transport.messages_dropped), as libzmq's PUB drops at its
    // high-water mark; the send still succeeds.
    if (im.pending.empty() && !im.dropping)
      im.dropping = !im.pipe_ready(::zmq::send_flags::dontwait);
    if (im.dropping) {
      if (!more) {
        im.dropping = false;
        im.shared->publisher_drops.fetch_add(1, std::memory_order_relaxed);
      }
      return size;
    }
    flags = flags | ::zmq::send_flags::dontwait;
  }
  if (im.pending.empty() && !more) {
    im.check_limits(1, size, size);
    detail::handover_release();
    auto r = im.pipe.send(msg, flags);
    if (r) {
      ++im.sent;
      im.after_send();
    }
    return r;
  }
  if (im.pending.empty()) {
    if (!im.pipe_ready(flags)) return {};
    im.pending_bytes = 0;
  }
  const std::size_t first_size = im.pending.empty() ? size : im.pending.front().size();
  try {
    im.check_limits(im.pending.size() + 1, im.pending_bytes + size, first_size);
  } catch (...) {
    im.pending.clear();
    throw;
  }
  ::zmq::message_t part;
  part.move(msg);
  im.pending.push_back(std::move(part));
  im.pending_bytes += size;
  if (more) return size;

  // The last part: the whole message goes into the pipe at once. The pipe had room for it at
  // the first part and only this thread writes to it, so this does not block.
  detail::handover_release();
  const auto mode = flags & ::zmq::send_flags::dontwait;
  const std::size_t n = im.pending.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto f = i + 1 < n ? (mode | ::zmq::send_flags::sndmore) : mode;
    if (!im.pipe.send(im.pending[i], f)) {
      // Cannot happen after pipe_ready(); if it does at the first part, nothing was sent.
      im.pending.clear();
      return {};
    }
  }
  im.pending.clear();
  ++im.sent;
  im.after_send();
  return size;
}

::zmq::recv_result_t socket::recv(::zmq::message_t& msg, ::zmq::recv_flags flags) {
  if (!*this) not_open();
  auto& im = *impl_;
  im.before_recv(flags);
  auto r = im.pipe.recv(msg, flags);
  if (r) {
    detail::handover_acquire();
    im.after_recv(msg.more());
  }
  return r;
}

::zmq::recv_buffer_result_t socket::recv(::zmq::mutable_buffer buf, ::zmq::recv_flags flags) {
  if (!*this) not_open();
  auto& im = *impl_;
  im.before_recv(flags);
  auto r = im.pipe.recv(buf, flags);
  if (r) {
    detail::handover_acquire();
    if (im.turned_here()) im.after_recv(im.pipe.get(::zmq::sockopt::rcvmore) != 0);
  }
  return r;
}

void socket::set_option(int option, const void* value, std::size_t size) {
  if (!*this) not_open();
  auto& im = *impl_;
  if (detail::is_auth_option(option) || option == sockopt::through_broker_id) {
    // Applied to copies, committed once the I/O thread took them (it refuses after bind/connect).
    // through_broker is fixed as the identity options are: the engine is made anew with the hello
    // that announces it (docs/PROTOCOL.md §11.7).
    socket_options next = im.options;
    detail::auth_check check = im.auth_check;
    if (option == sockopt::through_broker_id) {
      if (size != sizeof(int)) throw ::zmq::error_t(EINVAL);
      int on = 0;
      std::memcpy(&on, value, sizeof on);
      next.through_broker = on != 0;
    } else {
      detail::set_auth_option(next, check, option, value, size);
    }
    guid fresh;
    im.call([&](io_loop& io) {
      io.configure_auth(next);
      fresh = io.instance();
    });
    im.options = std::move(next);
    im.auth_check = check;
    im.instance = fresh;
    return;
  }
  if (option == ZMQ_SNDTIMEO || option == ZMQ_RCVTIMEO) {
    if (zmq_setsockopt(im.pipe.handle(), option, value, size) != 0) throw ::zmq::error_t();
    return;
  }
  if (option == ZMQ_SNDHWM || option == ZMQ_RCVHWM) {
    if (zmq_setsockopt(im.pipe.handle(), option, value, size) != 0) throw ::zmq::error_t();
    im.call([&](io_loop& io) { io.set_wire_option(option, value, size); });
    return;
  }
  if (option == ZMQ_LINGER) {
    if (size != sizeof(int)) throw ::zmq::error_t(EINVAL);
    int ms = 0;
    std::memcpy(&ms, value, sizeof ms);
    im.call([&](io_loop& io) { io.set_linger(ms); });
    return;
  }
  if ((option == ZMQ_SUBSCRIBE || option == ZMQ_UNSUBSCRIBE) && im.kind.what == role::sub) {
    // The I/O thread filters what it delivers and tells the publishers, sealed
    // (docs/PROTOCOL.md §11.8).
    const std::string topic(static_cast<const char*>(value), size);
    im.call([&](io_loop& io) { io.subscribe(topic, option == ZMQ_SUBSCRIBE); });
    return;
  }
  if (!wire_option(option)) unsupported_option(option);
  im.call([&](io_loop& io) { io.set_wire_option(option, value, size); });
}

void socket::get_option(int option, void* value, std::size_t* size) const {
  if (!*this) not_open();
  auto& im = *impl_;
  if (option == sockopt::through_broker_id) {
    if (*size < sizeof(int)) throw ::zmq::error_t(EINVAL);
    const int on = im.options.through_broker ? 1 : 0;
    std::memcpy(value, &on, sizeof on);
    *size = sizeof on;
    return;
  }
  if (detail::is_auth_option(option)) {
    detail::get_auth_option(im.options, option, value, size);
    return;
  }
  if (option == ZMQ_TYPE) {
    if (*size < sizeof(int)) throw ::zmq::error_t(EINVAL);
    const int t = static_cast<int>(im.type);
    std::memcpy(value, &t, sizeof t);
    *size = sizeof t;
    return;
  }
  if (app_option(option) || option == ZMQ_SNDHWM || option == ZMQ_RCVHWM) {
    if (zmq_getsockopt(im.pipe.handle(), option, value, size) != 0) throw ::zmq::error_t();
    return;
  }
  if (option == ZMQ_LINGER) {
    if (*size < sizeof(int)) throw ::zmq::error_t(EINVAL);
    int ms = 0;
    im.call([&](io_loop& io) { ms = io.linger(); });
    std::memcpy(value, &ms, sizeof ms);
    *size = sizeof ms;
    return;
  }
  if (!wire_option(option)) unsupported_option(option);
  im.call([&](io_loop& io) { io.get_wire_option(option, value, size); });
}

std::optional<event> socket::poll_event() {
  if (!impl_) return std::nullopt;
  return impl_->shared->pop_event();
}

socket_stats socket::stats() const {
  if (!impl_) return {};
  if (impl_->open) {
    socket_stats s;
    try {
      impl_->call([&](io_loop& io) { s = io.stats(); });
      return s;
    } catch (const ::zmq::error_t&) {
      // The I/O thread stopped (context terminated): its last snapshot follows.
    }
  }
  return impl_->shared->final_stats().value_or(socket_stats{});
}

const guid& socket::instance() const noexcept {
  static const guid none;
  return impl_ ? impl_->instance : none;
}

::zmq::socket_type socket::type() const noexcept {
  return impl_ ? impl_->type : ::zmq::socket_type::pair;
}

std::uint64_t socket::messages_sent() const noexcept { return impl_ ? impl_->sent : 0; }

identity_info socket::peer_identity(const std::vector<std::string>& route) const {
  if (!*this) not_open();
  identity_info out;
  impl_->call([&](io_loop& io) { out = io.peer_identity(route); });
  return out;
}

void socket::resolve_identity(const std::vector<std::string>& route, const public_key& key,
                              bool accepted) {
  if (!*this) not_open();
  impl_->call([&](io_loop& io) { io.resolve_identity(route, key, accepted); });
}

}  // namespace cryptcom::zmq
