// The command line of cryptcom_bench. Plain data; parse_options is a pure function.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "system.hpp"

namespace cryptcom::bench {

struct bench_options {
  // Message sizes in bytes. Default: 64 B, 1 KiB, 64 KiB, 1 MiB.
  std::vector<std::size_t> sizes{64, 1024, 64 * 1024, 1024 * 1024};
  // Repetitions of every measurement, interleaved across systems. Default: 5, --quick 2.
  int reps = 5;
  // Fewer reps, shorter windows, scaling to 10 peers and 10 subscribers only: finishes well
  // under a minute.
  bool quick = false;
  // Timed phase of one throughput run; latency and limit runs take fixed fractions of it.
  // Default: 1000 ms, --quick 250 ms.
  std::chrono::milliseconds window{1000};
  // Concurrent DEALER peers for the scaling rows. Default: 1, 10, 100; --quick 1, 10.
  std::vector<int> scale_peers{1, 10, 100};
  // Message size of the scaling rows. Default: 1 KiB.
  std::size_t scale_size = 1024;
  // Load balancing rows (the *-pipeline and *-broker systems): their message sizes, the PULL
  // workers of the PUSH/PULL rows, and the clients and workers of the broker rows. Default: 64 B
  // and 1 KiB; 1 and 4 PULLs; 20 clients, 5 workers.
  std::vector<std::size_t> lb_sizes{64, 1024};
  std::vector<int> pipeline_workers{1, 4};
  broker_shape broker{};
  // PUB/SUB rows (the *-pubsub systems): their message sizes and numbers of subscribers.
  // Default: 64 B and 64 KiB; 1, 10 and 100 subscribers, --quick 1 and 10.
  std::vector<std::size_t> pubsub_sizes{64, 64 * 1024};
  std::vector<int> subscribers{1, 10, 100};
  // Systems to run, by name ("plaintext", "curve", "limit", "cryptcom-push", ...; with --hostile,
  // "hostile-<attack>"). Default: all.
  std::vector<std::string> systems;
  // Where to write the JSON results and the SVG plot. Default: nowhere.
  std::string json_path;
  std::string plot_path;
  // Longest a single send or receive may wait before the run counts as failed. Default: 5 s.
  std::chrono::milliseconds io_timeout{5000};
  // cryptcom: background key generation threads per key pool (each end has one pool).
  // Default: 1.
  std::size_t keygen_threads = 1;
  // cryptcom: seal with AES-256-GCM instead of ChaCha20-Poly1305. Default: off.
  bool aes_256_gcm = false;
  // cryptcom: live one-time keys held for the memory-per-key figure (0: not measured).
  // Default: 20000, --quick 5000.
  std::size_t key_memory_keys = 20000;
  // cryptcom: after the reps, one cryptcom-push stream of soak_size bytes at full rate for this
  // long, its resident memory sampled every 10 s (0: no soak). Default: 0.
  std::chrono::seconds soak{0};
  std::size_t soak_size = 1024;
  // Threads of the limit's all-cores row: one per core this process may run on. Not a flag:
  // main sets it from host_info::limit_threads, so the header and the measurement agree.
  // Default: 1.
  int limit_threads = 1;
  // Instead of the comparison: issue 9's attacks on a cryptcom echo server, one row each (idle
  // and under attack: a served client's p50/p99 round trip, the target's CPU and RSS). Never
  // part of --quick. Default: off.
  bool hostile = false;
  bool help = false;
  // argv as given, for the JSON header.
  std::vector<std::string> command;

  [[nodiscard]] std::chrono::milliseconds latency_window() const { return window / 2; }
  [[nodiscard]] std::chrono::milliseconds limit_window() const { return window * 3 / 10; }
  // The load balancing rows: 30% of a window, after a warm-up of a quarter of that (a full run's
  // 20 such measurements a rep, one of them paying a cryptcom broker's start-up of seconds, then
  // add about a minute on 2 cores).
  [[nodiscard]] std::chrono::milliseconds lb_window() const { return window * 3 / 10; }
  // The PUB/SUB rows: 30% of a window each, after a warm-up of a quarter of that. Each task
  // measures both sizes on one set of sockets (a full run's 45 such tasks add about a minute on
  // 2 cores).
  [[nodiscard]] std::chrono::milliseconds fan_out_window() const { return window * 3 / 10; }
  // --hostile: the served client's round trips with the target idle, and during each attack.
  [[nodiscard]] std::chrono::milliseconds hostile_idle_window() const { return window * 3 / 2; }
  [[nodiscard]] std::chrono::milliseconds hostile_attack_window() const { return window * 3; }
  [[nodiscard]] bool wants(std::string_view system) const;
  [[nodiscard]] cryptcom_settings cryptcom() const { return {keygen_threads, aes_256_gcm}; }
};

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws usage_error with a one-line reason on anything it does not understand.
[[nodiscard]] bench_options parse_options(int argc, const char* const* argv);

[[nodiscard]] std::string usage_text(std::string_view program);

// "64 B", "1 KiB", "64 KiB", "1 MiB", "1536 B".
[[nodiscard]] std::string size_label(std::size_t bytes);

// "1 core", "2 cores".
[[nodiscard]] std::string cores_label(int cores);

}  // namespace cryptcom::bench
