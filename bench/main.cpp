// cryptcom_bench: plain ZeroMQ, ZeroMQ with CURVE, cryptcom and libsodium's own limit, side by
// side in one run. bench/README.md says what each figure is; --help gives the command line.

#include <sodium.h>

#include <algorithm>
#include <exception>
#include <iostream>

#include "bench_options.hpp"
#include "host_info.hpp"
#include "hostile_run.hpp"
#include "progress.hpp"
#include "report_hostile.hpp"
#include "report_json.hpp"
#include "report_plot.hpp"
#include "report_table.hpp"
#include "runner.hpp"
#include "system.hpp"

namespace {

using namespace cryptcom::bench;

int write_json(const bench_options& options, const host_info& host, const result_store& results) {
  if (options.json_path.empty()) return 0;
  try {
    write_json_file(options.json_path, host, results);
    std::cerr << "wrote " << options.json_path << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "json: " << e.what() << "\n";
    return 1;
  }
}

// --hostile: issue 9's attacks instead of the comparison.
int run_hostile_mode(const bench_options& options) {
  const host_info host = collect_host_info(options.command, true);
  progress_line progress;
  const run_outcome outcome = run_hostile(options, progress);
  print_hostile_report(std::cout, options, host, outcome.results);
  std::cout.flush();
  int status = outcome.failures.empty() ? 0 : 1;
  for (const auto& failure : outcome.failures) std::cerr << "failed: " << failure << "\n";
  if (write_json(options, host, outcome.results) != 0) status = 1;
  return status;
}

int run(int argc, char** argv) {
  bench_options options;
  try {
    options = parse_options(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << e.what() << "\n" << usage_text(argv[0]);
    return 2;
  }
  if (options.help) {
    std::cout << usage_text(argv[0]);
    return 0;
  }
  if (sodium_init() < 0) {
    std::cerr << "libsodium failed to initialise\n";
    return 1;
  }

  if (options.hostile) return run_hostile_mode(options);

  system_list systems;
  for (auto& system : make_zmq_systems()) {
    if (options.wants(system->name())) systems.push_back(std::move(system));
  }
  for (auto& system : make_cryptcom_systems(options.cryptcom())) {
    if (options.wants(system->name())) systems.push_back(std::move(system));
  }
  // The per-size tables and the plot: the systems of the one-way and REQ/REP comparison. The
  // load balancing and PUB/SUB rows have tables of their own, which find them by name.
  std::vector<std::string> names;
  for (const auto& system : systems) {
    if (system->has_one_way() || system->has_round_trip()) names.push_back(system->name());
  }

  const bool cryptcom_rows = std::any_of(systems.begin(), systems.end(), [](const auto& system) {
    return system->name().starts_with("cryptcom");
  });
  const host_info host = collect_host_info(options.command, cryptcom_rows);
  options.limit_threads = host.limit_threads;
  progress_line progress;
  const run_outcome outcome = run_benchmark(options, systems, progress);

  print_report(std::cout, options, host, names, outcome.results, outcome.soak);
  std::cout.flush();
  int status = outcome.failures.empty() ? 0 : 1;
  for (const auto& failure : outcome.failures) std::cerr << "failed: " << failure << "\n";

  if (write_json(options, host, outcome.results) != 0) status = 1;
  if (!options.plot_path.empty()) {
    try {
      write_plot(options.plot_path, options, names, outcome.results);
      std::cerr << "wrote " << options.plot_path << "\n";
    } catch (const std::exception& e) {
      std::cerr << "plot: " << e.what() << "\n";
      status = 1;
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cryptcom_bench: " << e.what() << "\n";
    return 1;
  }
}
