// Writes the run as JSON: {"header": {...}, "rows": [{"system", "metric", "size", "peers",
// "min", "median", "max", "reps"}, ...]}, one row per recorded series. Thread-safe if the
// arguments are not modified meanwhile.
#pragma once

#include <string>

#include "host_info.hpp"
#include "results.hpp"

namespace cryptcom::bench {

// The document as text.
[[nodiscard]] std::string results_json(const host_info& host, const result_store& results);

// Writes results_json() to `path` through a temporary file in the same directory, so a reader
// never sees half a file. Throws std::runtime_error when the file cannot be written.
void write_json_file(const std::string& path, const host_info& host, const result_store& results);

}  // namespace cryptcom::bench
