// What the JSON header records about the machine, the libraries and the command, so that two
// result files can be told apart. Thread-safe.
#pragma once

#include <string>
#include <vector>

namespace cryptcom::bench {

struct host_info {
  std::string date;       // UTC, ISO 8601, e.g. 2025-01-31T12:00:00Z
  std::string cpu;        // "model name" from /proc/cpuinfo, or "unknown"
  int cores = 0;          // logical CPUs this process may run on
  std::string libzmq;     // version of the libzmq actually loaded
  std::string libsodium;  // version of the libsodium actually loaded
  std::string cryptcom;   // version of this tree, and a note when it ran no cryptcom row
  std::string command;    // the command line, quoted so that a shell would read it back
  // 1, 5 and 15 minute load averages when the run began, from /proc/loadavg: on a shared
  // machine, the first thing to look at when two runs disagree.
  std::string load_average;
  // Threads the limit's all-cores row runs: one per core above, at least 1. Its presence in the
  // JSON header also tells that row apart from files in which it was twice the 1-core figure.
  int limit_threads = 1;
};

// `cryptcom_rows`: whether any cryptcom system was in the run.
[[nodiscard]] host_info collect_host_info(const std::vector<std::string>& argv, bool cryptcom_rows);

}  // namespace cryptcom::bench
