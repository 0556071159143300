#include "runner.hpp"

#include <algorithm>
#include <exception>
#include <functional>

#include "key_memory.hpp"
#include "limit.hpp"
#include "ratios.hpp"
#include "soak.hpp"

namespace cryptcom::bench {
namespace {

// Caps that only matter if a machine is far faster than expected; the windows end runs first.
constexpr std::uint64_t k_max_one_way_messages = 50'000'000;
constexpr std::uint64_t k_max_round_trips = 1'000'000;
constexpr std::uint64_t k_max_limit_messages = 10'000'000;

struct task {
  std::string label;
  std::function<void(result_store&)> run;
};

void add_one_way(std::vector<task>& tasks, messaging_system& system, std::size_t size, int peers,
                 const run_bounds& bounds) {
  std::string label = system.name() + " one-way " + size_label(size);
  if (peers > 1) label += " x" + std::to_string(peers) + " peers";
  tasks.push_back(
      {label, [&system, size, peers, bounds](result_store& results) {
         const auto sample = system.one_way(size, peers, bounds);
         const auto name = system.name();
         results.add({name, metric::msgs_per_s, size, peers}, sample.msgs_per_s);
         results.add({name, metric::mb_per_s, size, peers}, sample.bytes_per_s / 1e6);
         results.add({name, metric::rss_per_peer_bytes, size, peers}, sample.rss_per_peer_bytes);
         results.add({name, metric::cpu_us_per_msg, size, peers}, sample.cpu_us_per_msg);
       }});
}

void add_round_trip(std::vector<task>& tasks, messaging_system& system, std::size_t size,
                    const run_bounds& bounds) {
  tasks.push_back({system.name() + " REQ/REP " + size_label(size),
                   [&system, size, bounds](result_store& results) {
                     const auto sample = system.round_trip(size, bounds);
                     const auto name = system.name();
                     results.add({name, metric::p50_us, size, 1}, sample.p50_us);
                     results.add({name, metric::p99_us, size, 1}, sample.p99_us);
                   }});
}

void add_pipeline(std::vector<task>& tasks, messaging_system& system, std::size_t size, int workers,
                  const run_bounds& bounds) {
  tasks.push_back(
      {system.name() + " PUSH/PULL " + size_label(size) + " x" + std::to_string(workers) + " PULL",
       [&system, size, workers, bounds](result_store& results) {
         const auto sample = system.pipeline(size, workers, bounds);
         const auto name = system.name();
         results.add({name, metric::msgs_per_s, size, workers}, sample.msgs_per_s);
         results.add({name, metric::mb_per_s, size, workers}, sample.bytes_per_s / 1e6);
         results.add({name, metric::cpu_us_per_msg, size, workers}, sample.cpu_us_per_msg);
         if (workers > 1) {
           results.add({name, metric::worker_spread, size, workers}, sample.worker_spread);
         }
       }});
}

// One task for every load balancing size: the broker's clients and workers start once.
void add_broker(std::vector<task>& tasks, messaging_system& system,
                const std::vector<std::size_t>& sizes, const broker_shape& shape,
                const run_bounds& bounds) {
  std::string label = system.name() + " " + std::to_string(shape.clients) + " clients -> " +
                      std::to_string(shape.workers) + " workers,";
  for (const auto size : sizes) label += " " + size_label(size);
  tasks.push_back({label, [&system, sizes, shape, bounds](result_store& results) {
                     const auto samples = system.broker(sizes, shape, bounds);
                     const auto name = system.name();
                     const int clients = shape.clients;
                     if (samples.empty()) return;
                     results.add({name, metric::startup_ms, samples.front().size, clients},
                                 samples.front().startup_ms);
                     for (const auto& sample : samples) {
                       auto add = [&](const char* m, double value) {
                         results.add({name, m, sample.size, clients}, value);
                       };
                       add(metric::requests_per_s, sample.requests_per_s);
                       add(metric::cpu_us_per_msg, sample.cpu_us_per_request);
                       add(metric::p50_us, sample.p50_us);
                       add(metric::p99_us, sample.p99_us);
                       if (shape.workers > 1) add(metric::worker_spread, sample.worker_spread);
                     }
                   }});
}

// One task for every number of subscribers: both sizes on the same sockets, joined once.
void add_fan_out(std::vector<task>& tasks, messaging_system& system,
                 const std::vector<std::size_t>& sizes, int subscribers, const run_bounds& bounds) {
  std::string label = system.name() + " PUB -> " + std::to_string(subscribers) + " SUB,";
  for (const auto size : sizes) label += " " + size_label(size);
  tasks.push_back({label, [&system, sizes, subscribers, bounds](result_store& results) {
                     const auto name = system.name();
                     const auto samples = system.fan_out(sizes, subscribers, bounds);
                     if (samples.empty()) return;
                     results.add({name, metric::ramp_ms, samples.front().size, subscribers},
                                 samples.front().ramp_ms);
                     for (const auto& sample : samples) {
                       auto add = [&](const char* m, double value) {
                         results.add({name, m, sample.size, subscribers}, value);
                       };
                       add(metric::msgs_per_s, sample.msgs_per_s);
                       add(metric::mb_per_s, sample.bytes_per_s / 1e6);
                       add(metric::cpu_us_per_msg, sample.cpu_us_per_msg);
                       add(metric::publisher_cpu_us_per_msg, sample.publisher_cpu_us_per_msg);
                     }
                   }});
}

// The 1-core row and the all-cores row are measured one after the other within the same rep,
// each over its own window; with a single core they are one and the same measurement.
void add_limit(std::vector<task>& tasks, std::size_t size, const run_bounds& bounds, int threads) {
  const double bytes = static_cast<double>(size);
  auto record_all_cores = [size, bytes](result_store& results, const limit_sample& sample) {
    results.add({k_limit_system, metric::msgs_per_s_all_cores, size, 1}, sample.msgs_per_s);
    results.add({k_limit_system, metric::mb_per_s_all_cores, size, 1},
                sample.msgs_per_s * bytes / 1e6);
  };
  tasks.push_back(
      {"limit " + size_label(size) + ", 1 thread",
       [size, bytes, bounds, threads, record_all_cores](result_store& results) {
         const auto sample = measure_limit(size, bounds, 1);
         results.add({k_limit_system, metric::msgs_per_s, size, 1}, sample.msgs_per_s);
         results.add({k_limit_system, metric::mb_per_s, size, 1}, sample.msgs_per_s * bytes / 1e6);
         results.add({k_limit_system, metric::crypto_path_us, size, 1}, sample.crypto_path_us);
         results.add({k_limit_system, metric::cpu_us_per_msg, size, 1}, 1e6 / sample.msgs_per_s);
         if (threads == 1) record_all_cores(results, sample);
       }});
  if (threads == 1) return;
  tasks.push_back({"limit " + size_label(size) + ", " + std::to_string(threads) + " threads",
                   [size, bounds, threads, record_all_cores](result_store& results) {
                     record_all_cores(results, measure_limit(size, bounds, threads));
                   }});
}

void add_key_memory(std::vector<task>& tasks, const bench_options& options) {
  tasks.push_back(
      {"cryptcom memory per live key (" + std::to_string(options.key_memory_keys) + " keys)",
       [&options](result_store& results) {
         const double bytes = measure_key_memory(options.key_memory_keys, options.cryptcom());
         results.add(
             {k_cryptcom_push_system, metric::rss_per_key_bytes, options.key_memory_keys, 1},
             bytes);
       }});
}

std::vector<task> plan(const bench_options& options, system_list& systems) {
  run_bounds one_way{options.window, k_max_one_way_messages, options.io_timeout};
  one_way.warmup = options.window / 4;
  // Many peers take longer to reach their steady state (every connection's queues fill, every
  // cryptcom sender's key pool grows to its share of the stream): a whole window of warm-up.
  run_bounds scaling = one_way;
  scaling.warmup = options.window;
  const run_bounds round_trip{options.latency_window(), k_max_round_trips, options.io_timeout};
  const run_bounds limit{options.limit_window(), k_max_limit_messages, options.io_timeout};
  run_bounds load_balancing{options.lb_window(), k_max_one_way_messages, options.io_timeout};
  load_balancing.warmup = options.lb_window() / 4;
  run_bounds fan_out{options.fan_out_window(), k_max_one_way_messages, options.io_timeout};
  fan_out.warmup = options.fan_out_window() / 4;
  std::vector<task> tasks;
  for (const auto size : options.sizes) {
    for (auto& system : systems) {
      if (system->has_one_way()) add_one_way(tasks, *system, size, 1, one_way);
    }
    for (auto& system : systems) {
      if (system->has_round_trip()) add_round_trip(tasks, *system, size, round_trip);
    }
    if (options.wants(k_limit_system)) add_limit(tasks, size, limit, options.limit_threads);
  }
  const bool single_peer_done = std::find(options.sizes.begin(), options.sizes.end(),
                                          options.scale_size) != options.sizes.end();
  for (const int peers : options.scale_peers) {
    if (peers == 1 && single_peer_done) continue;
    for (auto& system : systems) {
      if (system->has_one_way()) add_one_way(tasks, *system, options.scale_size, peers, scaling);
    }
  }
  for (const auto size : options.lb_sizes) {
    for (const int workers : options.pipeline_workers) {
      for (auto& system : systems) {
        if (system->has_pipeline()) add_pipeline(tasks, *system, size, workers, load_balancing);
      }
    }
  }
  if (!options.lb_sizes.empty()) {
    for (auto& system : systems) {
      if (system->has_broker()) {
        add_broker(tasks, *system, options.lb_sizes, options.broker, load_balancing);
      }
    }
  }
  if (!options.pubsub_sizes.empty()) {
    for (const int subscribers : options.subscribers) {
      for (auto& system : systems) {
        if (system->has_fan_out()) {
          add_fan_out(tasks, *system, options.pubsub_sizes, subscribers, fan_out);
        }
      }
    }
  }
  if (options.key_memory_keys > 0 && options.wants(k_cryptcom_push_system)) {
    add_key_memory(tasks, options);
  }
  return tasks;
}

void run_soak_task(const bench_options& options, system_list& systems, progress_line& progress,
                   run_outcome& outcome) {
  const auto push = std::find_if(systems.begin(), systems.end(), [](const auto& system) {
    return system->name() == k_cryptcom_push_system;
  });
  if (push == systems.end()) return;
  const std::string label = "cryptcom-push soak, " + size_label(options.soak_size) + " for " +
                            std::to_string(options.soak.count()) + " s";
  progress.show(label);
  try {
    const auto soak = run_soak(**push, options.soak_size, options.soak, options.io_timeout);
    const series_key rss{k_cryptcom_push_system, metric::rss_soak_bytes, options.soak_size, 1};
    for (const auto& sample : soak.samples) {
      outcome.results.add(rss, static_cast<double>(sample.rss_bytes));
    }
    if (!soak.samples.empty()) {
      outcome.results.add(
          {k_cryptcom_push_system, metric::rss_soak_growth_bytes, options.soak_size, 1},
          static_cast<double>(soak.samples.back().rss_bytes - soak.samples.front().rss_bytes));
    }
    outcome.results.add({k_cryptcom_push_system, metric::soak_msgs_per_s, options.soak_size, 1},
                        soak.msgs_per_s);
    outcome.soak = soak.samples;
  } catch (const std::exception& e) {
    outcome.failures.push_back(label + ": " + e.what());
    progress.note("FAILED " + outcome.failures.back());
  }
}

}  // namespace

run_outcome run_benchmark(const bench_options& options, system_list& systems,
                          progress_line& progress) {
  run_outcome outcome;
  const auto tasks = plan(options, systems);
  for (int rep = 1; rep <= options.reps; ++rep) {
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      const auto where = "rep " + std::to_string(rep) + "/" + std::to_string(options.reps) + ", " +
                         std::to_string(i + 1) + "/" + std::to_string(tasks.size()) + ": ";
      progress.show(where + tasks[i].label);
      try {
        tasks[i].run(outcome.results);
      } catch (const std::exception& e) {
        outcome.failures.push_back(where + tasks[i].label + ": " + e.what());
        progress.note("FAILED " + outcome.failures.back());
      }
    }
  }
  if (options.soak.count() > 0) run_soak_task(options, systems, progress, outcome);
  progress.finish();
  add_ratios(options, outcome.results);
  return outcome;
}

}  // namespace cryptcom::bench
