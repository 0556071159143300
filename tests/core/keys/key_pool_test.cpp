#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <functional>
#include <set>
#include <thread>
#include <vector>

#include "cryptcom/key_source.hpp"
#include "keys/locked_arena.hpp"

namespace cryptcom {
namespace {

using namespace std::chrono_literals;

// Where a test puts the private keys it takes: locked slots, as the engine's store does.
struct locked_keys {
  explicit locked_keys(std::size_t n) : arena(secret_key_size, n, n) {}

  mutable_secret_key_view next_slot() {
    auto s = arena.allocate();
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    slots.push_back(*s);
    return mutable_secret_key_view(arena.bytes(*s).data(), secret_key_size);
  }

  secret_key_view secret(std::size_t i) {
    return secret_key_view(arena.bytes(slots[i]).data(), secret_key_size);
  }

  keys::locked_arena arena;
  std::vector<keys::locked_arena::slot> slots;
};

bool is_pair(secret_key_view secret, const public_key& pub) {
  public_key derived;
  return crypto_scalarmult_base(derived.bytes.data(), secret.data()) == 0 && derived == pub;
}

// Polls the stats until `done` holds or a (generous) deadline passes.
bool wait_for(const key_pool& pool, const std::function<bool(const key_pool_stats&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(pool.stats())) return true;
    std::this_thread::sleep_for(1ms);
  }
  return done(pool.stats());
}

TEST(key_pool, hands_out_valid_distinct_pairs) {
  auto pool = make_key_pool({.capacity = 32, .low_watermark = 16, .threads = 1});
  locked_keys taken(100);
  std::set<std::string> publics;
  for (int i = 0; i < 100; ++i) {  // more than the capacity: some may be made inline
    const public_key pub = pool->next(taken.next_slot());
    ASSERT_TRUE(is_pair(taken.secret(i), pub)) << i;
    publics.insert(to_hex(pub.bytes));
  }
  EXPECT_EQ(publics.size(), 100u);
  for (int i = 1; i < 100; ++i) {
    EXPECT_NE(sodium_memcmp(taken.secret(0).data(), taken.secret(i).data(), secret_key_size), 0);
  }
  EXPECT_EQ(pool->stats().taken, 100u);
}

TEST(key_pool, fills_up_then_refills_in_the_background_below_the_low_watermark) {
  auto pool = make_key_pool({.capacity = 64, .low_watermark = 32, .threads = 1});
  ASSERT_TRUE(wait_for(*pool, [](const key_pool_stats& s) { return s.ready == 64; }))
      << "ready: " << pool->stats().ready;
  EXPECT_EQ(pool->stats().generated, 64u);
  EXPECT_TRUE(pool->stats().fully_locked);

  locked_keys taken(40);
  for (int i = 0; i < 30; ++i) pool->next(taken.next_slot());
  // 34 ready, above the watermark: no refill starts. Give a generator time to misbehave.
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(pool->stats().ready, 34u);
  EXPECT_EQ(pool->stats().generated, 64u);

  for (int i = 0; i < 3; ++i) pool->next(taken.next_slot());  // 31 ready: below 32
  ASSERT_TRUE(wait_for(*pool, [](const key_pool_stats& s) { return s.ready == 64; }))
      << "ready: " << pool->stats().ready;
  const key_pool_stats s = pool->stats();
  EXPECT_EQ(s.generated, 64u + 33u);
  EXPECT_EQ(s.generated_inline, 0u);
  EXPECT_EQ(s.taken, 33u);
}

TEST(key_pool, concurrent_takers_get_distinct_valid_pairs) {
  auto pool = make_key_pool({.capacity = 64, .low_watermark = 32, .threads = 2});
  constexpr int takers = 4;
  constexpr int each = 150;
  std::vector<std::unique_ptr<locked_keys>> taken;
  std::vector<std::vector<public_key>> publics(takers);
  for (int t = 0; t < takers; ++t) taken.push_back(std::make_unique<locked_keys>(each));
  std::vector<std::thread> threads;
  for (int t = 0; t < takers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) publics[t].push_back(pool->next(taken[t]->next_slot()));
    });
  }
  for (auto& th : threads) th.join();

  std::set<std::string> distinct;
  for (int t = 0; t < takers; ++t) {
    for (int i = 0; i < each; ++i) {
      ASSERT_TRUE(is_pair(taken[t]->secret(i), publics[t][i])) << t << "/" << i;
      distinct.insert(to_hex(publics[t][i].bytes));
    }
  }
  EXPECT_EQ(distinct.size(), std::size_t{takers * each});
  const key_pool_stats s = pool->stats();
  EXPECT_EQ(s.taken, std::uint64_t{takers * each});
  // Every pair handed out came from the pool or was made inline, and the pool holds the rest.
  EXPECT_EQ(s.generated, s.ready + (s.taken - s.generated_inline));
}

TEST(key_pool, destructor_stops_and_joins_generators_in_the_middle_of_a_fill) {
  const key_pool_options big{.capacity = 20000, .low_watermark = 20000, .threads = 2};
  auto pool = make_key_pool(big);
  ASSERT_TRUE(wait_for(*pool, [](const key_pool_stats& s) { return s.generated > 0; }));
  EXPECT_LT(pool->stats().generated, big.capacity) << "still filling when destroyed";
  const auto start = std::chrono::steady_clock::now();
  pool.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

TEST(key_pool, zero_threads_generates_every_pair_on_the_callers_thread) {
  auto pool = make_key_pool({.capacity = 64, .low_watermark = 32, .threads = 0});
  locked_keys taken(10);
  for (int i = 0; i < 10; ++i) {
    const public_key pub = pool->next(taken.next_slot());
    EXPECT_TRUE(is_pair(taken.secret(i), pub));
  }
  const key_pool_stats s = pool->stats();
  EXPECT_EQ(s.generated, 0u);
  EXPECT_EQ(s.generated_inline, 10u);
  EXPECT_EQ(s.taken, 10u);
  EXPECT_EQ(s.ready, 0u);
}

TEST(key_pool, dry_pool_generates_inline_instead_of_waiting) {
  auto pool = make_key_pool({.capacity = 0, .low_watermark = 0, .threads = 1});
  locked_keys taken(3);
  for (int i = 0; i < 3; ++i) {
    const public_key pub = pool->next(taken.next_slot());
    EXPECT_TRUE(is_pair(taken.secret(i), pub)) << i;
  }
  const key_pool_stats s = pool->stats();
  EXPECT_EQ(s.generated_inline, 3u);
  EXPECT_EQ(s.generated, 0u);
}

}  // namespace
}  // namespace cryptcom
