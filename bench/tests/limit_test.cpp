// The limit rows: the all-cores row is measured by as many threads as there are cores, at once,
// not projected from the 1-core row, and the table, the JSON header and the ratios say so.

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "host_info.hpp"
#include "limit.hpp"
#include "progress.hpp"
#include "ratios.hpp"
#include "report_json.hpp"
#include "report_table.hpp"
#include "results.hpp"
#include "runner.hpp"
#include "system.hpp"

namespace cryptcom::bench {
namespace {

// Only the limit, 64 B, tiny windows: what the runner records, not how fast it is.
bench_options limit_only(int threads) {
  bench_options options;
  options.systems = {k_limit_system};
  options.sizes = {64};
  options.reps = 2;
  options.window = std::chrono::milliseconds(100);
  options.scale_peers = {};
  options.key_memory_keys = 0;
  options.limit_threads = threads;
  return options;
}

TEST(bench_limit, every_thread_runs_its_own_loop_until_the_message_cap) {
  ASSERT_GE(sodium_init(), 0);
  const run_bounds capped{std::chrono::milliseconds(10'000), 7, std::chrono::milliseconds(5000)};
  const auto sample = measure_limit(64, capped, 3);
  EXPECT_EQ(sample.messages_per_thread, (std::vector<std::uint64_t>{7, 7, 7}));
  EXPECT_GT(sample.msgs_per_s, 0);
  EXPECT_GT(sample.crypto_path_us, 0);
}

TEST(bench_limit, one_thread_is_the_single_core_measurement) {
  ASSERT_GE(sodium_init(), 0);
  const run_bounds capped{std::chrono::milliseconds(10'000), 5, std::chrono::milliseconds(5000)};
  EXPECT_EQ(measure_limit(1024, capped).messages_per_thread, (std::vector<std::uint64_t>{5}));
}

TEST(bench_limit, refuses_to_measure_with_no_thread) {
  const run_bounds bounds{std::chrono::milliseconds(10), 10, std::chrono::milliseconds(5000)};
  EXPECT_THROW((void)measure_limit(64, bounds, 0), std::invalid_argument);
}

TEST(bench_limit, the_all_cores_row_is_measured_in_every_rep_not_doubled) {
  ASSERT_GE(sodium_init(), 0);
  system_list no_systems;
  progress_line progress;
  const auto outcome = run_benchmark(limit_only(2), no_systems, progress);
  ASSERT_TRUE(outcome.failures.empty()) << outcome.failures.front();
  const auto* one = outcome.results.samples({k_limit_system, metric::msgs_per_s, 64, 1});
  const auto* all = outcome.results.samples({k_limit_system, metric::msgs_per_s_all_cores, 64, 1});
  const auto* all_mb = outcome.results.samples({k_limit_system, metric::mb_per_s_all_cores, 64, 1});
  ASSERT_NE(one, nullptr);
  ASSERT_NE(all, nullptr);
  ASSERT_NE(all_mb, nullptr);
  ASSERT_EQ(one->size(), 2u);
  ASSERT_EQ(all->size(), 2u);
  ASSERT_EQ(all_mb->size(), 2u);
  for (std::size_t rep = 0; rep < 2; ++rep) {
    EXPECT_GT((*all)[rep], 0);
    // A separate measurement: it cannot come out at exactly twice (or once) the 1-core figure.
    EXPECT_NE((*all)[rep], 2 * (*one)[rep]);
    EXPECT_NE((*all)[rep], (*one)[rep]);
    EXPECT_DOUBLE_EQ((*all_mb)[rep], (*all)[rep] * 64 / 1e6);
  }
}

TEST(bench_limit, with_one_core_the_all_cores_row_is_the_one_core_row) {
  ASSERT_GE(sodium_init(), 0);
  system_list no_systems;
  progress_line progress;
  const auto outcome = run_benchmark(limit_only(1), no_systems, progress);
  ASSERT_TRUE(outcome.failures.empty()) << outcome.failures.front();
  const auto* one = outcome.results.samples({k_limit_system, metric::msgs_per_s, 64, 1});
  const auto* all = outcome.results.samples({k_limit_system, metric::msgs_per_s_all_cores, 64, 1});
  ASSERT_NE(one, nullptr);
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(*all, *one);
}

TEST(bench_limit, cryptcom_push_is_compared_with_the_all_cores_row) {
  bench_options options;
  options.sizes = {64};
  options.scale_peers = {1};
  result_store results;
  for (double v : {300.0, 400.0})
    results.add({k_cryptcom_push_system, metric::msgs_per_s, 64, 1}, v);
  for (double v : {100.0, 100.0}) results.add({k_limit_system, metric::msgs_per_s, 64, 1}, v);
  for (double v : {150.0, 200.0}) {
    results.add({k_limit_system, metric::msgs_per_s_all_cores, 64, 1}, v);
  }
  add_ratios(options, results);
  const auto* ratio = results.samples({k_cryptcom_push_system, metric::ratio_limit, 64, 1});
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(*ratio, (std::vector<double>{2.0, 2.0}));
}

TEST(bench_limit, the_table_labels_the_row_by_its_cores_and_says_it_was_measured) {
  bench_options options;
  options.sizes = {64};
  options.scale_peers = {};
  options.systems = {k_limit_system};
  options.limit_threads = 3;
  host_info host;
  host.cores = 3;
  host.limit_threads = 3;
  result_store results;
  results.add({k_limit_system, metric::msgs_per_s, 64, 1}, 1000);
  results.add({k_limit_system, metric::msgs_per_s_all_cores, 64, 1}, 2500);
  results.add({k_limit_system, metric::mb_per_s_all_cores, 64, 1}, 0.16);
  std::ostringstream table;
  print_report(table, options, host, {}, results, {});
  EXPECT_NE(table.str().find("limit, 3 cores"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("measured with 3 threads at once"), std::string::npos);
  EXPECT_EQ(table.str().find("limit, 2 cores"), std::string::npos);
  EXPECT_EQ(table.str().find("projection"), std::string::npos);

  options.limit_threads = 1;
  std::ostringstream single;
  print_report(single, options, host, {}, results, {});
  EXPECT_NE(single.str().find("limit, 1 core"), std::string::npos);
  EXPECT_EQ(single.str().find("limit, 1 cores"), std::string::npos);
}

TEST(bench_limit, the_json_header_records_the_threads_of_the_all_cores_row) {
  host_info host;
  host.date = "2025-01-31T12:00:00Z";
  host.cores = 4;
  host.limit_threads = 4;
  result_store results;
  results.add({k_limit_system, metric::msgs_per_s_all_cores, 64, 1}, 2500);
  const auto document = nlohmann::json::parse(results_json(host, results));
  EXPECT_EQ(document["header"]["limit_threads"], 4);
  // The metric keeps its historical name, which other tools read.
  EXPECT_EQ(document["rows"][0]["metric"], "msgs_per_s_2core");
}

}  // namespace
}  // namespace cryptcom::bench
