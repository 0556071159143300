// Order statistics over the repetitions of one figure, and percentiles over one run's samples.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace cryptcom::bench {

struct summary {
  double min = 0;
  double median = 0;  // mean of the two middle values for an even count
  double max = 0;
  std::size_t reps = 0;
};

// Summary of `samples`; all zero with reps == 0 when there are none.
[[nodiscard]] summary summarize(std::span<const double> samples);

// Nearest-rank percentile (0 < p <= 100) of `samples`, reordering them; 0 when empty.
[[nodiscard]] double percentile(std::vector<double>& samples, double p);

}  // namespace cryptcom::bench
