// The I/O thread of a cryptcom socket; see io_loop.hpp.
#include "io_loop.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <string_view>
#include <utility>
#include <zmq_addon.hpp>

#include "auth_options.hpp"
#include "cryptcom/frame_header.hpp"
#include "cryptcom/zmq/error.hpp"
#include "handover.hpp"
#include "wire_message.hpp"

namespace cryptcom::zmq::detail {
namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr peer_number direct_peer = 1;
// Messages read from one side per iteration before the other side gets its turn.
constexpr int batch = 256;
// Wire messages waiting for room in the wire socket before the oldest are discarded.
constexpr std::size_t max_wire_backlog = 10000;
// How often a closing socket checks whether everything it sent was acknowledged.
constexpr milliseconds close_poll{5};
// Routing frames accepted in front of an engine frame: more is not a ZeroMQ envelope.
constexpr std::size_t max_envelope_frames = 32;
// docs/PROTOCOL.md §11.7: the hello's feature bit of an endpoint behind a key-blind broker, and
// the first byte of the broker's gone notice (no cryptcom frame starts with it: a frame is a
// msgpack array).
constexpr std::uint64_t broker_notices_feature = 1;
constexpr unsigned char gone_notice_tag = 0x00;

bool is_broker_notice(const ::zmq::message_t& frame) {
  if (frame.size() == 0) return true;
  return *static_cast<const unsigned char*>(frame.data()) == gone_notice_tag &&
         (frame.size() - 1) % guid_size == 0;
}

void check_through_broker(const socket_kind& kind, const socket_options& o) {
  if (o.through_broker && kind.what != role::dealer && kind.what != role::req) {
    throw error(EINVAL,
                "cryptcom::zmq::socket: through_broker is for the clients (DEALER or REQ) and the "
                "workers (DEALER) of a key-blind broker");
  }
}

cryptcom::options engine_options(const socket_kind& kind, const socket_options& o) {
  cryptcom::options e = effective_engine_options(o);
  e.default_flow = o.flow.value_or(default_flow(kind.what, false));
  if (o.through_broker) e.hello_features |= broker_notices_feature;
  return e;
}

std::shared_ptr<key_pool> pool_for(const socket_options& o) {
  if (o.key_pool) return o.key_pool;
  return std::shared_ptr<key_pool>(make_key_pool(o.key_pool_options));
}

std::string_view view_of(const ::zmq::message_t& m) {
  return {static_cast<const char*>(m.data()), m.size()};
}

event_kind kind_of_engine_event(cryptcom::event_kind k) {
  switch (k) {
    case cryptcom::event_kind::frame_rejected:
      return event_kind::frame_rejected;
    case cryptcom::event_kind::message_undeliverable:
      return event_kind::message_undeliverable;
    case cryptcom::event_kind::message_rejected:
      return event_kind::message_rejected;
    case cryptcom::event_kind::peer_restarted:
      return event_kind::peer_restarted;
    case cryptcom::event_kind::peer_authenticated:
      return event_kind::peer_authenticated;
    case cryptcom::event_kind::peer_refused:
      return event_kind::peer_refused;
    case cryptcom::event_kind::identity_check:
      return event_kind::identity_check;
  }
  return event_kind::transport_error;
}

// REQ and REP: their ends of the pipe add and strip the delimiter themselves, so the one the
// peer sealed in front of the message (§11) is taken off, when parts follow it. A message
// without it is delivered as it is.
void drop_leading_empty_part(delivery& d) {
  if (d.parts.size() > 1 && d.parts.front().empty()) d.parts.erase(d.parts.begin());
}

}  // namespace

io_loop::io_loop(void* context, const socket_kind& kind, const socket_options& options,
                 std::shared_ptr<shared_state> shared, const std::string& data_endpoint)
    : context_(context),
      kind_(kind),
      options_(options),
      shared_(std::move(shared)),
      pool_(pool_for(options)),
      random_(make_system_random()),
      engine_(engine_options(kind, options), *pool_, *random_, clock_type::now()),
      wire_(context, kind.wire),
      data_(context, kind.io_end),
      // Behind a key-blind broker the first routing frame is the routing id the broker's ROUTER
      // gave the other side's connection, which it cannot choose (§11.7): a connection of its
      // own, with its own key budget, as on a ROUTER wire.
      routes_(kind.wire == ::zmq::socket_type::router || options.through_broker ? 1 : 0),
      linger_ms_(static_cast<int>(options.linger.count())) {
  check_through_broker(kind_, options_);
  if (const status s = engine_.construction_status(); !s.ok()) {
    throw error(EINVAL, "cryptcom::zmq::socket: the engine refused the options: " + s.to_string());
  }
  // The I/O ends hold little: the application end's high-water marks are what bound the pipe.
  data_.set(::zmq::sockopt::sndhwm, 1);
  data_.set(::zmq::sockopt::rcvhwm, 1);
  data_.set(::zmq::sockopt::linger, 0);
  // A REQ's replies go out of a ROUTER end: make a full pipe say EAGAIN rather than drop.
  if (kind_.io_end == ::zmq::socket_type::router) data_.set(::zmq::sockopt::router_mandatory, true);
  data_.bind(data_endpoint);
  wire_.set(::zmq::sockopt::linger, 0);
  if (kind_.one_peer_per_connection) {
    // PUSH/PULL (docs/PROTOCOL.md §11.5): each side learns of a connection from the empty
    // message libzmq sends on it when it is made or accepted, so a PUSH can ask a PULL for keys
    // before either said anything; a send to a connection that went fails (EHOSTUNREACH)
    // instead of vanishing, so the peer is forgotten and what it had not acknowledged reported.
    wire_.set(::zmq::sockopt::probe_router, true);
    wire_.set(::zmq::sockopt::router_mandatory, true);
  }
  if (kind_.pubsub) setup_pubsub();
  // No frame larger than the engine could accept is even allocated: libzmq drops a connection
  // that announces one. The bound is the engine's (message, plus envelope and per-part overhead).
  const std::uint64_t max_frame = static_cast<std::uint64_t>(engine_.max_frame_size()) + 4096;
  wire_.set(::zmq::sockopt::maxmsgsize,
            static_cast<std::int64_t>(std::min<std::uint64_t>(max_frame, INT64_MAX)));
  const time_point now = clock_type::now();
  if (kind_.has_direct_peer) routes_.add_direct(direct_peer, now);
  idle_timeout_ = options_.peer_idle_timeout;
  if (idle_timeout_.count() > 0) {
    // Not before the keys the peer holds for us have expired on its side (a returning peer then
    // simply asks for new ones instead of trying each dead key), nor before anything pending
    // for it has been given up.
    const auto floor = std::chrono::duration_cast<milliseconds>(
        std::max<duration>(options_.engine.key_ttl, 2 * options_.engine.delivery_timeout));
    idle_timeout_ = std::max(idle_timeout_, floor);
    next_idle_check_ = now + std::min<duration>(idle_timeout_, std::chrono::seconds(1));
  }
  if (options_.zap_domain) {
    zap_.emplace(context_, *options_.zap_domain, options_.zap_timeout,
                 options_.engine.auth.max_pending_checks);
  }
}

io_loop::~io_loop() = default;

// ---------------------------------------------------------------------------------------------
// Commands

void io_loop::bind(const std::string& endpoint) {
  if (options_.through_broker) {
    throw error(EINVAL,
                "cryptcom::zmq::socket: a through_broker socket connects to its broker ("
                "which binds); bind(" +
                    endpoint + ") is refused");
  }
  start();
  wire_.bind(endpoint);
  after_wire_setup();
}

void io_loop::connect(const std::string& endpoint) {
  if (options_.through_broker && wire_endpoint_) {
    throw error(EINVAL,
                "cryptcom::zmq::socket: a through_broker socket connects to one broker; "
                "connect(" +
                    endpoint + ") after connect(" + *wire_endpoint_ + ") is refused");
  }
  start();
  if (serves_several()) {
    if (wire_endpoint_) {
      add_server(endpoint);
      return;
    }
    wire_endpoint_ = endpoint;
  }
  wire_.connect(endpoint);
  after_wire_setup();
}

void io_loop::start() {
  if (auth_error_) {
    throw error(EINVAL,
                "cryptcom::zmq::socket: the authenticated-mode options do not fit together: " +
                    *auth_error_);
  }
  started_ = true;
}

void io_loop::configure_auth(const socket_options& o) {
  if (started_) {
    throw error(EINVAL,
                "cryptcom::zmq::socket: authenticated-mode options (identity, server key, "
                "allow-list, policy, ZAP) and through_broker are set before the socket's first "
                "bind(), connect() or send()");
  }
  check_through_broker(kind_, o);
  options_.engine.auth = o.engine.auth;
  options_.zap_domain = o.zap_domain;
  options_.zap_timeout = o.zap_timeout;
  options_.through_broker = o.through_broker;
  engine fresh(engine_options(kind_, options_), *pool_, *random_, clock_type::now());
  if (const status s = fresh.construction_status(); !s.ok()) {
    auth_error_ = s.to_string();
    return;
  }
  auth_error_.reset();
  engine_ = std::move(fresh);
  zap_.reset();
  if (options_.zap_domain) {
    zap_.emplace(context_, *options_.zap_domain, options_.zap_timeout,
                 options_.engine.auth.max_pending_checks);
  }
}

std::optional<peer_number> io_loop::peer_at(const std::vector<std::string>& route) const {
  if (route.empty()) {
    if (kind_.has_direct_peer) return direct_peer;
    return std::nullopt;
  }
  std::vector<std::string_view> path(route.begin(), route.end());
  return routes_.find(path);
}

identity_info io_loop::peer_identity(const std::vector<std::string>& route) const {
  std::optional<peer_number> peer = peer_at(route);
  // A REP's application sees no routing frames: the sender is that of the request it answers.
  if (!peer && route.empty() && kind_.what == role::rep && !rep_pending_.empty()) {
    peer = rep_pending_.front();
  }
  identity_info out;
  if (!peer) return out;
  out.key = engine_.peer_identity(*peer);
  if (auto it = zap_users_.find(*peer);
      it != zap_users_.end() && out.key && it->second.key == *out.key) {
    out.user_id = it->second.user_id;
  }
  return out;
}

void io_loop::resolve_identity(const std::vector<std::string>& route, const public_key& key,
                               bool accepted) {
  const std::optional<peer_number> peer = peer_at(route);
  if (!peer) return;
  const time_point now = clock_type::now();
  engine_.resolve_identity(*peer, key, accepted, now);
  pump(now);
}

void io_loop::unbind(const std::string& endpoint) { wire_.unbind(endpoint); }
void io_loop::disconnect(const std::string& endpoint) {
  for (auto& link : servers_) {
    if (link->endpoint == endpoint) {
      remove_server(*link, clock_type::now());
      return;
    }
  }
  wire_.disconnect(endpoint);
  if (wire_endpoint_ == endpoint) wire_endpoint_.reset();  // the next connect takes its place
}

void io_loop::add_server(const std::string& endpoint) {
  auto link = std::make_unique<server_link>();
  link->socket = owned_socket(context_, ::zmq::socket_type::dealer);
  link->socket.set(::zmq::sockopt::linger, 0);
  link->socket.set(::zmq::sockopt::maxmsgsize, wire_.get(::zmq::sockopt::maxmsgsize));
  for (const auto& [option, value] : wire_options_) {
    if (zmq_setsockopt(link->socket.handle(), option, value.data(), value.size()) != 0) {
      throw ::zmq::error_t();
    }
  }
  link->socket.connect(endpoint);
  link->endpoint = endpoint;
  const time_point now = clock_type::now();
  link->peer = routes_.add_server(now);
  // The first server (wire_'s) shares the stream from now on.
  balancer_.add(direct_peer);
  balancer_.add(link->peer);
  server_link& added = *link;
  servers_.push_back(std::move(link));
  // The round robin offers a message only to a server whose keys are at hand, so every server is
  // asked for keys now, prefetch_keys or not (else none would ever be chosen).
  engine_.connect(direct_peer, now);
  engine_.connect(added.peer, now);
  pump(now);
}

void io_loop::remove_server(server_link& link, time_point now) {
  balancer_.remove(link.peer);
  // Data frames still waiting for room in its socket never left: their messages, and those
  // never sealed, go to another server (§11.6).
  std::vector<guid> unsent;
  for (const auto& frames : link.backlog) {
    const auto& f = frames.back();
    auto h = read_frame_header(byte_view(static_cast<const byte*>(f.data()), f.size()));
    if (h.ok() && h->key_id) unsent.push_back(*h->key_id);
  }
  link.backlog.clear();
  reseal_elsewhere(link.peer, unsent, now);
  // What it had not acknowledged is reported undeliverable (it may have been opened).
  engine_.disconnect(link.peer, now);
  pump(now);
  forget(link.peer);
  link.socket.close();
  std::erase_if(servers_, [&](const auto& l) { return l.get() == &link; });
  if (servers_.empty()) balancer_.remove(direct_peer);
}

void io_loop::reseal_elsewhere(peer_number peer, std::span<const guid> unsent, time_point now) {
  // Drained first: a data frame still inside the engine is held back by withdraw().
  pump(now);
  for (withdrawn_message& w : engine_.withdraw(peer, unsent, now)) {
    outgoing m;
    m.parts.reserve(w.parts.size());
    for (byte_view part : w.parts) m.parts.emplace_back(part.data(), part.size());
    m.peer = 0;
    m.balanced = true;
    m.how = w.how;
    m.number = number_of(w.id);
    ++counters_.messages_resealed;
    replaced_.push_back(std::move(m));
  }
}

io_loop::server_link* io_loop::server_of(peer_number peer) {
  for (auto& link : servers_) {
    if (link->peer == peer) return link.get();
  }
  return nullptr;
}

void io_loop::after_wire_setup() {
  // Behind a key-blind broker the direct peer is the broker, which offers no keys (§11.7).
  if (options_.through_broker) return;
  if (prefetched_ || !kind_.has_direct_peer || !options_.prefetch_keys) return;
  prefetched_ = true;
  const time_point now = clock_type::now();
  engine_.connect(direct_peer, now);
  pump(now);
}

void io_loop::set_wire_option(int option, const void* value, std::size_t size) {
  if (zmq_setsockopt(wire_.handle(), option, value, size) != 0) throw ::zmq::error_t();
  for (auto& link : servers_) {
    if (zmq_setsockopt(link->socket.handle(), option, value, size) != 0) throw ::zmq::error_t();
  }
  if (serves_several()) {
    // The latest value of each option, in the order first set, for the servers to come.
    std::string bytes(static_cast<const char*>(value), size);
    auto it = std::find_if(wire_options_.begin(), wire_options_.end(),
                           [&](const auto& o) { return o.first == option; });
    if (it != wire_options_.end()) {
      it->second = std::move(bytes);
    } else {
      wire_options_.emplace_back(option, std::move(bytes));
    }
  }
}

void io_loop::get_wire_option(int option, void* value, std::size_t* size) {
  if (zmq_getsockopt(wire_.handle(), option, value, size) != 0) throw ::zmq::error_t();
}

socket_stats io_loop::stats() {
  socket_stats s;
  s.engine = engine_.stats();
  s.key_pool = pool_->stats();
  s.transport = counters_;
  s.transport.events_dropped = shared_->events_dropped();
  s.transport.messages_dropped += shared_->publisher_drops.load(std::memory_order_relaxed);
  s.transport.peers = routes_.size();
  s.transport.peers_unestablished = routes_.unestablished();
  for (peer_number id : routes_.peers()) s.routes[id] = routes_.path_copy(id);
  return s;
}

void io_loop::begin_close() {
  if (closing_) return;
  closing_ = true;
  const time_point now = clock_type::now();
  if (linger_ms_ >= 0) close_deadline_ = now + milliseconds(linger_ms_);
}

void io_loop::run_commands() {
  shared_->bell().clear();
  for (auto& c : shared_->take_commands()) {
    command_failure failure;
    try {
      c.run(*this);
    } catch (const error& e) {
      failure = {command_failure::type::cryptcom, e.num(), e.what()};
    } catch (const ::zmq::error_t& e) {
      failure = {command_failure::type::zmq, e.num(), e.what()};
    } catch (const std::exception& e) {
      failure = {command_failure::type::other, 0, e.what()};
    }
    c.done.set_value(std::move(failure));
  }
}

// ---------------------------------------------------------------------------------------------
// The loop

int poll_timeout_until(time_point t, time_point now) noexcept {
  if (t <= now) return 1;
  const auto ms = std::chrono::ceil<milliseconds>(t - now).count();
  return static_cast<int>(std::clamp<std::int64_t>(ms, 1, 3'600'000));
}

void io_loop::turn(const std::function<void()>& body) noexcept {
  if (finished_) return;
  std::string why = "the socket was closed";
  try {
    body();
    if (!done_) return;
  } catch (const ::zmq::error_t& e) {
    why = e.num() == ETERM ? "the ZeroMQ context was terminated"
                           : std::string("ZeroMQ error in the I/O thread: ") + e.what();
    emit({event_kind::transport_error, {}, 0, errc::internal, {}, why, {}});
  } catch (const std::exception& e) {
    why = std::string("error in the I/O thread: ") + e.what();
    emit({event_kind::transport_error, {}, 0, errc::internal, {}, why, {}});
  }
  done_ = true;
  finished_ = true;
  finish(why);
}

bool io_loop::run_blocking(int extra_fd) noexcept {
  bool extra_ready = false;
  turn([&] {
    time_point now = clock_type::now();
    std::vector<::zmq::pollitem_t>& items = items_;
    const std::optional<time_point> wake = prepare(items, now);
    items.push_back({nullptr, extra_fd, ZMQ_POLLIN, 0});
    ::zmq::poll(items.data(), items.size(),
                milliseconds(wake ? poll_timeout_until(*wake, now) : -1));
    extra_ready = items.back().revents != 0;
    items.pop_back();
    process(items, clock_type::now());
  });
  return extra_ready || finished_;
}

bool io_loop::run_step(time_point now) noexcept {
  bool more = false;
  turn([&] {
    std::vector<::zmq::pollitem_t>& items = items_;
    (void)prepare(items, now);
    ::zmq::poll(items.data(), items.size(), milliseconds(0));
    process(items, now);
    if (done_) return;
    // Whether anything is ready now. Every send and receive above may have taken the commands
    // that would have made the sockets' descriptors readable, so the descriptors alone cannot
    // say so; this check is the last thing done to the sockets, after which anything new does
    // make them readable (libzmq signals a reader that found its pipe empty, and a writer that
    // found it full).
    next_wake_ = prepare(items, now);
    ::zmq::poll(items.data(), items.size(), milliseconds(0));
    more = std::any_of(items.begin(), items.end(),
                       [](const ::zmq::pollitem_t& i) { return i.revents != 0; });
  });
  return more && !finished_;
}

namespace {

void watch_socket(std::vector<pollfd>& fds, void* handle) {
  int fd = -1;
  std::size_t size = sizeof fd;
  if (zmq_getsockopt(handle, ZMQ_FD, &fd, &size) == 0) fds.push_back({fd, POLLIN, 0});
}

}  // namespace

void io_loop::watch(std::vector<pollfd>& fds) {
  fds.push_back({shared_->bell().fd(), POLLIN, 0});
  // A REQ's application turns the loop itself after each message it puts in the pipe: the pipe
  // would only wake this thread for what that thread is about to do.
  if (!turned_by_application()) watch_socket(fds, data_.handle());
  network_watched_ = !application_waits_;
  if (network_watched_) watch_network(fds);
}

void io_loop::watch_network(std::vector<pollfd>& fds) {
  if (finished_) return;
  watch_socket(fds, wire_.handle());
  // As prepare() polls it: only while a verdict is awaited (a socket nobody polls would keep its
  // descriptor readable, and the thread would spin on it).
  if (zap_ && zap_->waiting()) watch_socket(fds, zap_->handle());
  for (const auto& link : servers_) watch_socket(fds, link->socket.handle());
}

bool io_loop::turned_by_application() const noexcept { return kind_.what == role::req; }

bool io_loop::drive(time_point now, bool sent, std::vector<pollfd>& fds) {
  driven_since_plan_ = true;
  driving_ = true;
  ready_after_drive_ = lean_drive_possible() ? lean_step(now, sent) : run_step(now);
  driving_ = false;
  watch_network(fds);
  return ready_after_drive_;
}

bool io_loop::lean_drive_possible() const noexcept {
  return servers_.empty() && !zap_ && !closing_;
}

// run_step without its two zmq_polls, which cost libzmq a system call per socket each: the loop
// reads the wire until a read finds nothing (which also leaves its descriptor armed), the pipe
// only when the application just sent, and checks the wire once more after sending. Commands
// are the I/O thread's (it watches the doorbell throughout).
bool io_loop::lean_step(time_point now, bool sent) noexcept {
  bool more = false;
  turn([&] {
    flush_app_backlog();
    flush_wire_backlog();
    int reads = 0;
    while (reads < batch && wire_readable() && read_wire_one(now)) {
      ++reads;
      pump(now);
    }
    place_replaced(now);
    if (held_ && submit(*held_, now)) held_.reset();
    if (sent) {
      for (int i = 0; i < batch && !held_ && app_readable() && read_app_one(now); ++i) pump(now);
    }
    run_due(now);
    pump(now);
    next_wake_ = deadline(now);
    // Ready: a batch that did not empty the wire, frames or deliveries waiting for room, or a
    // wire message that came while this turn sent (sending may take the command that would
    // have made the descriptor readable).
    more = reads == batch || !wire_backlog_.empty() || !app_backlog_.empty() ||
           (sent && wire_readable() && (wire_.get(::zmq::sockopt::events) & ZMQ_POLLIN) != 0);
  });
  return more && !finished_;
}

std::optional<time_point> io_loop::plan(time_point now, bool ready) noexcept {
  std::optional<time_point> wake = ready ? std::optional<time_point>(now) : next_wake_;
  if (std::exchange(driven_since_plan_, false)) {
    // The application's thread is calling: this thread looks again soon, so that its calls
    // rarely need to wake it (hand_back). An application that stopped calling is left alone.
    const time_point recheck = now + network_recheck;
    if (!wake || recheck < *wake) wake = recheck;
  }
  planned_wake_ = wake;
  return wake;
}

void io_loop::hand_back(time_point now) {
  if (ready_after_drive_ || finished_) turn_requested_ = true;
  std::optional<time_point> needed = next_wake_;
  if (!network_watched_ && (!needed || now + network_recheck < *needed)) {
    needed = now + network_recheck;
  }
  const bool late = needed && (!planned_wake_ || *needed < *planned_wake_);
  if ((turn_requested_ || late) && thread_bell_ != nullptr) thread_bell_->ring();
  ready_after_drive_ = false;
  application_waits_ = false;
}

std::optional<time_point> io_loop::prepare(std::vector<::zmq::pollitem_t>& items, time_point now) {
  short wire_events = 0;
  if (wire_readable()) wire_events |= ZMQ_POLLIN;
  if (!wire_backlog_.empty()) wire_events |= ZMQ_POLLOUT;
  short data_events = 0;
  if (app_readable()) data_events |= ZMQ_POLLIN;
  if (!app_backlog_.empty()) data_events |= ZMQ_POLLOUT;
  zap_polled_ = zap_ && zap_->waiting();
  items.clear();
  items.push_back({nullptr, shared_->bell().fd(), ZMQ_POLLIN, 0});
  items.push_back({wire_.handle(), 0, wire_events, 0});
  items.push_back({data_.handle(), 0, data_events, 0});
  if (zap_polled_) items.push_back({zap_->handle(), 0, ZMQ_POLLIN, 0});
  // The further servers of a DEALER or REQ (a socket each), after those.
  first_server_item_ = items.size();
  for (const auto& link : servers_) {
    short events = wire_readable() ? ZMQ_POLLIN : 0;
    if (!link->backlog.empty()) events |= ZMQ_POLLOUT;
    items.push_back({link->socket.handle(), 0, events, 0});
  }

  return deadline(now);
}

std::optional<time_point> io_loop::deadline(time_point now) const {
  std::optional<time_point> wake = engine_.poll_timeout();
  auto consider = [&](time_point t) {
    if (!wake || t < *wake) wake = t;
  };
  if (idle_timeout_.count() > 0 && kind_.routes_by_path) consider(next_idle_check_);
  if (zap_polled_) consider(*zap_->next_deadline());
  if (sets_due_) consider(*sets_due_);
  if (closing_) {
    consider(now + close_poll);
    if (close_deadline_) consider(*close_deadline_);
  }
  return wake;
}

void io_loop::process(std::span<const ::zmq::pollitem_t> items, time_point now) {
  if (items[0].revents & ZMQ_POLLIN) run_commands();
  if (done_) return;
  if (zap_polled_ && ((items[3].revents & ZMQ_POLLIN) || *zap_->next_deadline() <= now)) {
    apply_verdicts(zap_->collect(now), now);
  }
  flush_app_backlog();
  flush_wire_backlog();
  flush_server_backlogs();
  drop_gone(now);
  // Each message read is pumped at once: its delivery, and the key offers and acknowledgements
  // it makes due, leave now rather than after the rest of the batch (at 1 MiB a batch is a
  // quarter of a second of opening), and a backlog seen by the next read is the true one.
  // A socket zmq_poll found nothing in is not read: each read that finds nothing costs libzmq a
  // system call. What arrived since is seen by the next zmq_poll, which then returns at once.
  // While closing, the pipe is read regardless: finding it empty is how the close knows the
  // application's messages are all in.
  if (items[1].revents & ZMQ_POLLIN) {
    for (int i = 0; i < batch && wire_readable() && read_wire_one(now); ++i) pump(now);
  }
  // The servers polled above; a command run since may have added or removed one (an item may
  // then name its neighbour: a read finding nothing costs nothing, and the next poll sees all).
  const std::size_t polled = std::min(items.size() - first_server_item_, servers_.size());
  for (std::size_t k = 0; k < polled; ++k) {
    if (!(items[first_server_item_ + k].revents & ZMQ_POLLIN)) continue;
    for (int i = 0; i < batch && wire_readable() && read_server_one(*servers_[k], now); ++i) {
      pump(now);
    }
  }
  place_replaced(now);
  if (held_ && submit(*held_, now)) held_.reset();
  if (!held_ && ((items[2].revents & ZMQ_POLLIN) || closing_)) {
    for (int i = 0; i < batch && !held_ && app_readable(); ++i) {
      if (!read_app_one(now)) {
        if (closing_ && !held_) app_drained_ = true;
        break;
      }
      pump(now);
    }
  }
  if (kind_.pubsub) send_due_sets(now);
  run_due(now);
  pump(now);
  if (closing_ && close_complete(now)) done_ = true;
}

void io_loop::run_due(time_point now) {
  if (auto t = engine_.poll_timeout(); t && *t <= now) engine_.tick(now);
  if (idle_timeout_.count() > 0 && kind_.routes_by_path && now >= next_idle_check_) {
    forget_idle_peers(now);
    next_idle_check_ = now + std::chrono::seconds(1);
  }
}

// Back-pressure, as ZeroMQ's high-water marks give it: a side whose output is full is not read.
// Messages then wait in the sockets, bounded by the high-water marks the application set,
// instead of in our backlogs. The backlogs hold what one message in flight produced, or what a
// peer's full queue refused.
// A closing PULL reads no more: it owes nothing that needs an acknowledgement, and what it
// would open now could only be dropped after being acknowledged (lost without a report); left
// unopened, it is reported by the PUSH.
bool io_loop::wire_readable() const {
  return app_backlog_.empty() && !(closing_ && kind_.what == role::pull);
}

bool io_loop::app_readable() const {
  return !held_ && replaced_.empty() && !(closing_ && app_drained_) && wire_backlog_.empty() &&
         std::all_of(servers_.begin(), servers_.end(),
                     [](const auto& link) { return link->backlog.empty(); });
}

bool io_loop::close_complete(time_point now) {
  if (close_deadline_ && now >= *close_deadline_) return true;
  // Frames still waiting for room in the wire socket matter only while a message is pending
  // (it is then counted below); control frames alone do not hold the close back.
  if (!app_drained_ || held_ || !replaced_.empty()) return false;
  if (now < acks_flushed_at_) return false;
  // The engine's stats cost O(peers): asked at most every close_poll, not at every loop turn
  // (the loop wakes at least that often while closing).
  if (now < next_close_check_) return false;
  next_close_check_ = now + close_poll;
  const stats_snapshot s = engine_.stats();
  return s.queued_messages == 0 && s.unacknowledged == 0;
}

// ---------------------------------------------------------------------------------------------
// From the wire

bool io_loop::read_wire_one(time_point now) {
  std::vector<::zmq::message_t> frames;
  if (!::zmq::recv_multipart(wire_, std::back_inserter(frames), ::zmq::recv_flags::dontwait)) {
    return false;
  }
  handover_acquire();
  if (frames.empty()) return true;
  if (kind_.pubsub && !accept_pubsub(frames, now)) return true;
  ++counters_.wire_messages_received;
  counters_.wire_bytes_received += frames.back().size();
  const std::size_t envelope = frames.size() - 1;
  if (envelope > max_envelope_frames) {
    ++counters_.messages_dropped;
    emit({event_kind::message_dropped,
          {},
          0,
          errc::malformed_frame,
          {},
          "a wire message with " + std::to_string(envelope) +
              " routing frames was dropped (more than a ZeroMQ envelope can have)",
          {}});
    return true;
  }
  // The routing path: the envelope's frames, empty ones ignored (docs/PROTOCOL.md §11: routing
  // ids are never empty; a peer that still puts REQ/REP's delimiter on the wire lands on the
  // same path).
  std::vector<std::string_view> path;
  path.reserve(envelope);
  for (std::size_t i = 0; i < envelope; ++i) {
    if (frames[i].size() > max_routing_id_bytes) {
      // No ROUTER makes such a routing id: a forger's, which we would keep for the path's life.
      ++counters_.messages_dropped;
      emit({event_kind::message_dropped,
            {},
            0,
            errc::malformed_frame,
            {},
            "a wire message was dropped: a routing frame of " + std::to_string(frames[i].size()) +
                " bytes (ZeroMQ routing ids are at most " + std::to_string(max_routing_id_bytes) +
                ")",
            {}});
      return true;
    }
    if (frames[i].size() > 0) path.push_back(view_of(frames[i]));
  }
  if (kind_.one_peer_per_connection && frames.back().size() == 0) {
    on_connection(path, now);
    return true;
  }
  if (options_.through_broker && is_broker_notice(frames.back())) {
    on_broker_notice(path, frames.back(), now);
    return true;
  }
  std::optional<peer_number> peer = routes_.find(path);
  if (!peer) {
    if (!make_room(path, false, now)) {
      ++counters_.messages_dropped;
      emit({event_kind::message_dropped,
            {path.begin(), path.end()},
            0,
            errc::limit_exceeded,
            {},
            "a wire message from a new routing path was dropped: max_peers (" +
                std::to_string(options_.max_peers) +
                ") paths are known and each is owed a reply or holds a message",
            {}});
      return true;
    }
    peer = routes_.add(path, false, now);
    // The paths of one connection share one budget of keys granted before they prove
    // themselves: forged paths cost what one connection may cost.
    if (auto c = routes_.connection_number(*peer)) engine_.set_group(*peer, *c, now);
    if (kind_.subscribes()) add_publisher(*peer, now);
  }
  routes_.touch(*peer, now);
  if (zap_) {
    // A handshake's identity_check comes out of this receive: its ZAP request names the address.
    const char* address = zmq_msg_gets(frames.back().handle(), "Peer-Address");
    last_wire_peer_ = *peer;
    last_wire_address_ = address != nullptr ? address : "";
  }
  // Problems with the frame are reported by the engine as events and counted in its stats.
  if (in_place_frame_ref in_place = take_for_in_place(frames.back())) {
    // Opened where it lies: the delivery views the frame, so it is handed over before the frame
    // goes. Only a frame that was delivered holds plaintext (the engine leaves none after a
    // failure); it is wiped when the last part pointing into it is closed, or now.
    (void)engine_.receive_in_place(*peer, writable_bytes(*in_place), now);
    while (auto d = engine_.poll_delivery()) {
      if (d->payload.empty()) mark_opened(*in_place);
      deliver(std::move(*d), in_place.get());
    }
  } else {
    (void)engine_.receive(*peer, bytes_of(frames.back()), now);
  }
  acks_flushed_at_ = now + options_.engine.ack_delay + milliseconds(2);
  return true;
}

// ---------------------------------------------------------------------------------------------
// From the application

bool io_loop::read_app_one(time_point now) {
  // A PULL's application sends nothing (the I/O end of its pipe is a PUSH, which cannot read),
  // nor does a SUB's (socket::send refuses it).
  if (kind_.what == role::pull || kind_.what == role::sub) return false;
  outgoing m;
  if (!::zmq::recv_multipart(data_, std::back_inserter(m.parts), ::zmq::recv_flags::dontwait)) {
    return false;
  }
  handover_acquire();
  m.number = ++app_count_;
  ++counters_.messages_sent;
  started_ = true;
  if (auth_error_) {
    refuse(m, errc::invalid_argument,
           "the authenticated-mode options do not fit together: " + *auth_error_);
    return true;
  }
  std::vector<std::string_view> views;
  views.reserve(m.parts.size());
  for (const auto& p : m.parts) views.push_back(view_of(p));

  switch (kind_.what) {
    case role::req: {
      // [pipe routing id, "", parts...] from the REQ end: the routing id addresses the reply;
      // the empty part is the first part sealed, as a plain REQ puts it on the wire (§11).
      std::size_t i = 0;
      while (i < views.size() && !views[i].empty()) ++i;
      m.payload_begin = i;
      req_envelope_.clear();
      for (std::size_t j = 0; j < i; ++j) req_envelope_.push_back(std::move(m.parts[j]));
      req_outstanding_ = true;
      m.peer = direct_peer;
      m.balanced = !servers_.empty() || options_.through_broker;
      break;
    }
    case role::rep: {
      // ["", parts...] from the REP end: the reply to the oldest request handed out, sealed
      // whole, its empty part included, as a plain REP puts it on the wire (§11).
      m.payload_begin = 0;
      if (rep_pending_.empty()) {
        refuse(m, errc::invalid_argument, "a REP reply with no request to answer");
        return true;
      }
      m.peer = rep_pending_.front();
      rep_pending_.pop_front();
      routes_.unpin(m.peer);
      break;
    }
    case role::router:
    case role::dealer: {
      const std::size_t min_path = kind_.what == role::router ? 1 : 0;
      if (views.size() <= min_path) {
        refuse(m, errc::invalid_argument,
               "a ROUTER message needs its routing id frame and at least one part after it");
        return true;
      }
      split s = routes_.split_outgoing(views, min_path);
      if (options_.through_broker && s.peer && balancer_.contains(*s.peer)) {
        // The application does not address workers (§11.7): a first part that happens to equal
        // a worker's routing id is payload.
        s = split{0, direct_peer};
      }
      m.payload_begin = s.path_frames;
      if (s.peer) {
        m.peer = *s.peer;
      } else {
        // A ROUTER's first send to a routing id it has not heard from (e.g. a peer with a known
        // ZMQ_ROUTING_ID): the engine asks it for keys through the ROUTER.
        const std::span<const std::string_view> path(views.data(), s.path_frames);
        if (std::any_of(path.begin(), path.end(), [](std::string_view f) { return f.empty(); })) {
          refuse(m, errc::invalid_argument, "a routing id frame is never empty");
          return true;
        }
        if (!make_room(path, true, now)) {
          refuse(m, errc::limit_exceeded,
                 "max_peers (" + std::to_string(options_.max_peers) +
                     ") routing paths are known and each is owed a reply or holds a message");
          return true;
        }
        m.peer = routes_.add(path, true, now);
        if (auto c = routes_.connection_number(m.peer)) engine_.set_group(m.peer, *c, now);
      }
      // The application named the path: it is established, whatever the wire did so far.
      routes_.establish(m.peer);
      // No path, and several servers (or workers behind a broker): the round robin chooses one.
      m.balanced = m.peer == direct_peer && (!servers_.empty() || options_.through_broker);
      if (!options_.flow) m.how = default_flow(kind_.what, views[m.payload_begin].empty());
      break;
    }
    case role::pair:
      m.payload_begin = 0;
      m.peer = direct_peer;
      break;
    case role::push:
    case role::pull:  // a PULL's pipe end cannot send (ENOTSUP): nothing comes here
      // The peer is chosen when the message is placed (submit), by the round robin.
      m.payload_begin = 0;
      m.peer = 0;
      m.balanced = true;
      break;
    case role::pub:
    case role::xpub:
      publish(m, now);
      return true;
    case role::xsub:
      from_xsub_end(m, now);
      return true;
    case role::sub:  // a SUB's pipe end cannot send: nothing comes here
      return true;
  }
  if (m.payload_begin >= m.parts.size()) {
    refuse(m, errc::invalid_argument, "the message has no payload part after its envelope");
    return true;
  }
  if (!submit(m, now)) held_ = std::move(m);
  return true;
}

void io_loop::place_replaced(time_point now) {
  // In their order, before anything newer from the application; one that finds no server with
  // keys waits, and the ones behind it with it.
  while (!replaced_.empty() && submit(replaced_.front(), now)) replaced_.pop_front();
}

bool io_loop::submit(outgoing& m, time_point now) {
  if (m.balanced) return place(m, now);
  return submit_to(m, now, !kind_.refuses_when_full && !closing_) != taken::full;
}

io_loop::taken io_loop::submit_to(outgoing& m, time_point now, bool may_hold) {
  // The engine keeps the application's messages themselves until the peer acknowledges them
  // (no copy); a refused message comes back to `m`.
  const std::shared_ptr<app_parts> held = hand_over(m.parts);
  send_options how;
  how.use_flow = m.how;
  result<message_id> r = engine_.send(m.peer, engine_parts(held, m.payload_begin), now, how);
  if (r.ok()) {
    note_number(*r, m.number);
    routes_.touch(m.peer, now);
    return taken::queued;
  }
  m.parts = take_back(held);
  const status err = r.error();
  if (err.code() == errc::limit_exceeded && may_hold) return taken::full;
  refuse(m, err.code(), err.message());
  return taken::refused;
}

bool io_loop::place(outgoing& m, time_point now) {
  // Only a peer whose keys are at hand is offered the message: it is sealed at once, to the
  // peer that will open it. When no peer holds a key (all are slow, or none is connected) the
  // message is held and the pipe fills: back-pressure, as a PUSH whose peers are all full.
  // A PULL that holds no key is asked for keys by the engine (a PUSH keeps a pool of each).
  bool refused = false;
  const auto chosen = balancer_.place([&](peer_number p) { return engine_.usable_keys(p) > 0; },
                                      [&](peer_number p) {
                                        m.peer = p;
                                        const taken t = submit_to(m, now, true);
                                        refused = t == taken::refused;
                                        return t != taken::full;
                                      });
  if (chosen || refused) return true;
  m.peer = 0;
  return false;
}

void io_loop::on_connection(std::span<const std::string_view> path, time_point now) {
  // Our own wire is a ROUTER: a probe names exactly the connection it came on.
  if (path.size() != 1 || routes_.find(path)) return;
  if (!make_room(path, kind_.what == role::push, now)) return;
  const peer_number peer = routes_.add(path, kind_.what == role::push, now);
  if (auto c = routes_.connection_number(peer)) engine_.set_group(peer, *c, now);
  const bool initiator = options_.engine.auth.self && options_.engine.auth.peer_key;
  if (kind_.what == role::push) {
    // A connected PULL stays in the rotation while its connection lives, idle or not.
    routes_.pin(peer);
    balancer_.add(peer);
    engine_.connect(peer, now);  // asks it for keys (in authenticated mode: a handshake first)
  } else if (initiator) {
    engine_.connect(peer, now);  // a PULL that knows its PUSH's key starts the handshake
  }
}

void io_loop::on_broker_notice(std::span<const std::string_view> path,
                               const ::zmq::message_t& notice, time_point now) {
  ++counters_.broker_notices;
  if (path.empty()) {
    if (notice.size() != 0) return;
    // The broker on a new connection: say who we are. Routing ids are per connection, so the
    // workers reached through the old one are void (§11.7).
    std::vector<::zmq::message_t> presence;
    presence.emplace_back();
    send_to_wire(std::move(presence));
    std::vector<peer_number> workers;
    for (peer_number p : routes_.peers()) {
      if (p != direct_peer && balancer_.contains(p)) workers.push_back(p);
    }
    for (peer_number p : workers) drop_worker(p, {}, now);
    return;
  }
  if (path.size() != 1) {
    ++counters_.messages_dropped;
    emit({event_kind::message_dropped,
          {path.begin(), path.end()},
          0,
          errc::malformed_frame,
          {},
          "a broker notice with " + std::to_string(path.size()) +
              " routing frames was dropped (a notice names one worker)",
          {}});
    return;
  }
  const std::optional<peer_number> known = routes_.find(path);
  if (notice.size() == 0) {
    if (known && balancer_.contains(*known)) return;
    peer_number peer = 0;
    if (known) {
      peer = *known;
    } else {
      if (!make_room(path, true, now)) return;
      peer = routes_.add(path, true, now);
    }
    // A worker stays in the rotation, never idle, until the broker says it is gone.
    routes_.establish(peer);
    routes_.pin(peer);
    balancer_.add(peer);
    ++counters_.workers_joined;
    engine_.connect(peer, now);  // its keys (in authenticated mode: the handshake first)
    return;
  }
  if (!known || !balancer_.contains(*known)) return;
  std::vector<guid> unforwarded((notice.size() - 1) / guid_size);
  const auto* bytes = static_cast<const unsigned char*>(notice.data()) + 1;
  for (std::size_t i = 0; i < unforwarded.size(); ++i)
    std::copy_n(bytes + i * guid_size, guid_size, unforwarded[i].bytes.begin());
  drop_worker(*known, unforwarded, now);
}

void io_loop::drop_worker(peer_number peer, std::span<const guid> unforwarded, time_point now) {
  ++counters_.workers_gone;
  balancer_.remove(peer);
  // In version 2 the notice is the broker's unauthenticated word: only what we never sent at
  // all goes elsewhere (§11.7).
  const bool authenticated = options_.engine.auth.self.has_value();
  reseal_elsewhere(peer, authenticated ? std::span<const guid>() : unforwarded, now);
  // What it had not acknowledged is reported undeliverable (it may have been opened).
  engine_.disconnect(peer, now);
  pump(now);
  routes_.unpin(peer);
  forget(peer);
}

void io_loop::refuse(const outgoing& m, errc reason, const std::string& why) {
  ++counters_.messages_refused;
  emit({event_kind::message_refused,
        route_of(m.peer),
        m.number,
        reason,
        {},
        "message " + std::to_string(m.number) + " was not sent: " + why,
        {}});
}

void io_loop::note_number(message_id engine_id, std::uint64_t number) {
  const std::uint64_t offset = number - engine_id;
  if (offsets_.empty() ? offset != 0 : offsets_.back().second != offset) {
    offsets_.emplace_back(engine_id, offset);
  }
}

std::uint64_t io_loop::number_of(message_id engine_id) const {
  if (engine_id == 0) return 0;
  auto it = std::upper_bound(offsets_.begin(), offsets_.end(), engine_id,
                             [](message_id id, const auto& e) { return id < e.first; });
  if (it == offsets_.begin()) return engine_id;
  return engine_id + std::prev(it)->second;
}

std::vector<std::string> io_loop::route_of(peer_number peer) const {
  return routes_.path_copy(peer);
}

void io_loop::emit(event e) { shared_->push_event(std::move(e)); }

// ---------------------------------------------------------------------------------------------
// Out of the engine

void io_loop::pump(time_point now) {
  for (auto& buffer : frame_returns_->take()) engine_.recycle(std::move(buffer));
  while (auto t = engine_.poll_transmit()) {
    if (!routes_.contains(t->peer)) continue;  // the peer was forgotten meanwhile
    // A REQ's next request goes to the same server (unless a round robin chooses it); a REP's
    // next reply to the sender of the oldest request still unanswered.
    if (t->carries_data &&
        ((kind_.what == role::req && servers_.empty() && !options_.through_broker) ||
         kind_.what == role::rep)) {
      prepare_seal_due_ = true;
    }
    if (driving_ && t->carries_data) ++counters_.sealed_in_calls;
    if (server_link* link = server_of(t->peer)) {
      ++counters_.wire_messages_sent;
      counters_.wire_bytes_sent += t->frame.size();
      std::vector<::zmq::message_t> frames;
      frames.push_back(frame_message(std::move(t->frame), frame_returns_));
      send_to_server(*link, std::move(frames));
      continue;
    }
    // Routing frames, then the one cryptcom frame: never an empty frame (§11).
    const std::vector<std::string_view> path = routes_.path_of(t->peer);
    std::vector<::zmq::message_t> frames;
    frames.reserve(path.size() + 1);
    for (std::string_view f : path) frames.emplace_back(f.data(), f.size());
    if (kind_.pubsub) frames.emplace_back(address_.data(), address_.size());  // the sender
    ++counters_.wire_messages_sent;
    counters_.wire_bytes_sent += t->frame.size();
    frames.push_back(frame_message(std::move(t->frame), frame_returns_));
    send_to_wire(std::move(frames));
  }
  while (auto d = engine_.poll_delivery()) deliver(std::move(*d));
  std::vector<zap_client::verdict> refused;
  while (auto e = engine_.poll_event()) {
    if (e->kind == cryptcom::event_kind::identity_check && zap_) {
      ask_zap(*e, refused);  // the handler answers, not the application
      continue;
    }
    event out;
    out.kind = kind_of_engine_event(e->kind);
    out.route = route_of(e->peer);
    out.message = number_of(e->message);
    out.reason = e->reason;
    out.key_id = e->key_id;
    out.detail = std::move(e->detail);
    out.peer_key = e->peer_key;
    if (e->kind == cryptcom::event_kind::peer_refused) {
      if (auto n = zap_notes_.find(e->peer); n != zap_notes_.end()) {
        out.detail += " (" + n->second + ")";
        zap_notes_.erase(n);
      }
    }
    emit(std::move(out));
  }
  if (!refused.empty()) apply_verdicts(std::move(refused), now);
  if (!gone_.empty()) drop_gone(now);
  // What left or was delivered above is on its way; the answer is at least a hop away. The
  // agreement of the message that will follow is done now, off its path.
  if (prepare_seal_due_) {
    prepare_seal_due_ = false;
    if (kind_.what == role::req) {
      engine_.prepare_seal(direct_peer, now);
    } else if (!rep_pending_.empty()) {
      engine_.prepare_seal(rep_pending_.front(), now);
    }
  }
}

void io_loop::ask_zap(const cryptcom::event& e, std::vector<zap_client::verdict>& refused) {
  const std::string address = e.peer == last_wire_peer_ ? last_wire_address_ : std::string();
  const std::vector<std::string_view> path = routes_.path_of(e.peer);
  const std::string routing_id = path.empty() ? std::string() : std::string(path.front());
  if (auto v = zap_->ask(e.peer, e.peer_key, address, routing_id, clock_type::now())) {
    refused.push_back(std::move(*v));
  }
}

void io_loop::apply_verdicts(std::vector<zap_client::verdict>&& verdicts, time_point now) {
  for (auto& v : verdicts) {
    if (!routes_.contains(v.peer)) continue;  // gone meanwhile: the engine forgot its check
    if (v.accepted) {
      zap_users_[v.peer] = zap_user{v.key, std::move(v.user_id)};
    } else {
      zap_notes_[v.peer] = std::move(v.why);
    }
    engine_.resolve_identity(v.peer, v.key, v.accepted, now);
  }
  pump(now);
}

void io_loop::forget(peer_number peer) {
  if (kind_.pubsub) forget_pubsub(peer);
  balancer_.remove(peer);
  zap_users_.erase(peer);
  zap_notes_.erase(peer);
  routes_.erase(peer);
}

void io_loop::deliver(delivery&& d, in_place_frame* opened_in) {
  // A message delivered from a path completes an exchange with it (it asked for keys, got them
  // and sealed to one): the path is established.
  routes_.establish(d.peer);
  if (closing_) {
    // The application closed the socket: nobody will read this. Counted, like unread messages
    // left in a closed zmq::socket_t, and wiped (a delivery opened in place is wiped with its
    // frame, which read_wire_one marked as holding plaintext).
    ++counters_.messages_dropped;
    wipe(d);
    return;
  }
  std::vector<::zmq::message_t> out;
  switch (kind_.what) {
    case role::req:
      if (!req_outstanding_) {
        ++counters_.messages_dropped;
        wipe(d);
        emit({event_kind::message_dropped,
              route_of(d.peer),
              0,
              errc::ok,
              {},
              "a message reached the REQ socket while no request was outstanding; dropped as a "
              "REQ drops unexpected replies",
              {}});
        return;
      }
      req_outstanding_ = false;
      out = std::move(req_envelope_);
      req_envelope_.clear();
      out.emplace_back();  // the REQ end's delimiter, in place of the reply's own (§11)
      drop_leading_empty_part(d);
      break;
    case role::rep:
      rep_pending_.push_back(d.peer);
      routes_.pin(d.peer);
      prepare_seal_due_ = true;  // the reply may be to d.peer, sealed to the key it just gave
      out.emplace_back();        // the REP end's delimiter, in place of the request's own (§11)
      drop_leading_empty_part(d);
      break;
    case role::router:
    case role::dealer:
      // A worker behind a key-blind broker is one of the servers, not a path the application
      // names: its messages come without it, as a directly connected server's (§11.7).
      if (options_.through_broker && balancer_.contains(d.peer)) break;
      for (std::string_view f : routes_.path_of(d.peer)) out.emplace_back(f.data(), f.size());
      break;
    case role::pair:
    case role::pull:
      break;
    case role::sub:
    case role::xsub:
      if (!subscribed_to(d)) return;
      break;
    case role::pub:
    case role::xpub:
      on_subscription_set(std::move(d));
      return;
    case role::push:
      // A PULL sends no message; a peer that seals one to us anyway is not heard.
      ++counters_.messages_dropped;
      wipe(d);
      emit({event_kind::message_dropped,
            route_of(d.peer),
            0,
            errc::invalid_argument,
            {},
            "a message reached the PUSH socket, which receives none; dropped",
            {}});
      return;
  }
  append_parts(std::move(d), opened_in, out);
  ++counters_.messages_received;
  if (driving_) ++counters_.opened_in_calls;
  send_to_app(std::move(out));
}

void io_loop::send_to_app(std::vector<::zmq::message_t>&& parts) {
  if (!app_backlog_.empty()) {
    app_backlog_.push_back(std::move(parts));
    return;
  }
  handover_release();
  if (!::zmq::send_multipart(data_, parts, ::zmq::send_flags::dontwait)) {
    app_backlog_.push_back(std::move(parts));
  }
}

bool io_loop::flush_app_backlog() {
  while (!app_backlog_.empty()) {
    handover_release();
    if (!::zmq::send_multipart(data_, app_backlog_.front(), ::zmq::send_flags::dontwait)) {
      return false;
    }
    app_backlog_.pop_front();
  }
  return true;
}

void io_loop::send_to_wire(std::vector<::zmq::message_t>&& frames) {
  if (wire_backlog_.empty() && wire_send(frames)) return;
  ++counters_.wire_send_waits;
  if (wire_backlog_.size() >= max_wire_backlog) {
    wire_backlog_.pop_front();
    ++counters_.wire_messages_discarded;
  }
  wire_backlog_.push_back(std::move(frames));
}

bool io_loop::flush_wire_backlog() {
  while (!wire_backlog_.empty()) {
    if (!wire_send(wire_backlog_.front())) return false;
    wire_backlog_.pop_front();
  }
  return true;
}

bool io_loop::wire_send(std::vector<::zmq::message_t>& frames) {
  handover_release();
  if (!kind_.one_peer_per_connection) {
    return ::zmq::send_multipart(wire_, frames, ::zmq::send_flags::dontwait).has_value();
  }
  try {
    return ::zmq::send_multipart(wire_, frames, ::zmq::send_flags::dontwait).has_value();
  } catch (const ::zmq::error_t& e) {
    // ZMQ_ROUTER_MANDATORY: the routing id names no connection any more (it fails on the first
    // frame, so nothing of the message went). The peer is forgotten once the engine's output
    // is drained (drop_gone); its frames still waiting here are discarded.
    if (e.num() != EHOSTUNREACH) throw;
    const std::string_view id = view_of(frames.front());
    if (auto p = routes_.find(std::span<const std::string_view>(&id, 1))) gone_.push_back(*p);
    ++counters_.wire_messages_discarded;
    return true;
  }
}

void io_loop::drop_gone(time_point now) {
  while (!gone_.empty()) {
    std::vector<peer_number> gone = std::move(gone_);
    gone_.clear();
    for (peer_number p : gone) {
      if (!routes_.contains(p)) continue;
      // Its queued and unacknowledged messages are reported undeliverable, naming its route:
      // an unacknowledged one may have been opened before the connection went.
      balancer_.remove(p);
      engine_.disconnect(p, now);
      pump(now);
      forget(p);
      ++counters_.peers_forgotten;
    }
  }
}

void io_loop::send_to_server(server_link& link, std::vector<::zmq::message_t>&& frames) {
  if (link.backlog.empty()) {
    handover_release();
    if (::zmq::send_multipart(link.socket, frames, ::zmq::send_flags::dontwait)) return;
  }
  ++counters_.wire_send_waits;
  if (link.backlog.size() >= max_wire_backlog) {
    link.backlog.pop_front();
    ++counters_.wire_messages_discarded;
  }
  link.backlog.push_back(std::move(frames));
}

bool io_loop::flush_server_backlogs() {
  bool all = true;
  for (auto& link : servers_) {
    while (!link->backlog.empty()) {
      handover_release();
      if (!::zmq::send_multipart(link->socket, link->backlog.front(),
                                 ::zmq::send_flags::dontwait)) {
        all = false;
        break;
      }
      link->backlog.pop_front();
    }
  }
  return all;
}

bool io_loop::read_server_one(server_link& link, time_point now) {
  std::vector<::zmq::message_t> frames;
  if (!::zmq::recv_multipart(link.socket, std::back_inserter(frames),
                             ::zmq::recv_flags::dontwait)) {
    return false;
  }
  handover_acquire();
  if (frames.empty()) return true;
  ++counters_.wire_messages_received;
  counters_.wire_bytes_received += frames.back().size();
  // The server is connected directly: a routing frame here is no envelope of ours (empty ones,
  // a delimiter, are ignored as on every path, §11.2).
  if (std::any_of(frames.begin(), std::prev(frames.end()),
                  [](const ::zmq::message_t& f) { return f.size() > 0; })) {
    ++counters_.messages_dropped;
    emit({event_kind::message_dropped,
          {},
          0,
          errc::malformed_frame,
          {},
          "a wire message with routing frames from " + link.endpoint +
              " was dropped: a DEALER or REQ connected to several servers talks to each directly",
          {}});
    return true;
  }
  routes_.touch(link.peer, now);
  (void)engine_.receive(link.peer, bytes_of(frames.back()), now);
  acks_flushed_at_ = now + options_.engine.ack_delay + milliseconds(2);
  return true;
}

void io_loop::forget_idle_peers(time_point now) {
  std::optional<peer_number> keep;
  if (held_) keep = held_->peer;
  while (auto id = routes_.idle(now - idle_timeout_, keep, now)) {
    engine_.disconnect(*id, now);
    pump(now);  // its events still name its route
    forget(*id);
    ++counters_.peers_forgotten;
  }
}

bool io_loop::make_room(std::span<const std::string_view> path, bool established, time_point now) {
  const route_limits limits{options_.max_peers, options_.max_unestablished_per_connection};
  std::optional<peer_number> keep;
  if (held_) keep = held_->peer;
  while (auto v = routes_.victim_for(path, established, limits, keep, now)) evict(*v, now);
  return routes_.size() < options_.max_peers;
}

void io_loop::evict(const routing_table::victim& v, time_point now) {
  const bool established = routes_.established(v.peer);
  const std::size_t limit =
      v.why == bound::max_peers ? options_.max_peers : options_.max_unestablished_per_connection;
  std::string detail = std::string("a routing path was evicted to make room for a new one: ") +
                       name_of(v.why) + " (" + std::to_string(limit) + ") reached; it was ";
  if (established) {
    detail += "the least recently active path";
  } else if (v.why == bound::max_peers) {
    detail +=
        "the oldest path that never completed an exchange, of the connection holding the "
        "most of those";
  } else {
    detail += "its connection's oldest path that never completed an exchange";
  }
  std::vector<std::string> path = route_of(v.peer);
  engine_.disconnect(v.peer, now);
  pump(now);  // its events still name its route
  forget(v.peer);
  ++counters_.peers_evicted;
  emit({event_kind::peer_evicted,
        std::move(path),
        0,
        errc::limit_exceeded,
        {},
        std::move(detail),
        {}});
}

// ---------------------------------------------------------------------------------------------
// The end

void io_loop::finish(const std::string& why) noexcept {
  try {
    const time_point now = clock_type::now();
    closing_ = true;  // from here on, whatever the engine delivers is dropped and wiped
    if (held_) {
      emit({event_kind::message_undeliverable,
            route_of(held_->peer),
            held_->number,
            errc::undeliverable,
            {},
            "message " + std::to_string(held_->number) +
                " was still waiting for room in the engine's queue when the socket stopped",
            {}});
      held_.reset();
    }
    for (const outgoing& m : replaced_) {
      emit({event_kind::message_undeliverable,
            {},
            m.number,
            errc::undeliverable,
            {},
            "message " + std::to_string(m.number) +
                " was waiting for another server after its own went away when the socket stopped",
            {}});
    }
    replaced_.clear();
    counters_.messages_dropped += app_backlog_.size();
    for (auto& parts : app_backlog_) wipe(parts);
    app_backlog_.clear();
    // Messages the application sent that the linger left no time to read: never sent.
    while (kind_.what != role::pull) {
      std::vector<::zmq::message_t> parts;
      if (!::zmq::recv_multipart(data_, std::back_inserter(parts), ::zmq::recv_flags::dontwait)) {
        break;
      }
      handover_acquire();
      const std::uint64_t number = ++app_count_;
      emit({event_kind::message_undeliverable,
            {},
            number,
            errc::undeliverable,
            {},
            "message " + std::to_string(number) + " was still in the socket when it closed",
            {}});
    }
    socket_stats last = stats();
    // Everything still queued or unacknowledged is reported undeliverable by the engine.
    for (peer_number id : routes_.peers()) engine_.disconnect(id, now);
    while (engine_.poll_transmit()) {
    }
    while (auto d = engine_.poll_delivery()) {
      ++counters_.messages_dropped;
      wipe(*d);
    }
    pump(now);
    last.transport.messages_dropped = counters_.messages_dropped;
    const stats_snapshot after = engine_.stats();
    last.engine.total = after.total;
    last.engine.live_keys = after.live_keys;
    last.engine.queued_messages = after.queued_messages;
    last.engine.unacknowledged = after.unacknowledged;
    last.key_pool = pool_->stats();
    last.transport.events_dropped = shared_->events_dropped();
    shared_->set_final_stats(std::move(last));
  } catch (...) {
    // Reporting is best effort; closing below must happen regardless.
  }
  shared_->stop_accepting("cryptcom socket is closed: " + why);
  try {
    long remaining = 0;
    if (close_deadline_) {
      remaining = std::max<long>(
          0, static_cast<long>(
                 std::chrono::ceil<milliseconds>(*close_deadline_ - clock_type::now()).count()));
    }
    // Frames already handed to libzmq (final acknowledgements) get what is left of the linger.
    wire_.set(::zmq::sockopt::linger, static_cast<int>(remaining));
    for (auto& link : servers_)
      link->socket.set(::zmq::sockopt::linger, static_cast<int>(remaining));
  } catch (...) {
  }
  wire_.close();
  for (auto& link : servers_) link->socket.close();
  data_.close();
}

}  // namespace cryptcom::zmq::detail
