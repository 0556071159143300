// The engine's timers cost per peer that is due, not per peer it knows: tick() visits the peers
// whose deadline passed, poll_timeout() reads the earliest deadline without looking at the others,
// so thousands of idle (or forged) peers add nothing to the work of serving an active one. And no
// deadline is ever lost: after any sequence of calls the timer table holds exactly the deadline
// each peer's state gives.
// Work is counted (engine_probe), never timed.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/engine/engine_pair.hpp"
#include "core/engine/simulation.hpp"
#include "engine/engine_probe.hpp"
#include "wire/frame.hpp"

namespace cryptcom::testing {
namespace {

using namespace std::chrono_literals;
using engine_detail::engine_probe;

class engine_timers : public engine_pair {
 protected:
  // What an I/O loop does after each input: tick when a deadline has come.
  void serve(engine& e) {
    if (auto t = e.poll_timeout(); t && *t <= now) e.tick(now);
  }
  // Carries frames both ways, serving both engines each turn, until both are quiet.
  void carry() {
    for (int round = 0; round < 100; ++round) {
      serve(*a);
      serve(*b);
      auto from_a = out(*a);
      auto from_b = out(*b);
      if (from_a.empty() && from_b.empty()) return;
      for (auto& t : from_a) (void)b->receive(a_id, t.frame, now);
      for (auto& t : from_b) (void)a->receive(b_id, t.frame, now);
    }
    ADD_FAILURE() << "the engines did not go quiet";
  }
};

// Issue 9, finding 4: 60,000 idle forged peers made every turn of the server's loop walk them
// all (twice: poll_timeout and tick), a 50-fold slower round trip for the one client it served.
TEST_F(engine_timers, sixty_thousand_idle_peers_add_no_work_to_a_served_clients_round_trips) {
  constexpr std::size_t idle = 60000;
  constexpr std::size_t asked = 1000;  // of which B itself asked this many for keys
  constexpr peer_id first_idle = 100;
  wire::control_block hello;  // a peer announcing its instance and nothing else
  hello.instance = rand_a->next_guid();
  std::vector<byte> frame;
  wire::encode_control(hello, frame);
  for (std::size_t i = 0; i < idle; ++i) {
    ASSERT_TRUE(b->receive(first_idle + i, frame, now).ok());
  }
  const time_point asked_at = now;
  for (std::size_t i = 0; i < asked; ++i) b->connect(first_idle + i, now);
  ASSERT_EQ(out(*b).size(), asked);  // the key requests, which nobody answers
  ASSERT_EQ(b->stats().per_peer.size(), idle);
  EXPECT_EQ(b->poll_timeout(), asked_at + opts.key_request_retry);

  // A client's request/reply round trips through B, 1 ms apart, with B's loop serving it.
  a->connect(b_id, now);
  carry();
  const std::uint64_t before = engine_probe::peer_visits(*b);
  constexpr int rounds = 20;
  int replies = 0;
  for (int i = 0; i < rounds; ++i) {
    now += 1ms;
    ASSERT_TRUE(send_text(*a, b_id, "request", flow::pull).ok());
    carry();
    while (auto d = b->poll_delivery()) {
      ASSERT_TRUE(d->expects_reply);
      ASSERT_TRUE(send_text(*b, a_id, "reply").ok());
    }
    carry();
    while (a->poll_delivery()) ++replies;
  }
  now += opts.ack_delay;  // the last acknowledgements become due
  carry();
  ASSERT_EQ(replies, rounds);
  const std::uint64_t visits = engine_probe::peer_visits(*b) - before;
  // Per round trip B takes a request and sends a reply (a deadline computed for the client after
  // each) and at most ticks once for the client's acknowledgement: a handful of visits, whatever
  // the number of idle peers (which cost 60,000 a visit each before).
  EXPECT_LE(visits, static_cast<std::uint64_t>(rounds) * 6) << visits << " peers visited";
  EXPECT_GE(visits, static_cast<std::uint64_t>(rounds) * 2);
  EXPECT_EQ(engine_probe::timers_mismatch(*b), "");

  // The peers B asked for keys were not forgotten: at their retry deadline, all of them (and
  // only them) are visited and asked again.
  ASSERT_EQ(b->poll_timeout(), asked_at + opts.key_request_retry);
  now = asked_at + opts.key_request_retry;
  const std::uint64_t before_retry = engine_probe::peer_visits(*b);
  b->tick(now);
  const auto retries = out(*b);
  EXPECT_EQ(retries.size(), asked);
  for (const transmit& t : retries) {
    EXPECT_GE(t.peer, first_idle);
    EXPECT_LT(t.peer, first_idle + asked);
  }
  EXPECT_LE(engine_probe::peer_visits(*b) - before_retry, 2 * asked + 2);
  EXPECT_EQ(b->poll_timeout(), now + opts.key_request_retry);
}

TEST_F(engine_timers, tick_runs_exactly_the_peers_that_are_due_earliest_first) {
  // A asks 100 peers for keys, one each millisecond: their retries fall due a millisecond apart.
  const time_point start = now;
  for (peer_id p = 10; p < 110; ++p) {
    a->connect(p, now);
    now += 1ms;
  }
  ASSERT_EQ(out(*a).size(), 100u);
  EXPECT_EQ(a->poll_timeout(), start + opts.key_request_retry);

  now = start + 49ms + opts.key_request_retry;  // peers 10 to 59 are due
  const std::uint64_t before = engine_probe::peer_visits(*a);
  a->tick(now);
  const auto retries = out(*a);
  ASSERT_EQ(retries.size(), 50u);
  for (std::size_t i = 0; i < retries.size(); ++i) EXPECT_EQ(retries[i].peer, 10 + i);
  // Each due peer: its timers run, its deadline computed again. Nobody else.
  EXPECT_EQ(engine_probe::peer_visits(*a) - before, 100u);
  EXPECT_EQ(a->poll_timeout(), start + 50ms + opts.key_request_retry);
  EXPECT_EQ(engine_probe::timers_mismatch(*a), "");

  a->tick(now);  // nothing more is due
  EXPECT_TRUE(out(*a).empty());
  EXPECT_EQ(engine_probe::peer_visits(*a) - before, 100u);
}

TEST_F(engine_timers, a_disconnected_peer_leaves_no_deadline_behind) {
  a->connect(5, now);
  (void)out(*a);
  ASSERT_EQ(a->poll_timeout(), now + opts.key_request_retry);
  a->disconnect(5, now);
  EXPECT_EQ(a->poll_timeout(), std::nullopt);
  EXPECT_EQ(engine_probe::timers_mismatch(*a), "");
  now += opts.key_request_retry;
  a->tick(now);
  EXPECT_TRUE(out(*a).empty());
}

// Over random traffic, faults, restarts, disconnects and forged control frames (new instances,
// requests, offers, acknowledgements and rejections of random keys), the timer table matches
// every peer's state after every step: no path changes a peer's deadline without scheduling it.
TEST(engine_timers_random, the_timer_table_always_holds_each_peers_current_deadline) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    options opts;
    opts.key_ttl = seed % 3 == 0 ? 400ms : 5s;
    opts.expiry_margin = 100ms;
    opts.pool_target = 8;
    opts.pool_low_watermark = 4;
    opts.max_keys_per_peer = 64;
    opts.max_keys_total = 256;
    opts.retransmit_after = 300ms;
    opts.delivery_timeout = 2s;
    opts.key_request_retry = 200ms;
    sim::network_faults faults;
    faults.loss = 0.05 * static_cast<double>(seed % 3);
    faults.duplicate = seed % 2 == 0 ? 0.05 : 0.0;
    faults.tamper = seed % 4 == 0 ? 0.03 : 0.0;
    faults.max_delay = seed % 2 == 0 ? 200ms : 5ms;
    constexpr std::size_t endpoints = 3;
    sim::network net(seed, endpoints, opts, faults);

    const auto check = [&](const char* after, int step) {
      for (std::size_t e = 0; e < endpoints; ++e) {
        const std::string mismatch = engine_probe::timers_mismatch(net.at(e));
        if (!mismatch.empty()) {
          ADD_FAILURE() << "seed " << seed << ", step " << step << ", after " << after
                        << ", endpoint " << e << ": " << mismatch;
          return false;
        }
      }
      return true;
    };
    const std::vector<byte> body(40, 7);
    const byte_view part(body);
    for (int step = 0; step < 150; ++step) {
      const std::size_t from = rng() % endpoints;
      const std::size_t to = (from + 1 + rng() % (endpoints - 1)) % endpoints;
      engine& e = net.at(from);
      switch (rng() % 10) {
        case 0:
        case 1:
        case 2:
        case 3: {
          send_options how;
          how.use_flow = rng() % 2 == 0 ? flow::pull : flow::push;
          (void)e.send(to, std::span<const byte_view>(&part, 1), net.now(), how);
          break;
        }
        case 4:
          e.connect(to, net.now());
          break;
        case 5:
          if (rng() % 8 == 0) {
            e.disconnect(to, net.now());
          } else if (rng() % 8 == 0) {
            net.restart(from);
          }
          break;
        case 6: {  // a forged control frame, as from `to`
          wire::control_block forged;
          forged.instance.bytes[0] = static_cast<byte>(rng() % 3);  // sometimes a "restart"
          if (rng() % 2 == 0) forged.wanted = static_cast<std::uint32_t>(rng() % 20);
          if (rng() % 3 == 0) {
            wire::offered_key k;
            k.id.bytes[1] = static_cast<byte>(rng());
            k.key.bytes[0] = 9;  // the X25519 base point: a valid public key
            k.ttl_ms = static_cast<std::uint32_t>(rng() % 2000);
            forged.offers.push_back(k);
          }
          if (rng() % 3 == 0) forged.acks.push_back(guid{});
          if (rng() % 3 == 0) {
            forged.rejections.push_back(
                {guid{}, rng() % 2 == 0 ? errc::unknown_key : errc::expired_key});
          }
          std::vector<byte> frame;
          wire::encode_control(forged, frame);
          (void)e.receive(to, frame, net.now());
          break;
        }
        default:
          break;
      }
      if (!check("the input", step)) break;
      (void)net.step(net.now() + std::chrono::milliseconds(rng() % 300));
      for (std::size_t i = 0; i < endpoints; ++i) {
        while (net.at(i).poll_delivery()) {
        }
        while (net.at(i).poll_event()) {
        }
      }
      if (!check("a network step", step)) break;
    }
  }
}

}  // namespace
}  // namespace cryptcom::testing
