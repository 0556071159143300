// The key-aware balancer of PUSH and of a client connected to several servers; see balancer.hpp.
#include "balancer.hpp"

#include <algorithm>

namespace cryptcom::zmq::detail {

void balancer::add(peer_number peer) {
  if (contains(peer)) return;
  std::uint64_t least = 0;
  if (!peers_.empty()) {
    least = std::min_element(peers_.begin(), peers_.end(), [](const entry& a, const entry& b) {
              return a.sent < b.sent;
            })->sent;
  }
  peers_.push_back({peer, least});
}

void balancer::remove(peer_number peer) {
  auto it =
      std::find_if(peers_.begin(), peers_.end(), [&](const entry& e) { return e.peer == peer; });
  if (it == peers_.end()) return;
  const auto index = static_cast<std::size_t>(it - peers_.begin());
  peers_.erase(it);
  // The peer after the removed one keeps its turn.
  if (index < next_) --next_;
  if (next_ >= peers_.size()) next_ = 0;
}

bool balancer::contains(peer_number peer) const {
  return std::any_of(peers_.begin(), peers_.end(), [&](const entry& e) { return e.peer == peer; });
}

std::optional<peer_number> balancer::place(const std::function<bool(peer_number)>& ready,
                                           const std::function<bool(peer_number)>& take) {
  const std::size_t n = peers_.size();
  // Indexes of the ready peers in round-robin order, then the fewest sent first (stable: equals
  // keep the round-robin order).
  std::vector<std::size_t> order;
  order.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = (next_ + i) % n;
    if (ready(peers_[at].peer)) order.push_back(at);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return peers_[a].sent < peers_[b].sent; });
  for (const std::size_t at : order) {
    // `take` may not change the rotation: the index still names the peer.
    if (!take(peers_[at].peer)) continue;
    ++peers_[at].sent;
    next_ = (at + 1) % n;
    return peers_[at].peer;
  }
  return std::nullopt;
}

}  // namespace cryptcom::zmq::detail
