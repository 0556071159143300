// The PUB/SUB rows: the *-pubsub systems deliver every message to every subscriber through the
// shared loop (real sockets on 127.0.0.1), a subscriber that loses copies fails the measurement
// instead of being counted as served, the pacing's bounds, the runner's reps and records, the
// ratios, the table, and the flags.

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "bench_options.hpp"
#include "bench_test_support.hpp"
#include "fan_out_pacing.hpp"
#include "pattern_system.hpp"
#include "progress.hpp"
#include "ratios.hpp"
#include "results.hpp"
#include "runner.hpp"
#include "system.hpp"

namespace cryptcom::bench {
namespace {

const run_bounds k_short = [] {
  run_bounds b{std::chrono::milliseconds(200), 1'000'000, std::chrono::milliseconds(5000)};
  b.warmup = std::chrono::milliseconds(50);
  return b;
}();

TEST(bench_pubsub, pubsub_systems_take_part_in_the_pubsub_rows_only) {
  ASSERT_GE(sodium_init(), 0);
  auto systems = all_systems();
  std::vector<std::string> found;
  for (auto& system : systems) {
    SCOPED_TRACE(system->name());
    const bool pubsub = system->name().ends_with("-pubsub");
    EXPECT_EQ(system->has_fan_out(), pubsub);
    if (!pubsub) {
      EXPECT_THROW((void)system->fan_out({64}, 1, k_short), std::logic_error);
      continue;
    }
    found.push_back(system->name());
    EXPECT_FALSE(system->has_one_way());
    EXPECT_FALSE(system->has_round_trip());
    EXPECT_FALSE(system->has_pipeline());
    EXPECT_FALSE(system->has_broker());
    EXPECT_THROW((void)system->one_way(64, 1, k_short), std::logic_error);
  }
  std::vector<std::string> expected{k_plaintext_pubsub_system, k_cryptcom_pubsub_system};
  if (zmq_has("curve") != 0) expected.insert(expected.begin() + 1, k_curve_pubsub_system);
  EXPECT_EQ(found, expected);
}

// Every system, both sizes on one set of sockets: each sample is its size's, each subscriber's
// rate is positive, and the publisher's CPU is part of the process's. (The loop itself fails the
// measurement unless every subscriber counted every message.)
TEST(bench_pubsub, every_system_delivers_each_size_to_every_subscriber) {
  for_each_system([](messaging_system& s) { return s.has_fan_out(); },
                  [](messaging_system& system) {
                    const auto samples = system.fan_out({64, 4096}, 3, k_short);
                    ASSERT_EQ(samples.size(), 2u);
                    EXPECT_EQ(samples[0].size, 64u);
                    EXPECT_EQ(samples[1].size, 4096u);
                    for (const auto& sample : samples) {
                      EXPECT_GT(sample.msgs_per_s, 0);
                      EXPECT_DOUBLE_EQ(sample.bytes_per_s,
                                       sample.msgs_per_s * static_cast<double>(sample.size));
                      EXPECT_GT(sample.publisher_cpu_us_per_msg, 0);
                      EXPECT_GT(sample.cpu_us_per_msg, 0);
                      // The same kernel accounting, read through two clocks (per thread in ns, the
                      // process's in us): a margin for the readings, not for the subscribers'
                      // share.
                      EXPECT_LE(sample.publisher_cpu_us_per_msg,
                                sample.cpu_us_per_msg * 1.05 + 1.0);
                      EXPECT_GE(sample.ramp_ms, 0);
                    }
                    EXPECT_EQ(samples[1].ramp_ms, 0);  // the first size's only
                  });
}

// Plain libzmq sockets, except that each SUB keeps only the last message it has not read
// (ZMQ_CONFLATE): copies are lost on the subscriber's side. The measurement must not count them.
struct conflating_policy {
  using socket_type = ::zmq::socket_t;
  socket_type make_socket(::zmq::context_t& context, ::zmq::socket_type type, endpoint_role) {
    socket_type socket(context, type);
    if (type == ::zmq::socket_type::sub) socket.set(::zmq::sockopt::conflate, true);
    return socket;
  }
};

TEST(bench_pubsub, a_subscriber_that_loses_copies_fails_the_measurement) {
  ASSERT_GE(sodium_init(), 0);
  pattern_system<conflating_policy> lossy("lossy-pubsub", conflating_policy{},
                                          pattern::fan_out_only);
  run_bounds bounds = k_short;
  bounds.io_timeout = std::chrono::milliseconds(500);
  try {
    (void)lossy.fan_out({64}, 2, bounds);
    FAIL() << "the lost copies went unnoticed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a copy was dropped"), std::string::npos) << e.what();
  }
}

TEST(bench_pubsub, in_flight_copies_are_bounded_in_bytes_and_in_messages) {
  using detail::fan_out_max_in_flight;
  EXPECT_EQ(fan_out_max_in_flight(64, 1), detail::k_fan_out_max_in_flight);
  EXPECT_EQ(fan_out_max_in_flight(64 * 1024, 1), detail::k_fan_out_max_in_flight);
  EXPECT_EQ(fan_out_max_in_flight(64 * 1024, 10), 51u);  // 32 MiB / 640 KiB
  EXPECT_EQ(fan_out_max_in_flight(64 * 1024, 100), 5u);
  EXPECT_EQ(fan_out_max_in_flight(1 << 20, 100), detail::k_fan_out_min_in_flight);
  // A window copies at most 1 GiB to all subscribers together, at least 16 messages.
  EXPECT_EQ(detail::fan_out_window_messages(64 * 1024, 100, 1'000'000), 163u);
  EXPECT_EQ(detail::fan_out_window_messages(1 << 20, 1000, 1'000'000), 16u);
  EXPECT_EQ(detail::fan_out_window_messages(64, 1, 1000), 1000u);
}

// Stands for a PUB/SUB system: answers every fan_out call with figures of its own, counting
// the calls, so that the runner's planning and records can be checked without sockets.
class scripted_fan_out final : public messaging_system {
 public:
  [[nodiscard]] std::string name() const override { return k_cryptcom_pubsub_system; }
  [[nodiscard]] bool has_fan_out() const override { return true; }
  [[nodiscard]] std::vector<fan_out_sample> fan_out(const std::vector<std::size_t>& sizes,
                                                    int subscribers, const run_bounds&) override {
    ++calls;
    std::vector<fan_out_sample> samples;
    for (const auto size : sizes) {
      fan_out_sample s;
      s.size = size;
      s.msgs_per_s = 1000.0 * subscribers + calls;
      s.bytes_per_s = s.msgs_per_s * static_cast<double>(size);
      s.cpu_us_per_msg = 20;
      s.publisher_cpu_us_per_msg = 10;
      s.ramp_ms = samples.empty() ? 3000 : 0;
      samples.push_back(s);
    }
    return samples;
  }
  int calls = 0;
};

TEST(bench_pubsub, the_runner_measures_every_rep_and_records_the_ramp_once_per_task) {
  bench_options options = parse({"--reps", "3", "--subscribers", "1,10", "--pubsub-sizes", "64,1K",
                                 "--sizes", "64", "--key-memory", "0"});
  options.sizes = {};
  options.scale_peers = {};
  system_list systems;
  systems.push_back(std::make_unique<scripted_fan_out>());
  auto* scripted = static_cast<scripted_fan_out*>(systems.front().get());
  progress_line progress;
  const auto outcome = run_benchmark(options, systems, progress);
  ASSERT_TRUE(outcome.failures.empty()) << outcome.failures.front();
  EXPECT_EQ(scripted->calls, 6);  // 2 numbers of subscribers, 3 reps
  for (const std::size_t size : {64u, 1024u}) {
    for (const int subscribers : {1, 10}) {
      SCOPED_TRACE(std::to_string(size) + " B x" + std::to_string(subscribers));
      for (const char* m : {metric::msgs_per_s, metric::mb_per_s, metric::cpu_us_per_msg,
                            metric::publisher_cpu_us_per_msg}) {
        const auto* samples =
            outcome.results.samples({k_cryptcom_pubsub_system, m, size, subscribers});
        ASSERT_NE(samples, nullptr) << m;
        EXPECT_EQ(samples->size(), 3u) << m;
      }
      const auto* ramp =
          outcome.results.samples({k_cryptcom_pubsub_system, metric::ramp_ms, size, subscribers});
      if (size == 64) {
        ASSERT_NE(ramp, nullptr);
        EXPECT_EQ(*ramp, (std::vector<double>{3000, 3000, 3000}));
      } else {
        EXPECT_EQ(ramp, nullptr);
      }
    }
  }
  const auto* mb = outcome.results.samples({k_cryptcom_pubsub_system, metric::mb_per_s, 1024, 10});
  ASSERT_NE(mb, nullptr);
  EXPECT_DOUBLE_EQ(mb->front(), (10000.0 + 2) * 1024 / 1e6);  // the second call's
}

TEST(bench_pubsub, cryptcom_pubsub_is_compared_rep_by_rep_for_each_number_of_subscribers) {
  bench_options options;
  options.pubsub_sizes = {64 * 1024};
  options.subscribers = {1, 100};
  result_store results;
  const std::size_t size = 64 * 1024;
  for (double v : {20.0, 30.0}) results.add({k_cryptcom_pubsub_system, "msgs_per_s", size, 100}, v);
  for (double v : {200.0, 600.0})
    results.add({k_plaintext_pubsub_system, "msgs_per_s", size, 100}, v);
  for (double v : {40.0, 60.0}) results.add({k_curve_pubsub_system, "msgs_per_s", size, 100}, v);
  // One subscriber: the plaintext side only; no ratio is made up.
  results.add({k_plaintext_pubsub_system, "msgs_per_s", size, 1}, 1000.0);
  add_ratios(options, results);
  const auto* plain =
      results.samples({k_cryptcom_pubsub_system, metric::ratio_plaintext, size, 100});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(*plain, (std::vector<double>{0.1, 0.05}));
  const auto* curve = results.samples({k_cryptcom_pubsub_system, metric::ratio_curve, size, 100});
  ASSERT_NE(curve, nullptr);
  EXPECT_EQ(*curve, (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(results.samples({k_cryptcom_pubsub_system, metric::ratio_plaintext, size, 1}), nullptr);
}

TEST(bench_pubsub, the_table_shows_the_pubsub_rows_with_both_cpu_figures_ramp_and_ratios) {
  bench_options options = parse({"--systems", "plaintext-pubsub,cryptcom-pubsub"});
  result_store results;
  results.add({k_plaintext_pubsub_system, metric::msgs_per_s, 64, 10}, 200000);
  results.add({k_cryptcom_pubsub_system, metric::msgs_per_s, 64, 10}, 1000);
  results.add({k_cryptcom_pubsub_system, metric::publisher_cpu_us_per_msg, 64, 10}, 987);
  results.add({k_cryptcom_pubsub_system, metric::cpu_us_per_msg, 64, 10}, 2345);
  results.add({k_cryptcom_pubsub_system, metric::ramp_ms, 64, 10}, 3017);
  const std::string text = report_of(options, results);
  EXPECT_NE(text.find("PUB/SUB fan-out: 1 PUB -> N SUB"), std::string::npos) << text;
  for (const char* figure : {"200.0k", "987", "2345", "3017", "0.005"}) {  // 1000 / 200000
    EXPECT_NE(text.find(figure), std::string::npos) << figure << "\n" << text;
  }
  // No per-size table for a run of PUB/SUB rows alone.
  EXPECT_EQ(text.find("cryptcom           n/a"), std::string::npos) << text;
}

TEST(bench_pubsub, flags_set_sizes_subscribers_and_quick_runs_fewer) {
  const auto defaults = parse({});
  EXPECT_EQ(defaults.pubsub_sizes, (std::vector<std::size_t>{64, 64 * 1024}));
  EXPECT_EQ(defaults.subscribers, (std::vector<int>{1, 10, 100}));
  const auto quick = parse({"--quick"});
  EXPECT_EQ(quick.subscribers, (std::vector<int>{1, 10}));
  EXPECT_LT(quick.fan_out_window(), defaults.fan_out_window());
  const auto set = parse({"--pubsub-sizes", "1K,64,1K", "--subscribers", "50,5", "--quick"});
  EXPECT_EQ(set.pubsub_sizes, (std::vector<std::size_t>{64, 1024}));
  EXPECT_EQ(set.subscribers, (std::vector<int>{5, 50}));
  EXPECT_THROW((void)parse({"--subscribers", "0"}), usage_error);
  EXPECT_THROW((void)parse({"--pubsub-sizes", "1"}), usage_error);  // the hello's size
}

}  // namespace
}  // namespace cryptcom::bench
