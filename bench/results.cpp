#include "results.hpp"

#include <algorithm>

namespace cryptcom::bench {

void result_store::add(const series_key& key, double value) {
  auto it =
      std::find_if(series_.begin(), series_.end(), [&](const series& s) { return s.key == key; });
  if (it == series_.end()) {
    series_.push_back({key, {}});
    it = series_.end() - 1;
  }
  it->samples.push_back(value);
}

std::optional<summary> result_store::find(const series_key& key) const {
  auto it =
      std::find_if(series_.begin(), series_.end(), [&](const series& s) { return s.key == key; });
  if (it == series_.end() || it->samples.empty()) return std::nullopt;
  return summarize(it->samples);
}

const std::vector<double>* result_store::samples(const series_key& key) const {
  auto it =
      std::find_if(series_.begin(), series_.end(), [&](const series& s) { return s.key == key; });
  return it == series_.end() ? nullptr : &it->samples;
}

}  // namespace cryptcom::bench
