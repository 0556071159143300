// The human-readable report: one table per message size (every system's throughput and latency,
// the limit, and cryptcom's ratios to the others), then the scaling table, memory per key and
// the soak. Thread-safe if the
// arguments are not modified meanwhile.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "host_info.hpp"
#include "results.hpp"
#include "soak.hpp"

namespace cryptcom::bench {

// `systems` are the names of the messaging systems that ran, in report order; `soak` the soak's
// samples (empty when there was none).
void print_report(std::ostream& out, const bench_options& options, const host_info& host,
                  const std::vector<std::string>& systems, const result_store& results,
                  const std::vector<soak_sample>& soak = {});

}  // namespace cryptcom::bench
