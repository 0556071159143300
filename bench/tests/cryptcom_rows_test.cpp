// cryptcom's rows: its systems move messages through the shared loops, the ratio rows are what
// the samples say, the memory-per-key figure is plausible, and the cryptcom flags parse.

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "bench_test_support.hpp"
#include "key_memory.hpp"
#include "limit.hpp"
#include "ratios.hpp"
#include "results.hpp"
#include "soak.hpp"
#include "system.hpp"

namespace cryptcom::bench {
namespace {

const run_bounds k_short{std::chrono::milliseconds(150), 100'000, std::chrono::milliseconds(5000)};

TEST(bench_cryptcom, push_measures_one_way_only_and_pull_round_trip_only) {
  ASSERT_GE(sodium_init(), 0);
  auto systems = make_cryptcom_systems({});
  ASSERT_GE(systems.size(), 3u);  // then the load balancing rows: load_balancing_test.cpp
  auto& push = *systems[0];
  auto& pull = *systems[1];
  auto& authenticated_push = *systems[2];
  EXPECT_EQ(authenticated_push.name(), "cryptcom-auth-push");
  EXPECT_TRUE(authenticated_push.has_one_way());
  EXPECT_FALSE(authenticated_push.has_round_trip());
  EXPECT_GT(authenticated_push.one_way(1024, 2, k_short).msgs_per_s, 0);
  EXPECT_EQ(push.name(), k_cryptcom_push_system);
  EXPECT_EQ(pull.name(), k_cryptcom_pull_system);
  EXPECT_TRUE(push.has_one_way());
  EXPECT_FALSE(push.has_round_trip());
  EXPECT_FALSE(pull.has_one_way());
  EXPECT_TRUE(pull.has_round_trip());

  const auto one_way = push.one_way(1024, 2, k_short);
  EXPECT_GT(one_way.msgs_per_s, 0);
  EXPECT_DOUBLE_EQ(one_way.bytes_per_s, one_way.msgs_per_s * 1024);
  const auto round_trip = pull.round_trip(1024, k_short);
  EXPECT_GT(round_trip.p50_us, 0);
  EXPECT_GE(round_trip.p99_us, round_trip.p50_us);
}

TEST(bench_cryptcom, aes_rows_run_where_the_cpu_has_aes_and_are_refused_elsewhere) {
  ASSERT_GE(sodium_init(), 0);
  cryptcom_settings aes;
  aes.aes_256_gcm = true;
  if (crypto_aead_aes256gcm_is_available() == 0) {
    EXPECT_THROW((void)make_cryptcom_systems(aes), std::runtime_error);
    return;
  }
  auto systems = make_cryptcom_systems(aes);
  EXPECT_GT(systems[0]->one_way(4096, 1, k_short).msgs_per_s, 0);
}

TEST(bench_cryptcom, ratios_pair_each_repetition_and_fall_back_to_medians) {
  bench_options options;
  options.sizes = {64};
  options.scale_peers = {1};
  result_store results;
  for (double v : {100.0, 200.0, 300.0}) results.add({"cryptcom-push", "msgs_per_s", 64, 1}, v);
  for (double v : {1000.0, 1000.0, 1500.0}) results.add({"plaintext", "msgs_per_s", 64, 1}, v);
  for (double v : {400.0, 500.0}) results.add({"curve", "msgs_per_s", 64, 1}, v);  // one failed
  for (double v : {50.0, 60.0, 70.0}) results.add({"cryptcom-pull", "p50_us", 64, 1}, v);
  for (double v : {10.0, 20.0, 30.0}) results.add({"plaintext", "p50_us", 64, 1}, v);
  for (double v : {20.0, 20.0, 40.0}) results.add({"limit", "crypto_path_us", 64, 1}, v);
  add_ratios(options, results);

  const auto* plain = results.samples({"cryptcom-push", "ratio_plaintext", 64, 1});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(*plain, (std::vector<double>{0.1, 0.2, 0.2}));
  // Three cryptcom samples, two of curve: the reps cannot be paired; medians 200 / 450.
  const auto* curve = results.samples({"cryptcom-push", "ratio_curve", 64, 1});
  ASSERT_NE(curve, nullptr);
  ASSERT_EQ(curve->size(), 1u);
  EXPECT_DOUBLE_EQ(curve->front(), 200.0 / 450.0);
  // No limit row was measured: no ratio is made up.
  EXPECT_EQ(results.samples({"cryptcom-push", "ratio_limit", 64, 1}), nullptr);
  // Pull: (p50 - plaintext p50) / crypto path, per rep.
  const auto* pull_limit = results.samples({"cryptcom-pull", "ratio_limit", 64, 1});
  ASSERT_NE(pull_limit, nullptr);
  EXPECT_EQ(*pull_limit, (std::vector<double>{2.0, 2.0, 1.0}));
  const auto* pull_plain = results.samples({"cryptcom-pull", "ratio_plaintext", 64, 1});
  ASSERT_NE(pull_plain, nullptr);
  EXPECT_EQ(*pull_plain, (std::vector<double>{5.0, 3.0, 70.0 / 30.0}));
}

TEST(bench_cryptcom, a_live_key_costs_more_than_its_private_half_and_less_than_a_page) {
  ASSERT_GE(sodium_init(), 0);
  const double per_key = measure_key_memory(4000, {});
  EXPECT_GT(per_key, 32.0);
  EXPECT_LT(per_key, 4096.0);
}

TEST(bench_cryptcom, the_limit_row_times_the_round_trip_cryptography_below_a_whole_message) {
  ASSERT_GE(sodium_init(), 0);
  const auto sample = measure_limit(1024, k_short);
  ASSERT_GT(sample.msgs_per_s, 0);
  EXPECT_GT(sample.crypto_path_us, 0);
  // Two messages' work without their key generations: less than two whole messages.
  EXPECT_LT(sample.crypto_path_us, 2 * 1e6 / sample.msgs_per_s);
}

TEST(bench_cryptcom, a_soak_samples_memory_along_a_stream_that_keeps_flowing) {
  ASSERT_GE(sodium_init(), 0);
  auto systems = make_cryptcom_systems({});
  const auto soak = run_soak(*systems[0], 1024, std::chrono::milliseconds(1200),
                             std::chrono::milliseconds(5000), std::chrono::milliseconds(200));
  EXPECT_GT(soak.msgs_per_s, 0);
  // A loaded machine may starve the stream for a sample period or two: only the order of the
  // samples and that the stream moved overall are asserted, not progress in every period.
  ASSERT_GE(soak.samples.size(), 2u);
  for (std::size_t i = 0; i < soak.samples.size(); ++i) {
    EXPECT_GT(soak.samples[i].rss_bytes, 0);
    if (i > 0) {
      EXPECT_GT(soak.samples[i].seconds, soak.samples[i - 1].seconds);
      EXPECT_GE(soak.samples[i].messages, soak.samples[i - 1].messages);
    }
  }
  EXPECT_GT(soak.samples.back().messages, 0u);
}

TEST(bench_cryptcom, flags_set_key_threads_aes_and_the_key_memory_count) {
  const auto defaults = parse({});
  EXPECT_EQ(defaults.keygen_threads, 1u);
  EXPECT_FALSE(defaults.aes_256_gcm);
  const auto set = parse({"--keygen-threads", "2", "--aes", "--key-memory", "0"});
  EXPECT_EQ(set.cryptcom().keygen_threads, 2u);
  EXPECT_TRUE(set.cryptcom().aes_256_gcm);
  EXPECT_EQ(set.key_memory_keys, 0u);
  EXPECT_LT(parse({"--quick"}).key_memory_keys, defaults.key_memory_keys);
  EXPECT_THROW((void)parse({"--keygen-threads", "0"}), usage_error);
  EXPECT_EQ(parse({"--soak-s", "600"}).soak, std::chrono::seconds(600));
  EXPECT_EQ(parse({}).soak, std::chrono::seconds(0));
}

}  // namespace
}  // namespace cryptcom::bench
