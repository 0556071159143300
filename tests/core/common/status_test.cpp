#include <gtest/gtest.h>

#include "cryptcom/random.hpp"
#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom {
namespace {

TEST(status, success_is_ok_and_carries_no_message) {
  const status s = status::success();
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), errc::ok);
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(status, error_names_code_and_reason) {
  const status s(errc::unknown_key, "peer 7, key 0badf00d: not issued here");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.to_string(), "unknown_key: peer 7, key 0badf00d: not issued here");
}

TEST(result, holds_value_or_error) {
  result<int> good(42);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  result<int> bad(status(errc::limit_exceeded, "max_keys_total (8) reached"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), errc::limit_exceeded);
}

TEST(guid, prints_as_lowercase_hex) {
  guid g;
  g.bytes[0] = 0xAB;
  g.bytes[15] = 0x01;
  EXPECT_EQ(g.hex(), "ab000000000000000000000000000001");
  EXPECT_EQ(g.short_hex(), "ab000000");
  EXPECT_FALSE(g.is_zero());
  EXPECT_TRUE(guid{}.is_zero());
}

TEST(random, deterministic_source_repeats_for_a_seed_and_differs_across_seeds) {
  auto a = make_deterministic_random(7);
  auto b = make_deterministic_random(7);
  auto c = make_deterministic_random(8);
  const guid ga = a->next_guid();
  EXPECT_EQ(ga, b->next_guid());
  EXPECT_NE(ga, c->next_guid());
  EXPECT_NE(ga, a->next_guid());  // the stream moves on
}

TEST(random, system_source_gives_distinct_guids) {
  auto r = make_system_random();
  const guid first = r->next_guid();
  for (int i = 0; i < 1000; ++i) EXPECT_NE(first, r->next_guid());
}

}  // namespace
}  // namespace cryptcom
