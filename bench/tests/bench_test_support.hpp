// What the benchmark's tests share: the command line as main() parses it, and every system of
// the run, with a way to visit those that take part in a measurement.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <sstream>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "host_info.hpp"
#include "ratios.hpp"
#include "report_table.hpp"
#include "results.hpp"
#include "system.hpp"

namespace cryptcom::bench {

// parse_options over `args`, with the program name in front as main() has it.
inline bench_options parse(std::vector<const char*> args) {
  args.insert(args.begin(), "cryptcom_bench");
  return parse_options(static_cast<int>(args.size()), args.data());
}

// Every system of both lists (plain ZeroMQ's and cryptcom's), with the library's defaults.
inline system_list all_systems() {
  auto systems = make_zmq_systems();
  for (auto& system : make_cryptcom_systems({})) systems.push_back(std::move(system));
  return systems;
}

// Calls `measure(system)` for every system of all_systems() for which `takes_part(system)`,
// each under a trace of its name.
template <class TakesPart, class Measure>
void for_each_system(TakesPart takes_part, Measure measure) {
  ASSERT_GE(sodium_init(), 0);
  auto systems = all_systems();
  for (auto& system : systems) {
    if (!takes_part(*system)) continue;
    SCOPED_TRACE(system->name());
    measure(*system);
  }
}

// The ratios of `results` added, the report's text.
inline std::string report_of(const bench_options& options, result_store& results) {
  add_ratios(options, results);
  std::ostringstream out;
  print_report(out, options, host_info{}, {}, results);
  return out.str();
}

}  // namespace cryptcom::bench
