// peer_timers: the next deadline of every peer that has one, in deadline order, so that
// poll_timeout() reads the earliest and tick() visits only the peers that are due, whatever the
// number of peers that are idle.
//
// The engine keeps the table exact: every call that changes a peer ends in impl::flush, which
// recomputes that peer's deadline (impl::peer_deadline, O(1)) and schedules it here; disconnect
// removes it. A peer's state holds the deadline the table holds for it (`held`), so that its
// entry is found without a lookup. Costs: O(log n) to move a deadline, one comparison when it did
// not move, O(1) for the earliest, O(k) for the k peers due. A moved entry reuses its node, so
// only a peer's first deadline allocates.
// Thread-safety: none; part of one engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "cryptcom/types.hpp"

namespace cryptcom::engine_detail {

class peer_timers {
 public:
  using peer_id = std::uint64_t;

  // Sets `peer`'s deadline to `at` (nullopt: it has none). `held` is what the table holds for the
  // peer now, kept in the peer's state; it is updated.
  void schedule(peer_id peer, std::optional<time_point>& held, std::optional<time_point> at);

  // The earliest deadline of any peer.
  std::optional<time_point> next() const noexcept;

  // Replaces the contents of `out` with the peers whose deadline is <= now, earliest first. Their
  // entries stay: the caller runs their timers, which schedules them again.
  void due(time_point now, std::vector<peer_id>& out) const;

  std::size_t size() const noexcept { return entries_.size(); }
  bool contains(peer_id peer, time_point at) const { return entries_.count({at, peer}) != 0; }

 private:
  std::set<std::pair<time_point, peer_id>> entries_;
};

}  // namespace cryptcom::engine_detail
