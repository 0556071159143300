// The load balancing rows: the PUSH/PULL systems spread a stream over their PULLs and the broker
// systems answer requests through their brokers, through the shared loops; the runner plans them
// at every load balancing size and worker count, the ratios pair them, the table shows them, and
// their flags parse.

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "bench_test_support.hpp"
#include "progress.hpp"
#include "ratios.hpp"
#include "results.hpp"
#include "runner.hpp"
#include "system.hpp"

namespace cryptcom::bench {
namespace {

const run_bounds k_short{std::chrono::milliseconds(300), 1'000'000,
                         std::chrono::milliseconds(5000)};

messaging_system* find_system(system_list& systems, const std::string& name) {
  for (auto& system : systems) {
    if (system->name() == name) return system.get();
  }
  return nullptr;
}

// A run of the plain ZeroMQ systems `options` asks for.
run_outcome run_zmq_rows(const bench_options& options) {
  system_list systems;
  for (auto& system : make_zmq_systems()) {
    if (options.wants(system->name())) systems.push_back(std::move(system));
  }
  EXPECT_EQ(systems.size(), options.systems.size());
  progress_line progress;
  return run_benchmark(options, systems, progress);
}

TEST(bench_load_balancing, pipeline_systems_take_part_in_the_pipeline_rows_only) {
  ASSERT_GE(sodium_init(), 0);
  auto systems = all_systems();
  int pipelines = 0;
  for (auto& system : systems) {
    SCOPED_TRACE(system->name());
    const bool pipeline = system->name().ends_with("-pipeline");
    EXPECT_EQ(system->has_pipeline(), pipeline);
    if (!pipeline) {
      EXPECT_THROW((void)system->pipeline(64, 1, k_short), std::logic_error);
      continue;
    }
    ++pipelines;
    EXPECT_FALSE(system->has_one_way());
    EXPECT_FALSE(system->has_round_trip());
    EXPECT_THROW((void)system->one_way(64, 1, k_short), std::logic_error);
    EXPECT_THROW((void)system->round_trip(64, k_short), std::logic_error);
  }
  EXPECT_GE(pipelines, 2);  // plaintext and cryptcom; curve where libzmq has it
  EXPECT_NE(find_system(systems, k_plaintext_pipeline_system), nullptr);
  EXPECT_NE(find_system(systems, k_cryptcom_pipeline_system), nullptr);
}

// Each PUSH spreads its stream over every PULL: none is starved (a PULL with nothing would make
// the spread at least 4/3 with four of them). The spread bound is loose on purpose: a loaded
// machine moves the shares (tests/zmq/pipeline_test.cpp pins cryptcom's evenness itself).
TEST(bench_load_balancing, every_pipeline_spreads_its_stream_over_four_pulls) {
  for_each_system([](messaging_system& s) { return s.has_pipeline(); },
                  [](messaging_system& system) {
                    const auto four = system.pipeline(1024, 4, k_short);
                    EXPECT_GT(four.msgs_per_s, 0);
                    EXPECT_DOUBLE_EQ(four.bytes_per_s, four.msgs_per_s * 1024);
                    EXPECT_GT(four.cpu_us_per_msg, 0);
                    EXPECT_GE(four.worker_spread, 0);
                    EXPECT_LT(four.worker_spread, 1.0);
                    const auto one = system.pipeline(64, 1, k_short);
                    EXPECT_GT(one.msgs_per_s, 0);
                    EXPECT_EQ(one.worker_spread, 0);
                  });
}

TEST(bench_load_balancing, broker_systems_take_part_in_the_broker_rows_only) {
  ASSERT_GE(sodium_init(), 0);
  auto systems = all_systems();
  int brokers = 0;
  for (auto& system : systems) {
    SCOPED_TRACE(system->name());
    const bool broker = system->name().ends_with("-broker");
    EXPECT_EQ(system->has_broker(), broker);
    if (!broker) {
      EXPECT_THROW((void)system->broker({64}, {}, k_short), std::logic_error);
      continue;
    }
    ++brokers;
    EXPECT_FALSE(system->has_one_way());
    EXPECT_FALSE(system->has_round_trip());
    EXPECT_FALSE(system->has_pipeline());
    EXPECT_THROW((void)system->pipeline(64, 1, k_short), std::logic_error);
  }
  EXPECT_EQ(brokers, 2);
  EXPECT_NE(find_system(systems, k_plaintext_broker_system), nullptr);
  EXPECT_NE(find_system(systems, k_cryptcom_broker_system), nullptr);
}

// Few clients, so that cryptcom's start-up is short (its workers grant keys to new clients
// behind the broker at a bounded rate); every size is measured on the same sockets, and in each
// window every worker served (a worker with nothing would make the spread 2 with two of them).
TEST(bench_load_balancing, every_broker_answers_requests_of_each_size_through_every_worker) {
  const broker_shape shape{3, 2};
  for_each_system([](messaging_system& s) { return s.has_broker(); },
                  [&](messaging_system& system) {
                    const auto samples = system.broker({64, 1024}, shape, k_short);
                    ASSERT_EQ(samples.size(), 2u);
                    EXPECT_EQ(samples[0].size, 64u);
                    EXPECT_EQ(samples[1].size, 1024u);
                    for (const auto& sample : samples) {
                      EXPECT_GT(sample.requests_per_s, 0);
                      EXPECT_GT(sample.cpu_us_per_request, 0);
                      EXPECT_GT(sample.p50_us, 0);
                      EXPECT_GE(sample.p99_us, sample.p50_us);
                      EXPECT_GE(sample.worker_spread, 0);
                      EXPECT_LT(sample.worker_spread, 2.0);
                      EXPECT_GT(sample.startup_ms, 0);
                      EXPECT_EQ(sample.startup_ms, samples[0].startup_ms);  // paid once
                    }
                  });
}

TEST(bench_load_balancing, the_runner_records_each_size_and_worker_count_with_workers_as_peers) {
  ASSERT_GE(sodium_init(), 0);
  bench_options options =
      parse({"--systems", "plaintext-pipeline", "--reps", "2", "--window-ms", "100", "--lb-sizes",
             "64,256", "--pipeline-workers", "1,3", "--key-memory", "0"});
  options.scale_peers = {};
  const auto outcome = run_zmq_rows(options);
  ASSERT_TRUE(outcome.failures.empty()) << outcome.failures.front();
  for (const std::size_t size : {64u, 256u}) {
    for (const int workers : {1, 3}) {
      SCOPED_TRACE(std::to_string(size) + " B x" + std::to_string(workers));
      for (const char* m : {metric::msgs_per_s, metric::mb_per_s, metric::cpu_us_per_msg}) {
        const auto* samples =
            outcome.results.samples({k_plaintext_pipeline_system, m, size, workers});
        ASSERT_NE(samples, nullptr) << m;
        EXPECT_EQ(samples->size(), 2u) << m;
      }
      const auto* spread = outcome.results.samples(
          {k_plaintext_pipeline_system, metric::worker_spread, size, workers});
      EXPECT_EQ(spread != nullptr, workers > 1);
    }
  }
  // Nothing of the per-size comparison was run.
  EXPECT_EQ(outcome.results.samples({k_plaintext_system, metric::msgs_per_s, 64, 1}), nullptr);
}

TEST(bench_load_balancing, the_runner_records_every_broker_size_and_the_start_up_once) {
  ASSERT_GE(sodium_init(), 0);
  bench_options options =
      parse({"--systems", "plaintext-broker", "--reps", "2", "--window-ms", "100", "--lb-sizes",
             "64,256", "--broker-clients", "4", "--broker-workers", "2", "--key-memory", "0"});
  options.scale_peers = {};
  const auto outcome = run_zmq_rows(options);
  ASSERT_TRUE(outcome.failures.empty()) << outcome.failures.front();
  for (const std::size_t size : {64u, 256u}) {
    SCOPED_TRACE(std::to_string(size) + " B");
    for (const char* m : {metric::requests_per_s, metric::cpu_us_per_msg, metric::p50_us,
                          metric::p99_us, metric::worker_spread}) {
      const auto* samples = outcome.results.samples({k_plaintext_broker_system, m, size, 4});
      ASSERT_NE(samples, nullptr) << m;
      EXPECT_EQ(samples->size(), 2u) << m;
    }
  }
  const auto* startup =
      outcome.results.samples({k_plaintext_broker_system, metric::startup_ms, 64, 4});
  ASSERT_NE(startup, nullptr);
  EXPECT_EQ(startup->size(), 2u);
  EXPECT_EQ(outcome.results.samples({k_plaintext_broker_system, metric::startup_ms, 256, 4}),
            nullptr);
}

TEST(bench_load_balancing, cryptcom_pipeline_is_compared_rep_by_rep_for_each_worker_count) {
  bench_options options;
  options.lb_sizes = {64};
  options.pipeline_workers = {1, 4};
  result_store results;
  for (double v : {100.0, 300.0}) results.add({k_cryptcom_pipeline_system, "msgs_per_s", 64, 4}, v);
  for (double v : {1000.0, 1500.0})
    results.add({k_plaintext_pipeline_system, "msgs_per_s", 64, 4}, v);
  for (double v : {200.0, 600.0}) results.add({k_curve_pipeline_system, "msgs_per_s", 64, 4}, v);
  // One worker: the plaintext side only; no ratio is made up.
  results.add({k_plaintext_pipeline_system, "msgs_per_s", 64, 1}, 1000.0);
  add_ratios(options, results);
  const auto* plain = results.samples({k_cryptcom_pipeline_system, metric::ratio_plaintext, 64, 4});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(*plain, (std::vector<double>{0.1, 0.2}));
  const auto* curve = results.samples({k_cryptcom_pipeline_system, metric::ratio_curve, 64, 4});
  ASSERT_NE(curve, nullptr);
  EXPECT_EQ(*curve, (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(results.samples({k_cryptcom_pipeline_system, metric::ratio_plaintext, 64, 1}), nullptr);
}

TEST(bench_load_balancing, cryptcom_broker_is_compared_rep_by_rep_at_its_number_of_clients) {
  bench_options options;
  options.lb_sizes = {1024};
  options.broker.clients = 20;
  result_store results;
  for (double v : {300.0, 400.0})
    results.add({k_cryptcom_broker_system, "requests_per_s", 1024, 20}, v);
  for (double v : {1000.0, 4000.0}) {
    results.add({k_plaintext_broker_system, "requests_per_s", 1024, 20}, v);
  }
  add_ratios(options, results);
  const auto* ratio =
      results.samples({k_cryptcom_broker_system, metric::ratio_plaintext, 1024, 20});
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(*ratio, (std::vector<double>{0.3, 0.1}));
}

TEST(bench_load_balancing, the_table_shows_the_broker_rows_with_their_start_up_and_ratio) {
  bench_options options =
      parse({"--systems", "plaintext-broker,cryptcom-broker", "--broker-clients", "12",
             "--broker-workers", "3", "--lb-sizes", "64"});
  result_store results;
  results.add({k_plaintext_broker_system, metric::requests_per_s, 64, 12}, 16000);
  results.add({k_cryptcom_broker_system, metric::requests_per_s, 64, 12}, 4000);
  results.add({k_cryptcom_broker_system, metric::startup_ms, 64, 12}, 2345);
  const std::string text = report_of(options, results);
  EXPECT_NE(text.find("12 REQ clients -> broker -> 3 DEALER workers"), std::string::npos) << text;
  EXPECT_NE(text.find("0.250"), std::string::npos) << text;  // 4000 / 16000
  EXPECT_NE(text.find("2345"), std::string::npos) << text;
}

TEST(bench_load_balancing, the_table_shows_the_pipeline_rows_with_their_ratios) {
  bench_options options = parse({"--systems", "plaintext-pipeline,cryptcom-pipeline"});
  result_store results;
  results.add({k_plaintext_pipeline_system, metric::msgs_per_s, 1024, 4}, 200000);
  results.add({k_cryptcom_pipeline_system, metric::msgs_per_s, 1024, 4}, 5000);
  results.add({k_cryptcom_pipeline_system, metric::worker_spread, 1024, 4}, 0.125);
  const std::string text = report_of(options, results);
  EXPECT_NE(text.find("one PUSH -> N PULL workers"), std::string::npos) << text;
  EXPECT_NE(text.find("0.025"), std::string::npos) << text;  // 5000 / 200000
  EXPECT_NE(text.find("0.125"), std::string::npos) << text;
  // No per-size table for a run of load balancing rows alone.
  EXPECT_EQ(text.find("cryptcom           n/a"), std::string::npos) << text;
}

TEST(bench_load_balancing, flags_set_sizes_workers_and_the_broker_shape) {
  const auto defaults = parse({});
  EXPECT_EQ(defaults.lb_sizes, (std::vector<std::size_t>{64, 1024}));
  EXPECT_EQ(defaults.pipeline_workers, (std::vector<int>{1, 4}));
  EXPECT_EQ(defaults.broker.clients, 20);
  EXPECT_EQ(defaults.broker.workers, 5);
  EXPECT_EQ(parse({"--quick"}).lb_sizes, defaults.lb_sizes);
  EXPECT_LT(parse({"--quick"}).lb_window(), defaults.lb_window());
  const auto set = parse({"--lb-sizes", "1K,64,1K", "--pipeline-workers", "8,2", "--broker-clients",
                          "7", "--broker-workers", "3"});
  EXPECT_EQ(set.lb_sizes, (std::vector<std::size_t>{64, 1024}));
  EXPECT_EQ(set.pipeline_workers, (std::vector<int>{2, 8}));
  EXPECT_EQ(set.broker.clients, 7);
  EXPECT_EQ(set.broker.workers, 3);
  EXPECT_THROW((void)parse({"--pipeline-workers", "0"}), usage_error);
  EXPECT_THROW((void)parse({"--broker-clients", "0"}), usage_error);
  EXPECT_THROW((void)parse({"--lb-sizes", "0"}), usage_error);
}

}  // namespace
}  // namespace cryptcom::bench
