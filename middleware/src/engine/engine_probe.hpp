// engine_probe: the work an engine did, counted, for tests that check what an operation costs
// (not how long it takes, which depends on the machine).
// Thread-safety: as the engine's own const calls.
#pragma once

#include <cstdint>
#include <string>

#include "cryptcom/engine.hpp"

namespace cryptcom::engine_detail {

struct engine_probe {
  // Peers whose deadline was computed (after each change to a peer, and by poll_timeout() before
  // it kept them in order) plus peers whose timers tick() ran, since the engine was made.
  static std::uint64_t peer_visits(const engine& e);
  // Empty when the timer table holds exactly each peer's deadline (the one peer_deadline computes
  // from its state now); else a sentence naming the first peer that differs. O(peers): a test
  // calls it between the engine's calls to prove that no change to a peer left a stale deadline.
  static std::string timers_mismatch(const engine& e);
};

}  // namespace cryptcom::engine_detail
