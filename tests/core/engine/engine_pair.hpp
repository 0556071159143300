// engine_pair: two engines, A and B, wired back to back by hand on virtual time, for the engine's
// unit tests: each test carries the frames itself, so it can drop, copy, alter or delay them.
// Thread-safety: none (a test fixture).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cryptcom/engine.hpp"

namespace cryptcom::testing {

constexpr peer_id a_id = 0;  // how B names A
constexpr peer_id b_id = 1;  // how A names B

class engine_pair : public ::testing::Test {
 protected:
  // Deterministic keys and randomness from `seed_a` and `seed_b`: a test replays exactly.
  explicit engine_pair(std::uint64_t seed_a = 1, std::uint64_t seed_b = 2)
      : keys_a(make_deterministic_key_source(seed_a)),
        keys_b(make_deterministic_key_source(seed_b)),
        rand_a(make_deterministic_random(seed_a)),
        rand_b(make_deterministic_random(seed_b)) {}

  void SetUp() override {
    opts.pool_target = 8;
    opts.pool_low_watermark = 4;
    make_engines();
  }
  // (Re)creates both engines with the current `opts`.
  void make_engines() {
    a = std::make_unique<engine>(opts, *keys_a, *rand_a, now);
    b = std::make_unique<engine>(opts, *keys_b, *rand_b, now);
    ASSERT_TRUE(a->construction_status().ok()) << a->construction_status().to_string();
  }

  static std::vector<transmit> out(engine& e) {
    std::vector<transmit> v;
    while (auto t = e.poll_transmit()) v.push_back(std::move(*t));
    return v;
  }
  static std::vector<event> events(engine& e) {
    std::vector<event> v;
    while (auto x = e.poll_event()) v.push_back(std::move(*x));
    return v;
  }

  // A asks B for keys; returns B's answer (one offer frame), not yet given to A.
  std::vector<transmit> offer_from_b() {
    a->connect(b_id, now);
    auto request = out(*a);
    EXPECT_EQ(request.size(), 1u);
    for (auto& t : request) EXPECT_TRUE(b->receive(a_id, t.frame, now).ok());
    auto offer = out(*b);
    EXPECT_EQ(offer.size(), 1u);
    return offer;
  }

  // Carries frames both ways until both are quiet; returns the number of frames carried.
  std::size_t settle() {
    std::size_t carried = 0;
    for (int round = 0; round < 100; ++round) {
      auto from_a = out(*a);
      auto from_b = out(*b);
      if (from_a.empty() && from_b.empty()) break;
      for (auto& t : from_a) (void)b->receive(a_id, t.frame, now), ++carried;
      for (auto& t : from_b) (void)a->receive(b_id, t.frame, now), ++carried;
    }
    return carried;
  }

  result<message_id> send_text(engine& e, peer_id to, std::string_view text,
                               std::optional<flow> f = std::nullopt) {
    const std::vector<byte> data(text.begin(), text.end());
    const byte_view part(data);
    send_options how;
    how.use_flow = f;
    return e.send(to, std::span<const byte_view>(&part, 1), now, how);
  }

  options opts;
  time_point now = time_point{} + std::chrono::hours(1);
  std::unique_ptr<key_source> keys_a, keys_b;
  std::unique_ptr<random_source> rand_a, rand_b;
  std::unique_ptr<engine> a, b;
};

}  // namespace cryptcom::testing
