// refused_payloads: keys of ours that opened a frame whose payload we could not accept (invalid,
// or more parts than max_parts), with the reason, so that a copy of that frame sent again gets the
// same answer. Without it the copy would meet a used key, which reads as "delivered" (a copy of a
// message we acknowledged) and is acknowledged again: wrong for a message we refused.
//
// Remembered for `window` from the refusal (the engine passes key_ttl plus the tombstone grace:
// at least as long as the key's own tombstone, which lasts from its expiry), so memory is bounded
// by the rate of such frames times the window; each costs the peer a seal to a key we granted it.
// Thread-safety: none.
#pragma once

#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::engine_detail {

class refused_payloads {
 public:
  explicit refused_payloads(duration window) : window_(window) {}

  void add(const guid& id, errc reason, time_point now) {
    forget_old(now);
    if (reasons_.emplace(id, reason).second) order_.emplace_back(now + window_, id);
  }

  std::optional<errc> reason(const guid& id, time_point now) {
    forget_old(now);
    if (reasons_.empty()) return std::nullopt;
    auto it = reasons_.find(id);
    if (it == reasons_.end()) return std::nullopt;
    return it->second;
  }

 private:
  void forget_old(time_point now) {
    while (!order_.empty() && order_.front().first <= now) {
      reasons_.erase(order_.front().second);
      order_.pop_front();
    }
  }

  duration window_;
  std::unordered_map<guid, errc> reasons_;
  std::deque<std::pair<time_point, guid>> order_;
};

}  // namespace cryptcom::engine_detail
