// routing_table: the routing paths a cryptcom socket has seen, each bound to one engine peer.
//
// A path is the routing envelope of a wire message without its trailing empty delimiter: the
// frames a ROUTER prepends (one per ROUTER hop), or nothing for the directly connected peer of a
// DEALER, REQ or PAIR. The engine names peers by number; this table maps numbers to paths and
// back, remembers per path whether the empty delimiter is used in each direction, and splits an
// outgoing application message into its path, delimiter and payload.
// Thread-safety: none; owned by the I/O thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cryptcom/types.hpp"

namespace cryptcom::zmq::detail {

using peer_number = std::uint64_t;

struct route {
  std::vector<std::string> path;
  bool delimiter_in = false;   // the latest wire message from this path had the empty delimiter
  bool delimiter_out = false;  // our wire messages to this path carry the empty delimiter
  time_point last_active{};
};

// Where an outgoing message's payload starts.
struct split {
  std::size_t path_frames = 0;      // routing path: frames [0, path_frames)
  bool delimiter = false;           // frame path_frames is the empty delimiter
  std::optional<peer_number> peer;  // the known path's peer; empty: a new path
  std::size_t payload_begin() const { return path_frames + (delimiter ? 1 : 0); }
};

class routing_table {
 public:
  // A lookup key for the path made of `frames`.
  static std::string key_of(std::span<const std::string_view> frames);

  std::optional<peer_number> find(std::span<const std::string_view> path) const;
  // Adds a path (which must not be known) and returns its new peer number.
  peer_number add(std::vector<std::string> path, time_point now);
  // Adds the empty path as peer `number` (the direct peer).
  void add_direct(peer_number number, time_point now);
  route* get(peer_number peer);
  const route* get(peer_number peer) const;
  void erase(peer_number peer);
  std::size_t size() const noexcept { return routes_.size(); }
  const std::unordered_map<peer_number, route>& all() const noexcept { return routes_; }

  // Splits an outgoing message of `frames` (routing frames first, as the application gives them)
  // by the longest known path that is a proper prefix of the message, of at least `min_path`
  // frames; when none is known and min_path > 0, the first min_path frames are a new path. An
  // empty frame right after the path, followed by at least one more frame, is the delimiter.
  // The payload (what remains) has at least one frame whenever frames.size() > min_path.
  split split_outgoing(std::span<const std::string_view> frames, std::size_t min_path) const;

 private:
  std::unordered_map<std::string, peer_number> by_key_;
  std::unordered_map<peer_number, route> routes_;
  std::size_t longest_ = 0;
  peer_number next_ = 2;  // 1 is the direct peer
};

}  // namespace cryptcom::zmq::detail
