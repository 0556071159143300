// The PUSH socket's key-aware round robin; see balancer.hpp.
#include "balancer.hpp"

#include <algorithm>

namespace cryptcom::zmq::detail {

void balancer::add(peer_number peer) {
  if (!contains(peer)) peers_.push_back(peer);
}

void balancer::remove(peer_number peer) {
  auto it = std::find(peers_.begin(), peers_.end(), peer);
  if (it == peers_.end()) return;
  const auto index = static_cast<std::size_t>(it - peers_.begin());
  peers_.erase(it);
  // The peer after the removed one keeps its turn.
  if (index < next_) --next_;
  if (next_ >= peers_.size()) next_ = 0;
}

bool balancer::contains(peer_number peer) const {
  return std::find(peers_.begin(), peers_.end(), peer) != peers_.end();
}

std::optional<peer_number> balancer::place(const std::function<bool(peer_number)>& ready,
                                           const std::function<bool(peer_number)>& take) {
  const std::size_t n = peers_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = (next_ + i) % n;
    const peer_number p = peers_[at];
    if (!ready(p) || !take(p)) continue;
    // `take` may not change the rotation: the index still names the taker.
    next_ = (at + 1) % n;
    return p;
  }
  return std::nullopt;
}

}  // namespace cryptcom::zmq::detail
