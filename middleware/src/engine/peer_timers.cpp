#include "engine/peer_timers.hpp"

#include <cassert>

namespace cryptcom::engine_detail {

void peer_timers::schedule(peer_id peer, std::optional<time_point>& held,
                           std::optional<time_point> at) {
  if (held == at) return;
  if (!held) {
    entries_.emplace(*at, peer);
    held = at;
    return;
  }
  auto node = entries_.extract({*held, peer});
  assert(!node.empty());
  held.reset();
  if (!at) return;  // the node goes with `node`
  node.value().first = *at;
  entries_.insert(std::move(node));
  held = at;
}

std::optional<time_point> peer_timers::next() const noexcept {
  if (entries_.empty()) return std::nullopt;
  return entries_.begin()->first;
}

void peer_timers::due(time_point now, std::vector<peer_id>& out) const {
  out.clear();
  for (auto it = entries_.begin(); it != entries_.end() && it->first <= now; ++it) {
    out.push_back(it->second);
  }
}

}  // namespace cryptcom::engine_detail
