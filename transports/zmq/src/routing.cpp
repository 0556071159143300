// The routing table; see routing.hpp.
#include "routing.hpp"

#include <algorithm>

namespace cryptcom::zmq::detail {

std::string routing_table::key_of(std::span<const std::string_view> frames) {
  std::string key;
  for (std::string_view f : frames) {
    // Length-prefixed, so that ["ab", "c"] and ["a", "bc"] differ.
    const auto n = static_cast<std::uint32_t>(f.size());
    for (int shift = 24; shift >= 0; shift -= 8)
      key.push_back(static_cast<char>((n >> shift) & 0xff));
    key.append(f);
  }
  return key;
}

std::optional<peer_number> routing_table::find(std::span<const std::string_view> path) const {
  auto it = by_key_.find(key_of(path));
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

peer_number routing_table::add(std::vector<std::string> path, time_point now) {
  std::vector<std::string_view> views(path.begin(), path.end());
  const peer_number id = next_++;
  by_key_.emplace(key_of(views), id);
  longest_ = std::max(longest_, path.size());
  route r;
  r.path = std::move(path);
  r.last_active = now;
  routes_.emplace(id, std::move(r));
  return id;
}

void routing_table::add_direct(peer_number number, time_point now) {
  by_key_.emplace(std::string(), number);
  route r;
  r.last_active = now;
  routes_.emplace(number, std::move(r));
}

route* routing_table::get(peer_number peer) {
  auto it = routes_.find(peer);
  return it == routes_.end() ? nullptr : &it->second;
}

const route* routing_table::get(peer_number peer) const {
  auto it = routes_.find(peer);
  return it == routes_.end() ? nullptr : &it->second;
}

void routing_table::erase(peer_number peer) {
  auto it = routes_.find(peer);
  if (it == routes_.end()) return;
  std::vector<std::string_view> views(it->second.path.begin(), it->second.path.end());
  by_key_.erase(key_of(views));
  routes_.erase(it);
}

split routing_table::split_outgoing(std::span<const std::string_view> frames,
                                    std::size_t min_path) const {
  split s;
  if (frames.size() <= min_path) {
    s.path_frames = std::min(min_path, frames.size());
    return s;
  }
  // A path must leave at least one payload frame.
  const std::size_t max_k = std::min(longest_, frames.size() - 1);
  bool found = false;
  for (std::size_t k = max_k; k >= min_path; --k) {
    if (auto p = find(frames.first(k))) {
      s.path_frames = k;
      s.peer = p;
      found = true;
      break;
    }
    if (k == 0) break;
  }
  if (!found) s.path_frames = min_path;
  const std::size_t k = s.path_frames;
  s.delimiter = k + 1 < frames.size() && frames[k].empty();
  return s;
}

}  // namespace cryptcom::zmq::detail
