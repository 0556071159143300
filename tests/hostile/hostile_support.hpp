// Helpers shared by the hostile-peer tests: how much slack a slow build gets, the options of the
// target and of well-behaved clients, waiting on a condition with a deadline, and what an event
// must say when a bound refused something.
//
// Liveness bounds (a newcomer served within 1 s, a server drained within 1 s of a flood's end)
// are issue 9's figures, kept as they are in the gcc build. Under the sanitizers everything runs
// several times slower, so they are multiplied by slack(): 5 under ASan/UBSan or TSan, 1
// otherwise; the environment variable CRYPTCOM_HOSTILE_SLACK sets it explicitly.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "attacker/echo_server.hpp"
#include "attacker/raw_peer.hpp"
#include "attacker/speaker.hpp"
#include "cryptcom/zmq/socket.hpp"

namespace cryptcom::hostile::test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr double build_slack = 5;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr double build_slack = 5;
#else
inline constexpr double build_slack = 1;
#endif
#else
inline constexpr double build_slack = 1;
#endif

inline bool sanitized() { return build_slack > 1; }

// A flood's or an attack's size: `full` in the gcc build, `sanitized_size` under the sanitizers,
// where the target's own code runs ten times slower or more (Debug, instrumented) and a flood
// sized for the gcc build would test the build's speed rather than the target's bounds.
inline std::uint64_t scaled_size(std::uint64_t full, std::uint64_t sanitized_size) {
  return sanitized() ? sanitized_size : full;
}

inline double slack() {
  if (const char* v = std::getenv("CRYPTCOM_HOSTILE_SLACK")) {
    const double s = std::atof(v);
    if (s >= 1) return s;
  }
  return build_slack;
}

// A liveness bound of issue 9, stretched by slack().
inline std::chrono::milliseconds bound(std::chrono::milliseconds d) {
  return std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(d.count()) * slack()));
}

// One key pool for every well-behaved client of the tests (the targets have their own).
inline std::shared_ptr<cryptcom::key_pool> client_pool() {
  static std::shared_ptr<cryptcom::key_pool> pool(cryptcom::make_key_pool({}));
  return pool;
}

// The target's options: the defaults of a cryptcom socket, which is what issue 9 attacked.
inline cryptcom::zmq::socket_options server_options() {
  cryptcom::zmq::socket_options o;
  o.linger = 0ms;
  return o;
}

// A well-behaved client's: the same engine options as the target's (both ends must agree on the
// AEAD), the shared pool.
inline cryptcom::zmq::socket_options client_options(const cryptcom::zmq::socket_options& server) {
  cryptcom::zmq::socket_options o;
  o.engine = server.engine;
  o.key_pool = client_pool();
  o.linger = 0ms;
  return o;
}

// Polls `condition` until it holds (true) or `timeout` passes (false). The pause between polls
// grows from 5 to 100 ms: a condition on stats() costs the target's I/O thread a copy of every
// peer's counters, which with thousands of peers is milliseconds it would not spend otherwise.
inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  auto pause = 5ms;
  for (;;) {
    if (condition()) return true;
    const auto now = clock_type::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<clock_type::duration>(pause, deadline - now));
    pause = std::min(pause * 3 / 2, 100ms);
  }
}

// Waits until the target has read `frames` wire messages in all, or has read nothing more for
// 2 s (a transport that drops some frames before it counts them must not make a test wait in
// vain; 2 s is longer than any batch of reads takes, key generation included); false when
// neither happened within `timeout`.
inline bool wait_read(const echo_server& server, std::uint64_t frames,
                      std::chrono::milliseconds timeout) {
  std::uint64_t last = 0;
  auto since = clock_type::now();
  return wait_until(
      [&] {
        const std::uint64_t read = server.stats().transport.wire_messages_received;
        if (read >= frames) return true;
        if (read != last) {
          last = read;
          since = clock_type::now();
        }
        return clock_type::now() - since >= 2000ms;
      },
      timeout);
}

// The counters the target keeps for the peer at `route`; zeros when it has no such peer.
inline cryptcom::counters peer_counters(const echo_server& server,
                                        const std::vector<std::string>& route) {
  const auto s = server.stats();
  for (const auto& [id, r] : s.routes) {
    if (r != route) continue;
    auto it = s.engine.per_peer.find(id);
    if (it != s.engine.per_peer.end()) return it->second;
  }
  return {};
}

// Whether a sentence names a bound the way an option is named: max_keys_total, key_grant_rate,
// max_peers, ... and whatever bound a fix adds (max_..., ..._rate, ..._budget, ..._limit).
inline bool names_a_bound(const std::string& detail) {
  auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; };
  for (std::size_t i = 0; i < detail.size();) {
    if (!word(detail[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < detail.size() && word(detail[end])) ++end;
    const std::string_view token(detail.data() + i, end - i);
    if (token.find('_') != std::string_view::npos) {
      if (token.starts_with("max_")) return true;
      for (std::string_view tail :
           {"_rate", "_budget", "_limit", "_interval", "_rates", "_budgets", "_limits"}) {
        if (token.ends_with(tail)) return true;
      }
    }
    i = end;
  }
  return false;
}

inline bool is_refusal(const cryptcom::zmq::event& e) {
  return e.reason == errc::limit_exceeded || e.reason == errc::rate_limited;
}

// Issue 9: "every bound that refuses something is counted in stats and reported as an event that
// names the bound". Checks the second half for every refusal among `events`; returns how many
// refusals there were.
inline std::size_t expect_refusals_name_their_bound(
    const std::vector<cryptcom::zmq::event>& events) {
  std::size_t refusals = 0;
  for (const auto& e : events) {
    if (!is_refusal(e)) continue;
    ++refusals;
    EXPECT_TRUE(names_a_bound(e.detail)) << "a refusal that does not name its bound: " << e.detail;
  }
  return refusals;
}

// Refusals about peers whose route starts with `first_frame` (one attacking connection).
inline std::vector<cryptcom::zmq::event> refusals_of(const std::vector<cryptcom::zmq::event>& all,
                                                     const std::string& first_frame) {
  std::vector<cryptcom::zmq::event> out;
  for (const auto& e : all) {
    if (is_refusal(e) && !e.route.empty() && e.route.front() == first_frame) out.push_back(e);
  }
  return out;
}

// The setup of most tests: a target with `options`, and one attacking connection (routing id
// `id`) with a protocol speaker on it.
struct target_and_attacker {
  explicit target_and_attacker(const std::string& id,
                               const cryptcom::zmq::socket_options& options = server_options())
      : server(options), wire(raw_peer::dealer(ctx, server.endpoint(), id)), s(wire), route{id} {}

  // The target's counters for the attacking peer.
  cryptcom::counters attacker() const { return peer_counters(server, route); }

  echo_server server;
  ::zmq::context_t ctx;
  raw_peer wire;
  speaker s;
  std::vector<std::string> route;
};

}  // namespace cryptcom::hostile::test
