// The key-blind load-balancing broker; see cryptcom/zmq/broker.hpp and docs/PROTOCOL.md §11.7.
//
// Everything runs on run()'s thread; stop() and stats() touch atomics only. The broker reads the
// cleartext header of each frame (cryptcom::read_frame_header) and nothing else: it never holds
// a key, and what it forwards it forwards byte for byte, so version 2's MACs still verify.
#include "cryptcom/zmq/broker.hpp"

#include <zmq.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cryptcom/frame_header.hpp"
#include "cryptcom/types.hpp"
#include "cryptcom/zmq/error.hpp"
#include "handover.hpp"

namespace cryptcom::zmq {
namespace {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;

// The gone notice's first byte (§11.7); key ids follow.
constexpr unsigned char gone_tag = 0x00;

std::string hex_id(std::string_view routing_id) {
  return to_hex(byte_view(reinterpret_cast<const byte*>(routing_id.data()), routing_id.size()));
}

std::string_view view_of(const ::zmq::message_t& m) {
  return {static_cast<const char*>(m.data()), m.size()};
}

// One counter per broker_stats field, readable from any thread.
struct counters {
  std::atomic<std::uint64_t> workers_joined{0}, workers_gone{0}, clients_joined{0}, clients_gone{0},
      frames_to_workers{0}, frames_to_clients{0}, data_frames_routed{0}, refused_unknown_key{0},
      refused_forged_issuer{0}, refused_unknown_worker{0}, refused_unknown_client{0},
      refused_malformed{0}, refused_full{0}, refused_over_limit{0}, gone_notices_sent{0},
      clients{0}, workers{0}, keys{0};
};

void bump(std::atomic<std::uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

enum class sent : unsigned char { ok, full, gone };

}  // namespace

struct broker::state {
  struct key_record {
    std::string client;
    std::string worker;
    time_point expires;
    bool forwarded = false;
    // Its worker is gone: kept to its expiry only to tell a late frame under it whether a frame
    // under this key ever reached the worker (§11.7).
    bool issuer_gone = false;
  };
  struct worker_info {
    time_point joined;
  };

  state(::zmq::context_t& context, broker_options o)
      : options(o),
        frontend(context, ::zmq::socket_type::router),
        backend(context, ::zmq::socket_type::router) {
    for (auto* s : {&frontend, &backend}) {
      s->set(::zmq::sockopt::router_mandatory, true);
      s->set(::zmq::sockopt::probe_router, true);
      s->set(::zmq::sockopt::linger, 0);
    }
  }

  broker_options options;
  ::zmq::socket_t frontend;
  ::zmq::socket_t backend;
  ::zmq::socket_ref capture;
  std::function<void(const broker_event&)> on_event;
  std::atomic<bool> stopping{false};
  counters count;

  std::unordered_map<std::string, time_point> clients;  // routing id -> when it joined
  std::unordered_map<std::string, worker_info> workers;
  std::vector<std::string> worker_order;  // in joining order: announcements, probes
  std::unordered_map<guid, key_record> keys;
  // Key ids by expiry, soonest first; an entry whose record expires later (re-offered) or is
  // gone is skipped.
  using expiry = std::pair<time_point, guid>;
  struct later {
    bool operator()(const expiry& a, const expiry& b) const noexcept { return a.first > b.first; }
  };
  std::priority_queue<expiry, std::vector<expiry>, later> expiries;
  time_point next_probe{};

  void report(const char* side, std::string_view routing_id, std::string what) {
    if (on_event) on_event({side, std::string(routing_id), std::move(what)});
  }

  // Sends frames on a ROUTER without waiting; the first frame is the routing id.
  sent send(::zmq::socket_t& s, std::vector<::zmq::message_t>& frames) {
    detail::handover_release();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const int flags = ZMQ_DONTWAIT | (i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
      if (zmq_msg_send(frames[i].handle(), s.handle(), flags) < 0) {
        // ROUTER_MANDATORY fails the first frame only, before anything is queued.
        if (errno == EHOSTUNREACH) return sent::gone;
        if (errno == EAGAIN) return sent::full;
        if (errno == ETERM) return sent::full;
        throw ::zmq::error_t();
      }
    }
    return sent::ok;
  }

  static ::zmq::message_t frame_of(std::string_view bytes) {
    return ::zmq::message_t(bytes.data(), bytes.size());
  }

  void capture_copy(const std::vector<::zmq::message_t>& frames) {
    if (!capture) return;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      ::zmq::message_t copy;
      copy.copy(const_cast<::zmq::message_t&>(frames[i]));
      const int flags = ZMQ_DONTWAIT | (i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
      if (zmq_msg_send(copy.handle(), capture.handle(), flags) < 0) return;
    }
  }

  // ---- joining and going ----
  void announce(const std::string& client, const std::string& worker) {
    std::vector<::zmq::message_t> out;
    out.push_back(frame_of(client));
    out.push_back(frame_of(worker));
    out.emplace_back();
    if (send(frontend, out) == sent::gone) client_gone(client);
  }

  void client_presence(const std::string& client, time_point now) {
    if (!clients.count(client)) {
      if (clients.size() >= options.max_clients) {
        bump(count.refused_over_limit);
        report("client", client,
               "client " + hex_id(client) + " refused: max_clients (" +
                   std::to_string(options.max_clients) + ") reached");
        return;
      }
      clients.emplace(client, now);
      bump(count.clients_joined);
    }
    // Announced on every presence: a client answers one per connection, and a new connection
    // voids the workers it knew (§11.7).
    const std::vector<std::string> order = worker_order;
    for (const auto& w : order) {
      if (!clients.count(client)) break;
      announce(client, w);
    }
  }

  void worker_presence(const std::string& worker, time_point now) {
    if (workers.count(worker)) return;  // the answer to a probe
    if (workers.size() >= options.max_workers) {
      bump(count.refused_over_limit);
      report("worker", worker,
             "worker " + hex_id(worker) + " refused: max_workers (" +
                 std::to_string(options.max_workers) + ") reached");
      return;
    }
    workers.emplace(worker, worker_info{now});
    worker_order.push_back(worker);
    bump(count.workers_joined);
    report("worker", worker, "worker " + hex_id(worker) + " joined");
    std::vector<std::string> all;
    all.reserve(clients.size());
    for (const auto& [c, joined] : clients) all.push_back(c);
    for (const auto& c : all) announce(c, worker);
  }

  void client_gone(const std::string& client) {
    if (clients.erase(client) == 0) return;
    bump(count.clients_gone);
    // Its key records go at their expiry: no frame can be routed under them any more.
  }

  void gone_notice(const std::string& client, const std::string& worker,
                   const std::vector<guid>& unforwarded) {
    std::string notice(1, static_cast<char>(gone_tag));
    for (const guid& id : unforwarded)
      notice.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
    std::vector<::zmq::message_t> out;
    out.push_back(frame_of(client));
    out.push_back(frame_of(worker));
    out.push_back(frame_of(notice));
    const sent r = send(frontend, out);
    if (r == sent::ok) bump(count.gone_notices_sent);
    if (r == sent::gone) client_gone(client);
  }

  void worker_gone(const std::string& worker, const char* how) {
    if (workers.erase(worker) == 0) return;
    std::erase(worker_order, worker);
    bump(count.workers_gone);
    // The keys it issued, by client, under which no frame was forwarded: their messages never
    // reached it.
    std::unordered_map<std::string, std::vector<guid>> unforwarded;
    for (auto& [id, r] : keys) {
      if (r.worker != worker || r.issuer_gone) continue;
      r.issuer_gone = true;
      if (!r.forwarded) unforwarded[r.client].push_back(id);
    }
    report("worker", worker, "worker " + hex_id(worker) + " gone (" + how + ")");
    std::vector<std::string> all;
    all.reserve(clients.size());
    for (const auto& [c, joined] : clients) all.push_back(c);
    static const std::vector<guid> none;
    for (const auto& c : all) {
      auto it = unforwarded.find(c);
      gone_notice(c, worker, it == unforwarded.end() ? none : it->second);
    }
  }

  // ---- frames ----
  void from_client(std::vector<::zmq::message_t>& frames, time_point now) {
    const std::string client(view_of(frames[0]));
    if (frames.size() == 2 && frames[1].size() == 0) {
      client_presence(client, now);
      return;
    }
    if (frames.size() != 3 || frames[1].size() == 0 || frames[2].size() == 0) {
      bump(count.refused_malformed);
      report("client", client,
             "a message of " + std::to_string(frames.size()) + " frames from client " +
                 hex_id(client) +
                 " was refused: expected [worker routing id, cryptcom frame] (§11.7)");
      return;
    }
    if (!clients.count(client)) {
      bump(count.refused_unknown_client);
      report("client", client,
             "a frame from client " + hex_id(client) +
                 " was refused: it has not announced itself (no presence; is through_broker set?)");
      return;
    }
    const std::string worker(view_of(frames[1]));
    const byte_view bytes(static_cast<const byte*>(frames[2].data()), frames[2].size());
    result<frame_header> header = read_frame_header(bytes);
    if (!workers.count(worker)) {
      bump(count.refused_unknown_worker);
      // A data frame under a key of a worker that went, under which nothing was forwarded:
      // its message never reached the worker, and the notice says so.
      std::vector<guid> unforwarded;
      if (header.ok() && header->key_id) {
        auto it = keys.find(*header->key_id);
        if (it != keys.end() && it->second.client == client && it->second.worker == worker &&
            !it->second.forwarded)
          unforwarded.push_back(*header->key_id);
      }
      report("client", client,
             "a frame from client " + hex_id(client) + " for worker " + hex_id(worker) +
                 " was refused: no such worker (answered gone)");
      gone_notice(client, worker, unforwarded);
      return;
    }
    if (!header.ok()) {
      bump(count.refused_malformed);
      report("client", client,
             "a frame from client " + hex_id(client) + " for worker " + hex_id(worker) +
                 " was refused: " + header.error().message());
      return;
    }
    key_record* record = nullptr;
    if (header->key_id) {
      auto it = keys.find(*header->key_id);
      const std::string key = to_hex(header->key_id->bytes);
      if (it == keys.end() || it->second.client != client) {
        bump(count.refused_unknown_key);
        report("client", client,
               "a data frame from client " + hex_id(client) + " under key " + key +
                   " was refused: no worker issued that key to this client");
        return;
      }
      if (it->second.worker != worker || it->second.issuer_gone) {
        bump(count.refused_forged_issuer);
        report("client", client,
               "a data frame from client " + hex_id(client) + " under key " + key +
                   " was refused: it names worker " + hex_id(worker) + ", but worker " +
                   hex_id(it->second.worker) + " issued the key");
        return;
      }
      record = &it->second;
    }
    std::vector<::zmq::message_t> out;
    out.push_back(std::move(frames[1]));
    out.push_back(std::move(frames[0]));
    out.push_back(std::move(frames[2]));
    switch (send(backend, out)) {
      case sent::ok:
        bump(count.frames_to_workers);
        if (record) {
          record->forwarded = true;
          bump(count.data_frames_routed);
        }
        break;
      case sent::full:
        bump(count.refused_full);
        break;
      case sent::gone:
        worker_gone(worker, "its connection closed");
        break;
    }
  }

  void from_worker(std::vector<::zmq::message_t>& frames, time_point now) {
    const std::string worker(view_of(frames[0]));
    if (frames.size() == 2 && frames[1].size() == 0) {
      worker_presence(worker, now);
      return;
    }
    if (frames.size() != 3 || frames[1].size() == 0 || frames[2].size() == 0) {
      bump(count.refused_malformed);
      report("worker", worker,
             "a message of " + std::to_string(frames.size()) + " frames from worker " +
                 hex_id(worker) +
                 " was refused: expected [client routing id, cryptcom frame] (§11.7)");
      return;
    }
    if (!workers.count(worker)) {
      bump(count.refused_unknown_worker);
      report("worker", worker,
             "a frame from worker " + hex_id(worker) +
                 " was refused: it has not announced itself (no presence; is through_broker set?)");
      return;
    }
    const std::string client(view_of(frames[1]));
    if (!clients.count(client)) {
      bump(count.refused_unknown_client);
      report("worker", worker,
             "a frame from worker " + hex_id(worker) + " for client " + hex_id(client) +
                 " was refused: no such client");
      return;
    }
    const byte_view bytes(static_cast<const byte*>(frames[2].data()), frames[2].size());
    result<frame_header> header = read_frame_header(bytes);
    if (!header.ok()) {
      bump(count.refused_malformed);
      report("worker", worker,
             "a frame from worker " + hex_id(worker) + " for client " + hex_id(client) +
                 " was refused: " + header.error().message());
      return;
    }
    // Offers first checked, all or nothing: a frame is forwarded whole or not at all (in
    // version 2 its MAC covers every offer).
    std::size_t fresh = 0;
    for (const auto& o : header->offers) {
      auto it = keys.find(o.id);
      if (it == keys.end()) {
        ++fresh;
        continue;
      }
      if (it->second.client != client || it->second.worker != worker) {
        bump(count.refused_forged_issuer);
        report("worker", worker,
               "a frame from worker " + hex_id(worker) + " to client " + hex_id(client) +
                   " was refused: it offers key " + to_hex(o.id.bytes) + ", which worker " +
                   hex_id(it->second.worker) + " issued to client " + hex_id(it->second.client));
        return;
      }
    }
    if (keys.size() + fresh > options.max_keys) {
      bump(count.refused_over_limit);
      report("worker", worker,
             "a frame from worker " + hex_id(worker) + " to client " + hex_id(client) +
                 " was refused: max_keys (" + std::to_string(options.max_keys) +
                 ") key ids are remembered");
      return;
    }
    for (const auto& o : header->offers) {
      const time_point expires = now + std::chrono::milliseconds(o.ttl_ms) + options.key_grace;
      key_record& r = keys[o.id];
      if (r.client.empty()) {
        r.client = client;
        r.worker = worker;
      }
      r.expires = expires;
      expiries.emplace(expires, o.id);
    }
    // Acknowledged keys are kept to their expiry all the same: a client whose acknowledgement
    // was lost sends a copy under the key, which its worker acknowledges again (§9).
    count.keys.store(keys.size(), std::memory_order_relaxed);
    std::vector<::zmq::message_t> out;
    out.push_back(std::move(frames[1]));
    out.push_back(std::move(frames[0]));
    out.push_back(std::move(frames[2]));
    switch (send(frontend, out)) {
      case sent::ok:
        bump(count.frames_to_clients);
        break;
      case sent::full:
        bump(count.refused_full);
        break;
      case sent::gone:
        client_gone(client);
        break;
    }
  }

  // ---- time ----
  void probe(time_point now) {
    const std::vector<std::string> order = worker_order;
    for (const auto& w : order) {
      std::vector<::zmq::message_t> out;
      out.push_back(frame_of(w));
      out.emplace_back();
      if (send(backend, out) == sent::gone) worker_gone(w, "its connection closed");
    }
    while (!expiries.empty() && expiries.top().first <= now) {
      const auto [at, id] = expiries.top();
      expiries.pop();
      auto it = keys.find(id);
      if (it != keys.end() && it->second.expires <= now) keys.erase(it);
    }
    // A priority queue of superseded entries would grow with re-offers; rebuild it when it is
    // much larger than what it indexes.
    if (expiries.size() > 4 * keys.size() + 1024) {
      decltype(expiries) fresh;
      for (const auto& [id, r] : keys) fresh.emplace(r.expires, id);
      expiries.swap(fresh);
    }
    count.keys.store(keys.size(), std::memory_order_relaxed);
    count.clients.store(clients.size(), std::memory_order_relaxed);
    count.workers.store(workers.size(), std::memory_order_relaxed);
  }

  bool read_one(::zmq::socket_t& s, bool is_frontend, time_point now) {
    std::vector<::zmq::message_t> frames;
    for (;;) {
      ::zmq::message_t m;
      if (!s.recv(m, ::zmq::recv_flags::dontwait)) {
        if (frames.empty()) return false;
        continue;  // the rest of a multipart message is always there at once
      }
      const bool more = m.more();
      frames.push_back(std::move(m));
      if (!more) break;
      if (frames.size() > 8) {
        // No envelope of ours is this long: drain it without keeping it.
        while (s.get(::zmq::sockopt::rcvmore)) {
          ::zmq::message_t rest;
          (void)s.recv(rest, ::zmq::recv_flags::none);
        }
        bump(count.refused_malformed);
        report(is_frontend ? "client" : "worker", view_of(frames[0]),
               "a message of more than 8 frames was refused");
        return true;
      }
    }
    // What another thread of this process sent through libzmq (which ThreadSanitizer does not
    // see into) is read only after this acquire, as the sockets do.
    detail::handover_acquire();
    capture_copy(frames);
    if (frames.size() < 2) {
      bump(count.refused_malformed);
      return true;
    }
    if (is_frontend) {
      from_client(frames, now);
    } else {
      from_worker(frames, now);
    }
    count.clients.store(clients.size(), std::memory_order_relaxed);
    count.workers.store(workers.size(), std::memory_order_relaxed);
    return true;
  }
};

broker::broker(::zmq::context_t& context, broker_options options)
    : state_(std::make_unique<state>(context, options)) {
  if (options.probe_interval.count() <= 0)
    throw error(EINVAL, "cryptcom::zmq::broker: probe_interval must be positive");
}

broker::~broker() = default;

void broker::bind_frontend(const std::string& endpoint) { state_->frontend.bind(endpoint); }
void broker::bind_backend(const std::string& endpoint) { state_->backend.bind(endpoint); }
std::string broker::frontend_endpoint() const {
  return state_->frontend.get(::zmq::sockopt::last_endpoint);
}
std::string broker::backend_endpoint() const {
  return state_->backend.get(::zmq::sockopt::last_endpoint);
}
void broker::capture(::zmq::socket_ref socket) { state_->capture = socket; }
void broker::on_event(std::function<void(const broker_event&)> callback) {
  state_->on_event = std::move(callback);
}

void broker::run() {
  state& s = *state_;
  s.next_probe = clock_type::now() + s.options.probe_interval;
  // Bounds the wait so that stop() is seen within it.
  constexpr auto max_wait = std::chrono::milliseconds(50);
  try {
    while (!s.stopping.load(std::memory_order_acquire)) {
      const time_point now = clock_type::now();
      if (now >= s.next_probe) {
        s.probe(now);
        s.next_probe = now + s.options.probe_interval;
      }
      const auto wait =
          std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(s.next_probe - now),
                     std::chrono::milliseconds(0), max_wait);
      std::array<::zmq::pollitem_t, 2> items{
          {{s.frontend.handle(), 0, ZMQ_POLLIN, 0}, {s.backend.handle(), 0, ZMQ_POLLIN, 0}}};
      ::zmq::poll(items.data(), items.size(), wait);
      // Both sides in turns, a batch each, so neither starves the other.
      for (int i = 0; i < 256; ++i) {
        const time_point t = clock_type::now();
        const bool a = s.read_one(s.frontend, true, t);
        const bool b = s.read_one(s.backend, false, t);
        if (!a && !b) break;
      }
    }
  } catch (const ::zmq::error_t& e) {
    if (e.num() != ETERM) throw;
  }
}

void broker::stop() noexcept { state_->stopping.store(true, std::memory_order_release); }

broker_stats broker::stats() const {
  const counters& c = state_->count;
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  broker_stats s;
  s.clients = get(c.clients);
  s.workers = get(c.workers);
  s.keys = get(c.keys);
  s.workers_joined = get(c.workers_joined);
  s.workers_gone = get(c.workers_gone);
  s.clients_joined = get(c.clients_joined);
  s.clients_gone = get(c.clients_gone);
  s.frames_to_workers = get(c.frames_to_workers);
  s.frames_to_clients = get(c.frames_to_clients);
  s.data_frames_routed = get(c.data_frames_routed);
  s.refused_unknown_key = get(c.refused_unknown_key);
  s.refused_forged_issuer = get(c.refused_forged_issuer);
  s.refused_unknown_worker = get(c.refused_unknown_worker);
  s.refused_unknown_client = get(c.refused_unknown_client);
  s.refused_malformed = get(c.refused_malformed);
  s.refused_full = get(c.refused_full);
  s.refused_over_limit = get(c.refused_over_limit);
  s.gone_notices_sent = get(c.gone_notices_sent);
  return s;
}

}  // namespace cryptcom::zmq
