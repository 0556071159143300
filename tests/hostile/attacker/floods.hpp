// floods: frames sent as fast as one connection takes them, each kind aimed at one cost of the
// target (issue 9's findings):
//  instance_churn  a control block with a new instance id every frame, asking for all keys:
//                  each is a peer restart (drop every key of the peer) and a fresh grant
//  failed_opens    data frames with a random enc to live keys the target offered us: each costs
//                  the target an X25519 agreement, and us random bytes
//  malformed       random bytes of random length: nothing parses
//  random_guids    well-formed data frames to random key ids: every one is an unknown key
// The sender blocks while the target's queues are full (ZeroMQ's back-pressure), so "as fast as
// it takes them" is the target's pace once its buffers are full.
// Thread-safety: none; runs on the thread that owns the raw_peer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attacker/forge.hpp"
#include "attacker/raw_peer.hpp"

namespace cryptcom::hostile {

enum class flood_kind { instance_churn, failed_opens, malformed, random_guids };

// "instance-churn", "failed-opens", "malformed", "random-guids".
std::string_view name_of(flood_kind kind);

// When a flood stops: whichever comes first.
struct flood_bounds {
  std::chrono::milliseconds duration{1000};
  std::uint64_t max_frames = UINT64_MAX;
  const std::atomic<bool>* stop = nullptr;  // set from another thread to end it early
};

struct flood_tally {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;  // cryptcom frame bytes
  double seconds = 0;       // from the first send to the last
};

// Makes the next frame of a flood.
using frame_maker = std::function<bytes()>;

// A maker for `kind`. `live_keys`: keys the target offered us (failed_opens aims at them in
// turn; the other kinds ignore them). `wanted`: what instance_churn asks for on every frame.
frame_maker make_flood(flood_kind kind, std::vector<wire::offered_key> live_keys = {},
                       std::uint32_t wanted = all_keys);

// Sends frames from `next` on `path` until the bounds say stop.
flood_tally flood(raw_peer& wire, std::span<const std::string> path, const frame_maker& next,
                  const flood_bounds& bounds);

// Sends `frame_for(n)` on the forged path [forged_path_frame(n)] for n in [first, first + count):
// every one a new peer to the target. Stops early when `bounds` say so.
flood_tally flood_paths(raw_peer& wire, std::uint64_t first, std::uint64_t count,
                        const std::function<bytes(std::uint64_t)>& frame_for,
                        const flood_bounds& bounds = {std::chrono::minutes(10)});

}  // namespace cryptcom::hostile
