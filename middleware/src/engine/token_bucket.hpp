// token_bucket: a rate limit (key grants, failed opens) for one peer, on the caller's time.
// Thread-safety: none.
#pragma once

#include <algorithm>
#include <cstddef>

#include "cryptcom/types.hpp"

namespace cryptcom::engine_detail {

class token_bucket {
 public:
  token_bucket(double rate_per_second, double burst, time_point now)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  // Whether a whole token is there now (nothing is taken).
  bool available(time_point now) {
    refill(now);
    return tokens_ >= 1.0;
  }

  // Takes up to `wanted` tokens; returns how many were granted.
  std::size_t take(std::size_t wanted, time_point now) {
    refill(now);
    const auto granted = static_cast<std::size_t>(std::min(tokens_, static_cast<double>(wanted)));
    tokens_ -= static_cast<double>(granted);
    return granted;
  }

 private:
  void refill(time_point now) {
    if (now <= last_) return;
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  time_point last_;
};

}  // namespace cryptcom::engine_detail
