// Every sample the run produced, grouped by (system, metric, size, peers) in first-seen order.
// Not thread-safe: the runner records from one thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "summary.hpp"

namespace cryptcom::bench {

// Metric names, as written in the JSON "metric" field.
namespace metric {
inline constexpr const char* msgs_per_s = "msgs_per_s";
inline constexpr const char* mb_per_s = "mb_per_s";  // 10^6 bytes per second
inline constexpr const char* p50_us = "p50_us";
inline constexpr const char* p99_us = "p99_us";
inline constexpr const char* rss_per_peer_bytes = "rss_per_peer_bytes";
// The limit row's projection to two cores: both ends' work runs in parallel.
inline constexpr const char* msgs_per_s_2core = "msgs_per_s_2core";
inline constexpr const char* mb_per_s_2core = "mb_per_s_2core";
}  // namespace metric

inline constexpr const char* k_limit_system = "limit";

struct series_key {
  std::string system;
  std::string metric;
  std::size_t size = 0;
  int peers = 1;

  bool operator==(const series_key&) const = default;
};

struct series {
  series_key key;
  std::vector<double> samples;
};

class result_store {
 public:
  void add(const series_key& key, double value);

  [[nodiscard]] const std::vector<series>& all() const { return series_; }

  // Summary of one series; empty when nothing was recorded for it.
  [[nodiscard]] std::optional<summary> find(const series_key& key) const;

 private:
  std::vector<series> series_;
};

}  // namespace cryptcom::bench
