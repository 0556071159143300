// The soak run: one cryptcom-push stream at full rate for minutes, its resident memory sampled
// every 10 s, to show that memory stays flat (nothing grows per message or per key). Not
// thread-safe: one run at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "system.hpp"

namespace cryptcom::bench {

struct soak_sample {
  double seconds = 0;  // since the timed phase began
  std::int64_t rss_bytes = 0;
  std::uint64_t messages = 0;  // received so far
};

struct soak_result {
  std::vector<soak_sample> samples;
  double msgs_per_s = 0;
};

inline constexpr std::chrono::seconds k_soak_sample_every{10};

// One-way `size`-byte messages through `system` (one DEALER, one ROUTER) for `duration`,
// sampling every `sample_every`. Throws std::runtime_error as the measurements do.
[[nodiscard]] soak_result run_soak(
    messaging_system& system, std::size_t size, std::chrono::milliseconds duration,
    std::chrono::milliseconds io_timeout,
    std::chrono::milliseconds sample_every = std::chrono::milliseconds(k_soak_sample_every));

}  // namespace cryptcom::bench
