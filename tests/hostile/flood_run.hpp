// flood_run: one flood from one connection against an echo_server, timed the way issue 9 states
// its targets: the flood's frames and bytes, and how long after its last frame the target had
// read them all (issue 9: "the server is idle again within 1 s of the flood's end").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "attacker/floods.hpp"
#include "attacker/raw_peer.hpp"
#include "hostile_support.hpp"

namespace cryptcom::hostile::test {

struct flood_outcome {
  flood_tally tally;
  // From the flood's last frame to the target having read it; nothing if it had not within
  // `drain_limit`.
  std::optional<std::chrono::milliseconds> drained_after;
  cryptcom::counters attacker;  // the target's counters for the attacking peer, once drained
};

// Floods `server` from `wire` (whose routing id is `id`) on the connection itself; `before` is
// how many frames the target had already received from it. Waits up to `drain_limit` for the
// target to read every frame, and (so that the counters are complete and the test can end) up to
// `settle_limit` more if it has not.
inline flood_outcome run_flood(echo_server& server, raw_peer& wire, const std::string& id,
                               const frame_maker& maker, const flood_bounds& bounds,
                               std::uint64_t before, std::chrono::milliseconds drain_limit,
                               std::chrono::milliseconds settle_limit = 60000ms) {
  flood_outcome out;
  out.tally = flood(wire, {}, maker, bounds);
  const auto end = clock_type::now();
  const std::vector<std::string> route{id};
  auto read_all = [&] {
    return peer_counters(server, route).frames_received >= before + out.tally.frames;
  };
  if (wait_until(read_all, drain_limit)) {
    out.drained_after =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - end);
  } else {
    (void)wait_until(read_all, settle_limit);
  }
  out.attacker = peer_counters(server, route);
  return out;
}

}  // namespace cryptcom::hostile::test
