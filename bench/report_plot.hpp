// Draws the run as an SVG with gnuplot: one-way throughput (MB/s, log scale) and REQ/REP p50
// latency against message size, one line per system. The gnuplot script and its data files go to
// a fresh temporary directory that is removed afterwards. Not thread-safe (runs a child process).
#pragma once

#include <string>
#include <vector>

#include "bench_options.hpp"
#include "results.hpp"

namespace cryptcom::bench {

// `systems` are the messaging systems that ran; the limit's all-cores row is added to the
// throughput plot when it was measured. Throws std::runtime_error when gnuplot is missing, fails,
// or runs for longer than 60 s.
void write_plot(const std::string& svg_path, const bench_options& options,
                const std::vector<std::string>& systems, const result_store& results);

}  // namespace cryptcom::bench
