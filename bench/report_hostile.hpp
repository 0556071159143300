// The human-readable report of `cryptcom_bench --hostile`: one row per attack, idle against under
// attack, then what each attack was. Thread-safe if the arguments are not modified meanwhile.
#pragma once

#include <ostream>

#include "bench_options.hpp"
#include "host_info.hpp"
#include "results.hpp"

namespace cryptcom::bench {

void print_hostile_report(std::ostream& out, const bench_options& options, const host_info& host,
                          const result_store& results);

}  // namespace cryptcom::bench
