// The benchmark's own helpers: JSON text, statistics, the command line, memory readings, and a
// smoke run of each measurement with tiny windows (real sockets on 127.0.0.1, real libsodium).

#include <gtest/gtest.h>
#include <sodium.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "bench_test_support.hpp"
#include "json_text.hpp"
#include "limit.hpp"
#include "memory_usage.hpp"
#include "summary.hpp"
#include "system.hpp"

namespace cryptcom::bench {
namespace {

// What a JSON parser reads back from our string literal.
std::string parsed_string(std::string_view text) {
  std::string literal;
  append_json_string(literal, text);
  return nlohmann::json::parse(literal).get<std::string>();
}

double parsed_number(double value) {
  std::string literal;
  append_json_number(literal, value);
  return nlohmann::json::parse(literal).get<double>();
}

const std::string k_replacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

TEST(bench_json_text, quotes_backslashes_and_every_control_character_read_back_unchanged) {
  std::string text = "say \"hi\" \\ back/slash";
  for (char c = 0; c < 0x20; ++c) text += c;
  text += '\x7f';
  EXPECT_EQ(parsed_string(text), text);
}

TEST(bench_json_text, valid_utf8_of_every_length_reads_back_unchanged) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  EXPECT_EQ(parsed_string(text), text);
}

TEST(bench_json_text, bytes_that_are_not_utf8_become_replacement_characters) {
  // A stray continuation byte, 0xFF, an overlong '/', a UTF-16 surrogate, a truncated sequence,
  // and a code point past U+10FFFF: each invalid byte becomes one U+FFFD.
  EXPECT_EQ(parsed_string("a\x80z"), "a" + k_replacement + "z");
  EXPECT_EQ(parsed_string("\xFF"), k_replacement);
  EXPECT_EQ(parsed_string("\xC0\xAF"), k_replacement + k_replacement);
  EXPECT_EQ(parsed_string("\xED\xA0\x80"), k_replacement + k_replacement + k_replacement);
  EXPECT_EQ(parsed_string("\xE2\x82"), k_replacement + k_replacement);
  EXPECT_EQ(parsed_string("\xF4\x90\x80\x80").size(), 4 * k_replacement.size());
}

TEST(bench_json_text, numbers_read_back_exactly_and_non_finite_ones_become_null) {
  for (double value : {0.0, -1.5, 1e-300, 123456789.123456789, 6.02214076e23, 1.0 / 3}) {
    EXPECT_EQ(parsed_number(value), value);
  }
  for (double value :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    std::string literal;
    append_json_number(literal, value);
    EXPECT_TRUE(nlohmann::json::parse(literal).is_null());
  }
}

TEST(bench_summary, gives_min_median_and_max_of_odd_and_even_counts) {
  const std::vector<double> odd{5, 1, 3};
  const auto s = summarize(odd);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.median, 3);
  EXPECT_EQ(s.max, 5);
  EXPECT_EQ(s.reps, 3U);
  const std::vector<double> even{4, 1, 3, 2};
  EXPECT_EQ(summarize(even).median, 2.5);
  EXPECT_EQ(summarize(std::vector<double>{}).reps, 0U);
}

TEST(bench_summary, percentiles_use_the_nearest_rank) {
  std::vector<double> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(i);
  EXPECT_EQ(percentile(samples, 50), 50);
  EXPECT_EQ(percentile(samples, 99), 99);
  EXPECT_EQ(percentile(samples, 100), 100);
  std::vector<double> one{7};
  EXPECT_EQ(percentile(one, 99), 7);
}

TEST(bench_options, quick_shortens_the_run_but_explicit_flags_win_in_any_order) {
  const auto quick = parse({"--quick"});
  EXPECT_EQ(quick.reps, 2);
  EXPECT_LT(quick.window, bench_options{}.window);
  EXPECT_EQ(quick.scale_peers, (std::vector<int>{1, 10}));
  EXPECT_EQ(quick.sizes, bench_options{}.sizes);
  EXPECT_EQ(parse({"--reps", "3", "--quick"}).reps, 3);
}

TEST(bench_options, hostile_is_a_mode_of_its_own_and_never_part_of_quick) {
  EXPECT_FALSE(parse({}).hostile);
  EXPECT_FALSE(parse({"--quick"}).hostile);
  const auto hostile = parse({"--hostile", "--window-ms", "200"});
  EXPECT_TRUE(hostile.hostile);
  EXPECT_EQ(hostile.hostile_idle_window(), std::chrono::milliseconds(300));
  EXPECT_EQ(hostile.hostile_attack_window(), std::chrono::milliseconds(600));
  EXPECT_THROW((void)parse({"--hostile", "--quick"}), usage_error);
}

TEST(bench_options, sizes_take_binary_suffixes_and_come_out_sorted_and_unique) {
  const auto options = parse({"--sizes", "1M,64,64KiB,1K,64"});
  EXPECT_EQ(options.sizes, (std::vector<std::size_t>{64, 1024, 65536, 1048576}));
}

TEST(bench_options, rejects_what_it_does_not_understand) {
  EXPECT_THROW((void)parse({"--sizes", "0"}), usage_error);
  EXPECT_THROW((void)parse({"--sizes", "65M"}), usage_error);
  EXPECT_THROW((void)parse({"--sizes", "12x"}), usage_error);
  EXPECT_THROW((void)parse({"--reps", "0"}), usage_error);
  EXPECT_THROW((void)parse({"--reps"}), usage_error);
  EXPECT_THROW((void)parse({"--peers", "1,,2"}), usage_error);
  EXPECT_THROW((void)parse({"--frobnicate"}), usage_error);
}

TEST(bench_options, size_labels_name_whole_binary_units) {
  EXPECT_EQ(size_label(64), "64 B");
  EXPECT_EQ(size_label(1024), "1 KiB");
  EXPECT_EQ(size_label(1536), "1536 B");
  EXPECT_EQ(size_label(1 << 20), "1 MiB");
}

TEST(bench_memory, resident_size_grows_when_memory_is_touched) {
  const auto before = resident_bytes();
  ASSERT_TRUE(before.has_value());
  EXPECT_GT(*before, 0);
  std::vector<unsigned char> block(32U << 20);
  randombytes_buf(block.data(), block.size());  // every page written, so every page resident
  const auto after = resident_bytes();
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after - *before, std::int64_t{16} << 20);
  EXPECT_NE(block[block.size() / 2] + block[0], 1000);  // keeps the block alive until here
}

const run_bounds k_tiny{std::chrono::milliseconds(30), 100'000, std::chrono::milliseconds(5000)};

TEST(bench_limit, measures_a_positive_rate_that_falls_with_size) {
  ASSERT_GE(sodium_init(), 0);
  const auto small = measure_limit(64, k_tiny);
  const auto large = measure_limit(4 << 20, k_tiny);
  EXPECT_GT(small.msgs_per_s, 0);
  EXPECT_GT(large.msgs_per_s, 0);
  EXPECT_GT(small.msgs_per_s, large.msgs_per_s);
}

TEST(bench_systems, every_zmq_system_moves_messages_one_way_and_round_trip) {
  ASSERT_GE(sodium_init(), 0);
  auto systems = make_zmq_systems();
  ASSERT_FALSE(systems.empty());
  EXPECT_EQ(systems.front()->name(), "plaintext");
  for (auto& system : systems) {
    SCOPED_TRACE(system->name());
    if (!system->has_one_way()) continue;  // the load balancing rows: load_balancing_test.cpp
    ASSERT_TRUE(system->has_round_trip());
    const auto one_way = system->one_way(1024, 3, k_tiny);
    EXPECT_GT(one_way.msgs_per_s, 0);
    EXPECT_DOUBLE_EQ(one_way.bytes_per_s, one_way.msgs_per_s * 1024);
    const auto round_trip = system->round_trip(1024, k_tiny);
    EXPECT_GT(round_trip.p50_us, 0);
    EXPECT_GE(round_trip.p99_us, round_trip.p50_us);
  }
}

}  // namespace
}  // namespace cryptcom::bench
