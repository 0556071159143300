// The retransmission timeout on its own: RFC 6298's arithmetic, its bounds and its backoff.
#include "engine/retransmit_timer.hpp"

#include <gtest/gtest.h>

namespace cryptcom::engine_detail {
namespace {

using namespace std::chrono_literals;

TEST(retransmit_timer, starts_at_the_configured_minimum) {
  const retransmit_timer t(2s, 15s);
  EXPECT_EQ(t.timeout(), 2s);
}

TEST(retransmit_timer, a_first_sample_gives_three_round_trips_never_below_the_minimum) {
  retransmit_timer slow(1s, 15s);
  slow.on_sample(2s);  // srtt 2 s, rttvar 1 s: 2 + 4 * 1
  EXPECT_EQ(slow.timeout(), 6s);
  EXPECT_EQ(slow.smoothed_rtt(), 2s);

  retransmit_timer fast(1s, 15s);
  fast.on_sample(10ms);  // 30 ms computed, 1 s the floor
  EXPECT_EQ(fast.timeout(), 1s);
}

TEST(retransmit_timer, steady_samples_converge_on_the_round_trip_plus_a_shrinking_margin) {
  retransmit_timer t(100ms, 15s);
  t.on_sample(2s);
  const duration after_one = t.timeout();
  for (int i = 0; i < 50; ++i) t.on_sample(2s);
  EXPECT_LT(t.timeout(), after_one);  // the variation decays when samples agree
  EXPECT_GE(t.timeout(), 2s);
  EXPECT_LT(t.timeout(), 2100ms);
  EXPECT_EQ(t.smoothed_rtt(), 2s);
}

TEST(retransmit_timer, each_expiry_doubles_the_timeout_up_to_the_maximum) {
  retransmit_timer t(1s, 5s);
  t.on_timeout();
  EXPECT_EQ(t.timeout(), 2s);
  t.on_timeout();
  EXPECT_EQ(t.timeout(), 4s);
  t.on_timeout();
  EXPECT_EQ(t.timeout(), 5s);
  t.on_timeout();
  EXPECT_EQ(t.timeout(), 5s);
}

TEST(retransmit_timer, a_new_sample_after_backoff_recomputes_from_the_measurements) {
  retransmit_timer t(1s, 15s);
  t.on_sample(200ms);
  t.on_timeout();
  t.on_timeout();
  EXPECT_EQ(t.timeout(), 4s);
  t.on_sample(200ms);
  EXPECT_EQ(t.timeout(), 1s);
}

TEST(retransmit_timer, a_maximum_below_the_minimum_is_raised_to_it) {
  retransmit_timer t(3s, 1s);
  t.on_timeout();
  EXPECT_EQ(t.timeout(), 3s);
}

TEST(retransmit_timer, keeps_the_quickest_sample_as_the_paths_own_round_trip) {
  retransmit_timer t(1s, 15s);
  EXPECT_FALSE(t.sampled());
  EXPECT_EQ(t.min_rtt(), 0s);
  t.on_sample(300ms);
  EXPECT_TRUE(t.sampled());
  EXPECT_EQ(t.min_rtt(), 300ms);
  t.on_sample(40ms);
  t.on_sample(900ms);  // a queue on the way: the smoothed time grows, the minimum stays
  EXPECT_EQ(t.min_rtt(), 40ms);
  EXPECT_GT(t.smoothed_rtt(), 40ms);
}

}  // namespace
}  // namespace cryptcom::engine_detail
