// Helpers of the authenticated-mode tests (issue 11): identities whose secret keys the test holds
// (the forward-secrecy test hands them to an offline attacker), the options of clients and
// servers in either mode, an echo server that counts what it delivered, and a client run that
// tells, for every message, whether it was echoed or reported undeliverable.
//
// Timers are short (retransmission 300 ms, key requests and handshakes retried every 200 ms,
// delivery given up after 4 s) so that an attack that makes the engine recover costs a test
// seconds, not the defaults' minutes.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "attacker/v2_crypto.hpp"
#include "cryptcom/identity.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "hostile_support.hpp"

namespace cryptcom::auth_test {

using namespace std::chrono_literals;
using cryptcom::hostile::test::bound;
using cryptcom::hostile::test::wait_until;
namespace v2 = cryptcom::hostile::v2;

// A long-term key pair whose secret the test keeps, and the identity made of it.
struct static_keys {
  v2::key32 secret{};
  v2::key32 pub{};
  cryptcom::identity id;
  cryptcom::public_key public_value() const {
    cryptcom::public_key k;
    k.bytes = pub;
    return k;
  }
};

inline std::string z85(const v2::key32& k) {
  char text[41] = {};
  if (zmq_z85_encode(text, k.data(), k.size()) == nullptr) throw std::runtime_error("z85");
  return text;
}

inline static_keys make_keys() {
  auto [secret, pub] = v2::random_key_pair();
  auto id = cryptcom::identity::from_z85(z85(pub), z85(secret));
  if (!id.ok()) throw std::runtime_error("identity: " + id.error().to_string());
  return static_keys{secret, pub, std::move(*id)};
}

inline std::shared_ptr<cryptcom::key_pool> shared_pool() {
  static std::shared_ptr<cryptcom::key_pool> pool(cryptcom::make_key_pool({}));
  return pool;
}

inline cryptcom::zmq::socket_options base_options() {
  cryptcom::zmq::socket_options o;
  o.linger = 0ms;
  o.key_pool = shared_pool();
  o.engine.retransmit_after = 300ms;
  o.engine.key_request_retry = 200ms;
  o.engine.delivery_timeout = 4s;
  o.engine.peer_restart_interval = 100ms;
  return o;
}

// An initiator: `self` (nullptr: base mode) talking to the server whose public key is `server`.
inline cryptcom::zmq::socket_options client_options(const static_keys* self,
                                                    std::optional<v2::key32> server) {
  auto o = base_options();
  if (self) o.engine.auth.self = self->id;
  if (server) {
    cryptcom::public_key k;
    k.bytes = *server;
    o.engine.auth.peer_key = k;
  }
  return o;
}

// A responder with identity `self` (nullptr: base mode) accepting `allowed` (policy allow_list).
inline cryptcom::zmq::socket_options server_options(
    const static_keys* self, const std::vector<const static_keys*>& allowed) {
  auto o = base_options();
  if (self) o.engine.auth.self = self->id;
  o.engine.auth.policy = cryptcom::peer_policy::allow_list;
  for (const auto* k : allowed) o.engine.auth.allowed.push_back(k->public_value());
  return o;
}

// Events with their kind and reason, for readable failure messages.
inline std::string describe(const std::vector<cryptcom::zmq::event>& events) {
  std::string out;
  for (const auto& e : events) {
    out += "  kind " + std::to_string(static_cast<int>(e.kind)) + " key " +
           std::to_string(e.peer_key.bytes[0]) + "... reason " +
           std::to_string(static_cast<int>(e.reason)) + ": " + e.detail + "\n";
  }
  return out;
}

inline std::size_t count_events(const std::vector<cryptcom::zmq::event>& events,
                                cryptcom::zmq::event_kind kind,
                                std::optional<cryptcom::errc> reason = std::nullopt) {
  std::size_t n = 0;
  for (const auto& e : events) {
    if (e.kind == kind && (!reason || e.reason == *reason)) ++n;
  }
  return n;
}

// An echo server on its own thread: a ROUTER that binds `endpoint`, or (worker) a DEALER that
// connects to a broker's backend and answers [client id, parts...] on the same path. Counts every
// message it delivered by its last part.
class echo_peer {
 public:
  echo_peer(::zmq::context_t& ctx, cryptcom::zmq::socket_options options,
            const std::string& endpoint, bool worker = false)
      : socket_(ctx, worker ? ::zmq::socket_type::dealer : ::zmq::socket_type::router,
                std::move(options)) {
    if (worker) {
      socket_.connect(endpoint);
    } else {
      socket_.bind(endpoint);
    }
    endpoint_ = socket_.get(::zmq::sockopt::last_endpoint);
    socket_.set(::zmq::sockopt::rcvtimeo, 10);
    thread_ = std::thread([this] { run(); });
  }
  ~echo_peer() {
    stop_ = true;
    thread_.join();
    socket_.close();
  }
  echo_peer(const echo_peer&) = delete;
  echo_peer& operator=(const echo_peer&) = delete;

  const std::string& endpoint() const noexcept { return endpoint_; }
  std::size_t delivered(const std::string& body) const {
    std::lock_guard lock(mutex_);
    auto it = delivered_.find(body);
    return it == delivered_.end() ? 0 : it->second;
  }
  std::size_t delivered_total() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [body, count] : delivered_) n += count;
    return n;
  }
  std::vector<cryptcom::zmq::event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  cryptcom::zmq::socket_stats stats() const { return socket_.stats(); }
  cryptcom::counters totals() const { return socket_.stats().engine.total; }

 private:
  void run() {
    while (!stop_) {
      std::vector<cryptcom::zmq::event> fresh;
      while (auto e = socket_.poll_event()) fresh.push_back(std::move(*e));
      std::vector<::zmq::message_t> parts;
      bool got = false;
      try {
        got = static_cast<bool>(recv_multipart(socket_, std::back_inserter(parts)));
      } catch (const ::zmq::error_t&) {
        return;
      }
      std::lock_guard lock(mutex_);
      events_.insert(events_.end(), fresh.begin(), fresh.end());
      if (!got || parts.size() < 2) continue;
      ++delivered_[parts.back().to_string()];
      (void)send_multipart(socket_, parts, ::zmq::send_flags::dontwait);
    }
  }

  mutable cryptcom::zmq::socket socket_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> delivered_;
  std::vector<cryptcom::zmq::event> events_;
  std::thread thread_;
};

// A client: a cryptcom DEALER driven from the test's thread.
class client {
 public:
  client(::zmq::context_t& ctx, cryptcom::zmq::socket_options options, const std::string& endpoint)
      : socket_(ctx, ::zmq::socket_type::dealer, std::move(options)) {
    socket_.set(::zmq::sockopt::sndtimeo, 1000);
    socket_.connect(endpoint);
  }

  // What became of a batch of messages.
  struct outcome {
    std::vector<std::string> bodies;
    std::map<std::string, std::size_t> echoed;  // body -> echoes received
    std::set<std::string> undeliverable;        // reported by message_undeliverable
    std::map<std::string, cryptcom::errc> why;
  };

  // Sends `n` messages "<tag>-<i>", then waits until each was echoed or reported undeliverable,
  // or `timeout` passed; events are collected meanwhile.
  outcome run(const std::string& tag, std::size_t n, std::chrono::milliseconds timeout) {
    outcome o;
    std::map<std::uint64_t, std::string> by_id;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string body = tag + "-" + std::to_string(i);
      o.bodies.push_back(body);
      const auto sent = socket_.send(::zmq::buffer(body), ::zmq::send_flags::none);
      if (!sent) ADD_FAILURE() << "send of " << body << " did not go";
      by_id[socket_.messages_sent()] = body;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    socket_.set(::zmq::sockopt::rcvtimeo, 20);
    auto settled = [&] {
      for (const auto& b : o.bodies) {
        if (!o.echoed.count(b) && !o.undeliverable.count(b)) return false;
      }
      return true;
    };
    while (!settled() && std::chrono::steady_clock::now() < deadline) {
      ::zmq::message_t m;
      if (socket_.recv(m, ::zmq::recv_flags::none)) ++o.echoed[m.to_string()];
      take_events();
      for (const auto& e : events_) {
        if (e.kind != cryptcom::zmq::event_kind::message_undeliverable) continue;
        auto it = by_id.find(e.message);
        if (it == by_id.end()) continue;
        o.undeliverable.insert(it->second);
        o.why[it->second] = e.reason;
      }
    }
    // Late copies: an echo delivered twice shows up within a retransmission or two.
    const auto settle = std::chrono::steady_clock::now() + 400ms;
    while (std::chrono::steady_clock::now() < settle) {
      ::zmq::message_t m;
      if (socket_.recv(m, ::zmq::recv_flags::none)) ++o.echoed[m.to_string()];
    }
    take_events();
    return o;
  }

  void take_events() {
    while (auto e = socket_.poll_event()) events_.push_back(std::move(*e));
  }
  const std::vector<cryptcom::zmq::event>& events() {
    take_events();
    return events_;
  }
  cryptcom::zmq::socket_stats stats() const { return socket_.stats(); }
  cryptcom::counters totals() const { return socket_.stats().engine.total; }
  cryptcom::zmq::socket& socket() noexcept { return socket_; }

 private:
  cryptcom::zmq::socket socket_;
  std::vector<cryptcom::zmq::event> events_;
};

// Issue 11: "every message is delivered exactly once or reported undeliverable". With
// `all_delivered`, the positive control: every message got through (the attack was survived, not
// merely refused).
inline void expect_exactly_once(const echo_peer& server, const client::outcome& o,
                                bool all_delivered) {
  for (const auto& body : o.bodies) {
    const std::size_t n = server.delivered(body);
    EXPECT_LE(n, 1u) << body << " was delivered " << n << " times";
    auto echoed = o.echoed.find(body);
    if (echoed != o.echoed.end()) {
      EXPECT_EQ(echoed->second, 1u)
          << "the echo of " << body << " arrived " << echoed->second << " times";
    }
    if (n == 0) {
      EXPECT_TRUE(o.undeliverable.count(body))
          << body << " was never delivered and never reported undeliverable";
    }
    if (all_delivered) {
      EXPECT_EQ(n, 1u) << body << " did not get through";
      EXPECT_TRUE(echoed != o.echoed.end()) << "no echo of " << body;
    }
  }
}

// A path for an ipc endpoint of this test, unique per process and name.
inline std::string ipc_endpoint(const std::string& name) {
  return "ipc:///tmp/cryptcom-auth-" + std::to_string(::getpid()) + "-" + name;
}

}  // namespace cryptcom::auth_test
