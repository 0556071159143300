// spent_keys: the peer keys we have sealed to recently, so that an offer of one of them that
// arrives again (a duplicated or replayed offer frame, after the first use was acknowledged) is
// not taken for a fresh key. Sealing a second message to a spent key is worse than a wasted
// seal: the receiver refuses it as a replay, and a duplicated acknowledgement of the first use
// would then be taken for this message's, which was never delivered.
//
// Remembered for `window` after the last add (the engine passes retransmit_after: a frame delayed
// longer than that is treated as lost anyway), so memory is bounded by the send rate times the
// window, not by the length of the session. Adding a key again restarts its window: a message
// withdrawn from the peer (engine::withdraw) spends its key afresh, however long ago it was taken.
// Thread-safety: none.
#pragma once

#include <deque>
#include <unordered_map>
#include <utility>

#include "cryptcom/types.hpp"

namespace cryptcom::engine_detail {

class spent_keys {
 public:
  explicit spent_keys(duration window) : window_(window) {}

  void add(const guid& id, time_point now) {
    forget_old(now);
    const time_point until = now + window_;
    auto [it, fresh] = ids_.try_emplace(id, until);
    if (!fresh) {
      if (it->second == until) return;
      it->second = until;  // the older entry in order_ no longer forgets it
    }
    order_.emplace_back(until, id);
  }

  bool contains(const guid& id, time_point now) {
    forget_old(now);
    return ids_.count(id) != 0;
  }

  std::size_t size() const { return ids_.size(); }

 private:
  // `now` only grows, so order_ is sorted by deadline; an id added again has a later entry.
  void forget_old(time_point now) {
    while (!order_.empty() && order_.front().first <= now) {
      auto it = ids_.find(order_.front().second);
      if (it != ids_.end() && it->second <= now) ids_.erase(it);
      order_.pop_front();
    }
  }

  duration window_;
  std::unordered_map<guid, time_point> ids_;  // id -> when it is forgotten
  std::deque<std::pair<time_point, guid>> order_;
};

}  // namespace cryptcom::engine_detail
