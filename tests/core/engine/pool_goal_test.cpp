// The key pool a sender keeps for a peer grows when messages wait for keys already asked for
// (the pool ran out within one round trip), never beyond max_keys_per_peer, and stays at
// pool_target for a peer that never had to wait, or whose messages already wait unacknowledged
// in queues on the way.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "cryptcom/engine.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

constexpr peer_id a_id = 0;  // how B names A
constexpr peer_id b_id = 1;  // how A names B

struct pool_pair {
  options opts;
  time_point now = time_point{} + std::chrono::hours(1);
  std::unique_ptr<key_source> keys_a = make_deterministic_key_source(11);
  std::unique_ptr<key_source> keys_b = make_deterministic_key_source(12);
  std::unique_ptr<random_source> rand_a = make_deterministic_random(11);
  std::unique_ptr<random_source> rand_b = make_deterministic_random(12);
  std::unique_ptr<engine> a, b;
  std::size_t delivered = 0;

  explicit pool_pair(const options& o) : opts(o) {
    a = std::make_unique<engine>(opts, *keys_a, *rand_a, now);
    b = std::make_unique<engine>(opts, *keys_b, *rand_b, now);
  }

  // One round trip of 1 ms (the grant rate's token bucket refills with time): everything A has
  // goes to B, then everything B has goes back.
  void round_trip() {
    now += std::chrono::milliseconds(1);
    for (engine* e : {a.get(), b.get()}) {
      if (auto t = e->poll_timeout(); t && *t <= now) e->tick(now);
    }
    while (auto t = a->poll_transmit()) (void)b->receive(a_id, t->frame, now);
    while (b->poll_delivery()) ++delivered;
    while (auto t = b->poll_transmit()) (void)a->receive(b_id, t->frame, now);
  }
  void settle() {
    for (int i = 0; i < 100; ++i) round_trip();
  }
  void send(std::size_t n) {
    const std::vector<byte> body(64, 1);
    const byte_view part(body);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(a->send(b_id, std::span<const byte_view>(&part, 1), now).ok());
    }
  }
};

options small_pool() {
  options o;
  o.pool_target = 8;
  o.pool_low_watermark = 4;
  o.max_keys_per_peer = 64;
  return o;
}

TEST(engine_pool_goal, bursts_that_outrun_the_pool_get_bigger_batches_up_to_max_keys_per_peer) {
  pool_pair p(small_pool());
  p.a->connect(b_id, p.now);
  p.settle();
  ASSERT_EQ(p.a->usable_keys(b_id), 8u);
  std::size_t most_held = 0;
  std::size_t sent = 0;
  for (int burst = 0; burst < 12; ++burst) {
    // More than the pool, all at once: the rest waits a round trip for keys already asked for.
    p.send(100);
    sent += 100;
    p.settle();
    ASSERT_EQ(p.delivered, sent);
    most_held = std::max(most_held, p.a->usable_keys(b_id));
    EXPECT_LE(p.a->usable_keys(b_id), p.opts.max_keys_per_peer);
    EXPECT_LE(p.b->stats().live_keys, p.opts.max_keys_per_peer);
  }
  // Between requests the pool is drawn down, so it is seen below its goal; but far above the
  // default, and never above the bound (checked after every burst above).
  EXPECT_GT(most_held, 4 * p.opts.pool_target) << "the pool grew with the bursts";
}

TEST(engine_pool_goal, a_sender_that_never_waits_for_keys_keeps_the_default_pool) {
  pool_pair p(small_pool());
  p.a->connect(b_id, p.now);
  p.settle();
  for (int i = 0; i < 200; ++i) {
    p.send(1);
    p.settle();
    EXPECT_LE(p.a->usable_keys(b_id), p.opts.pool_target);
  }
  EXPECT_EQ(p.delivered, 200u);
}

TEST(engine_pool_goal, a_pool_does_not_grow_while_earlier_messages_wait_unacknowledged) {
  pool_pair p(small_pool());
  p.a->connect(b_id, p.now);
  p.settle();
  ASSERT_EQ(p.a->usable_keys(b_id), 8u);

  // Eight messages; the frames before the one that asks for more keys stay "in a queue" (held
  // here, never delivered), so their acknowledgements never come.
  p.send(8);
  std::vector<transmit> frames;
  while (auto t = p.a->poll_transmit()) frames.push_back(std::move(*t));
  std::size_t first_request = frames.size();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto decoded = wire::decode(frames[i].frame, wire::decode_limits{});
    ASSERT_TRUE(decoded.ok());
    const auto& control = decoded->data.control;
    if (control && control->wanted > 0) {
      first_request = i;
      break;
    }
  }
  ASSERT_GT(first_request, 0u) << "the test needs a frame to hold back before the request";
  ASSERT_LT(first_request, frames.size()) << "no frame asked for keys";
  for (std::size_t i = first_request; i < frames.size(); ++i) {
    (void)p.b->receive(a_id, frames[i].frame, p.now);
  }
  while (p.b->poll_delivery()) {
  }
  while (auto t = p.b->poll_transmit()) (void)p.a->receive(b_id, t->frame, p.now);

  // Long after (but before any retransmission), a burst outruns the pool: the held messages
  // show that messages queue on the way, so the pool must not grow.
  p.now += p.opts.retransmit_after / 2;
  p.send(60);
  for (int i = 0; i < 50; ++i) {
    p.round_trip();
    EXPECT_LE(p.a->usable_keys(b_id), p.opts.pool_target);
  }
}

TEST(engine_pool_goal, a_sender_with_little_traffic_keeps_a_small_pool_even_when_it_waits) {
  pool_pair p(small_pool());
  p.a->connect(b_id, p.now);
  p.settle();
  for (int second = 0; second < 10; ++second) {
    // Twelve messages a second, more than the pool of eight: the rest waits for keys, and the
    // round trip is slow (300 ms), yet twelve a second never needs a pool of sixteen.
    p.send(12);
    p.now += std::chrono::milliseconds(300);
    p.settle();
    EXPECT_LE(p.a->usable_keys(b_id), p.opts.pool_target) << "second " << second;
    p.now += std::chrono::milliseconds(700);
  }
  EXPECT_EQ(p.delivered, 120u);
}

}  // namespace
}  // namespace cryptcom
