// The life of a socket and its peers: close lingers until what was sent is delivered and
// reports what could not be; a peer that went away is forgotten and the keys held for it
// destroyed. (The bounds on routing paths are in peer_bounds_test.cpp.)
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

TEST(zmq_lifecycle, close_lingers_until_messages_sent_just_before_it_are_delivered) {
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  const std::string ep = bind_any(router, transport::tcp);
  socket_options o = test_options();
  o.linger = 5s;
  auto dealer = make(ctx, st::dealer, o);
  dealer.connect(ep);
  constexpr int count = 25;
  for (int i = 0; i < count; ++i) ASSERT_TRUE(send_strings(dealer, {"m" + std::to_string(i)}));
  dealer.close();  // returns once all are acknowledged (or after 5 s)
  EXPECT_TRUE(drain_events(dealer).empty());
  const auto s = dealer.stats();  // still readable after close
  EXPECT_EQ(s.engine.total.messages_acknowledged, static_cast<std::uint64_t>(count));
  for (int i = 0; i < count; ++i) {
    auto got = recv_strings(router);
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(got->back(), "m" + std::to_string(i));
  }
}

TEST(zmq_lifecycle, messages_that_could_not_be_delivered_before_close_are_reported_by_number) {
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.linger = 300ms;
  auto dealer = make(ctx, st::dealer, o);
  dealer.connect("tcp://127.0.0.1:1");  // nobody will ever answer
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(send_strings(dealer, {"lost " + std::to_string(i)}));
  const auto t0 = std::chrono::steady_clock::now();
  dealer.close();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  std::set<std::uint64_t> reported;
  for (const auto& e : drain_events(dealer)) {
    if (e.kind == event_kind::message_undeliverable) reported.insert(e.message);
    EXPECT_FALSE(e.detail.empty());
  }
  EXPECT_EQ(reported, (std::set<std::uint64_t>{1, 2, 3, 4, 5}));
}

TEST(zmq_lifecycle, a_message_without_a_key_in_time_is_reported_undeliverable_while_open) {
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.engine.retransmit_after = 100ms;
  o.engine.delivery_timeout = 400ms;
  auto dealer = make(ctx, st::dealer, o);
  // A plain ZeroMQ ROUTER that swallows everything: no key ever comes back.
  ::zmq::socket_t sink(ctx, st::router);
  sink.set(::zmq::sockopt::linger, 0);
  sink.bind("inproc://lifecycle-sink");
  dealer.connect("inproc://lifecycle-sink");
  ASSERT_TRUE(send_strings(dealer, {"into the void"}));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::optional<event> e;
  while (!e && std::chrono::steady_clock::now() < deadline) {
    e = dealer.poll_event();
    if (e && e->kind != event_kind::message_undeliverable) e.reset();
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(e) << "no undeliverable event";
  EXPECT_EQ(e->message, 1u);
  EXPECT_EQ(e->reason, errc::undeliverable);
  EXPECT_TRUE(e->route.empty());  // the DEALER's directly connected peer
}

TEST(zmq_lifecycle, a_peer_that_went_away_is_forgotten_and_the_keys_held_for_it_destroyed) {
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.engine.retransmit_after = 100ms;
  o.engine.delivery_timeout = 200ms;
  o.engine.key_ttl = 600ms;
  o.engine.expiry_margin = 100ms;
  o.peer_idle_timeout = 100ms;  // raised to key_ttl = 600 ms
  auto router = make(ctx, st::router, o);
  const std::string ep = bind_any(router, transport::tcp);
  auto round_trip = [&](socket& dealer, const std::string& text) {
    ASSERT_TRUE(send_strings(dealer, {text}));
    auto got = recv_strings(router);
    ASSERT_TRUE(got);
    ASSERT_TRUE(send_strings(router, *got));
    got = recv_strings(dealer);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->back(), text);
  };
  {
    auto dealer = make(ctx, st::dealer, o);
    dealer.connect(ep);
    round_trip(dealer, "first");
    EXPECT_EQ(router.stats().transport.peers, 1u);
  }  // gone
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  socket_stats s;
  do {
    std::this_thread::sleep_for(100ms);
    s = router.stats();
  } while (s.transport.peers != 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(s.transport.peers, 0u);
  EXPECT_EQ(s.transport.peers_forgotten, 1u);
  EXPECT_EQ(s.engine.live_keys, 0u);
  // A connected peer is never idle: it refreshes its keys as they expire, which is traffic.
  auto dealer = make(ctx, st::dealer, o);
  dealer.connect(ep);
  round_trip(dealer, "second");
  std::this_thread::sleep_for(1500ms);
  round_trip(dealer, "third");
  s = router.stats();
  EXPECT_EQ(s.transport.peers, 1u);
  EXPECT_EQ(s.transport.peers_forgotten, 1u);
}

}  // namespace
}  // namespace cryptcom::zmq::test
