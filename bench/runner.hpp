// Runs every measurement `reps` times, round-robin: each repetition goes once through the whole
// list (every size, every system, then the scaling rows, the load balancing rows and the PUB/SUB
// rows), so that drift of the machine over the run touches every row alike instead of whichever
// system happened to run last.
// Not thread-safe: one run at a time.
#pragma once

#include <string>
#include <vector>

#include "bench_options.hpp"
#include "progress.hpp"
#include "results.hpp"
#include "soak.hpp"
#include "system.hpp"

namespace cryptcom::bench {

struct run_outcome {
  result_store results;
  std::vector<std::string> failures;  // one line per failed measurement; the run goes on
  std::vector<soak_sample> soak;      // the soak's memory samples, when there was one
};

[[nodiscard]] run_outcome run_benchmark(const bench_options& options, system_list& systems,
                                        progress_line& progress);

}  // namespace cryptcom::bench
