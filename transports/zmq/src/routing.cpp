// The routing table; see routing.hpp.
#include "routing.hpp"

#include <algorithm>

namespace cryptcom::zmq::detail {

const char* name_of(bound b) noexcept {
  switch (b) {
    case bound::max_unestablished_per_connection:
      return "max_unestablished_per_connection";
    case bound::max_peers:
      return "max_peers";
  }
  return "?";
}

routing_table::routing_table(std::size_t connection_frames)
    : connection_frames_(connection_frames) {}

routing_table::~routing_table() = default;

std::string routing_table::key_of(std::span<const std::string_view> frames) {
  std::string key;
  std::size_t n = 0;
  for (std::string_view f : frames) n += 4 + f.size();
  key.reserve(n);
  for (std::string_view f : frames) {
    const auto size = static_cast<std::uint32_t>(f.size());
    for (int shift = 24; shift >= 0; shift -= 8)
      key.push_back(static_cast<char>((size >> shift) & 0xff));
    key.append(f);
  }
  return key;
}

std::optional<peer_number> routing_table::find(std::span<const std::string_view> path) const {
  auto it = by_key_.find(key_of(path));
  if (it == by_key_.end()) return std::nullopt;
  return it->second->peer;
}

std::optional<std::uint64_t> routing_table::connection_number(peer_number peer) const {
  const route* r = get(peer);
  if (r == nullptr || r->conn == nullptr) return std::nullopt;
  return r->conn->number;
}

std::string routing_table::connection_of(std::span<const std::string_view> path) const {
  return key_of(path.first(std::min(connection_frames_, path.size())));
}

peer_number routing_table::add(std::span<const std::string_view> path, bool established,
                               time_point now) {
  const peer_number id = next_++;
  route& r = routes_.emplace(id, route{}).first->second;
  r.peer = id;
  r.key = key_of(path);
  r.last_active = now;
  r.established = established;
  by_key_.emplace(std::string_view(r.key), &r);
  longest_ = std::max(longest_, path.size());
  auto& slot = connections_[connection_of(path)];
  if (!slot) {
    slot = std::make_unique<connection>();
    slot->id = connection_of(path);
    slot->number = next_connection_++;
  }
  r.conn = slot.get();
  ++r.conn->routes;
  if (!established) {
    const std::size_t before = r.conn->waiting.size();
    r.conn->waiting.push_back(&r);
    ++unestablished_;
    ranked(*r.conn, before);
  }
  activity_.push_back(&r);
  return id;
}

void routing_table::add_direct(peer_number number, time_point now) {
  route& r = routes_.emplace(number, route{}).first->second;
  r.peer = number;
  r.last_active = now;
  r.established = true;
  by_key_.emplace(std::string_view(r.key), &r);
}

peer_number routing_table::add_server(time_point now) {
  const peer_number id = next_++;
  route& r = routes_.emplace(id, route{}).first->second;
  r.peer = id;
  // A key no path has (a path's key is length-prefixed frames of at most 255 bytes), so that
  // by_key_ stays one route per key.
  r.key = std::string("\xff\xff\xff\xff", 4) + std::to_string(id);
  r.last_active = now;
  r.established = true;
  r.server = true;
  by_key_.emplace(std::string_view(r.key), &r);
  return id;
}

routing_table::route* routing_table::get(peer_number peer) {
  auto it = routes_.find(peer);
  return it == routes_.end() ? nullptr : &it->second;
}

const routing_table::route* routing_table::get(peer_number peer) const {
  auto it = routes_.find(peer);
  return it == routes_.end() ? nullptr : &it->second;
}

void routing_table::ranked(connection& c, std::size_t before) {
  if (before > 0) busiest_.erase({before, &c});
  if (!c.waiting.empty()) busiest_.insert({c.waiting.size(), &c});
}

void routing_table::unwait(route& r) {
  const std::size_t before = r.conn->waiting.size();
  r.conn->waiting.erase(&r);
  --unestablished_;
  ranked(*r.conn, before);
}

void routing_table::erase(peer_number peer) {
  route* r = get(peer);
  if (r == nullptr) return;
  if (r->conn != nullptr) {
    if (!r->established) unwait(*r);
    activity_.erase(r);
    if (--r->conn->routes == 0) connections_.erase(r->conn->id);
  }
  if (r->pins > 0) --pinned_;
  by_key_.erase(std::string_view(r->key));
  routes_.erase(peer);
}

std::vector<std::string_view> routing_table::path_of(peer_number peer) const {
  std::vector<std::string_view> frames;
  const route* r = get(peer);
  if (r == nullptr || r->server) return frames;
  std::string_view rest = r->key;
  while (rest.size() >= 4) {
    std::uint32_t size = 0;
    for (std::size_t i = 0; i < 4; ++i) size = (size << 8) | static_cast<unsigned char>(rest[i]);
    frames.push_back(rest.substr(4, size));
    rest.remove_prefix(4 + size);
  }
  return frames;
}

std::vector<std::string> routing_table::path_copy(peer_number peer) const {
  const auto views = path_of(peer);
  return {views.begin(), views.end()};
}

std::vector<peer_number> routing_table::peers() const {
  std::vector<peer_number> out;
  out.reserve(routes_.size());
  for (const auto& [id, r] : routes_) out.push_back(id);
  return out;
}

void routing_table::touch(peer_number peer, time_point now) {
  route* r = get(peer);
  if (r == nullptr) return;
  r->last_active = now;
  if (r->conn != nullptr) activity_.move_to_back(r);
}

void routing_table::establish(peer_number peer) {
  route* r = get(peer);
  if (r == nullptr || r->established) return;
  unwait(*r);
  r->established = true;
}

bool routing_table::established(peer_number peer) const {
  const route* r = get(peer);
  return r != nullptr && r->established;
}

void routing_table::pin(peer_number peer) {
  route* r = get(peer);
  if (r == nullptr) return;
  establish(peer);
  if (r->pins++ == 0) ++pinned_;
}

void routing_table::unpin(peer_number peer) {
  route* r = get(peer);
  if (r == nullptr || r->pins == 0) return;
  if (--r->pins == 0) --pinned_;
}

// Pinned routes and `keep` met at the front are in use: they move to the back as active now. At
// most pinned_ + 1 of them are met, so this is O(1) amortised in the number of routes.
routing_table::route* routing_table::first_active_unpinned(std::optional<peer_number> keep,
                                                           time_point now) {
  for (std::size_t tries = pinned_ + 2; tries > 0; --tries) {
    route* r = activity_.front();
    if (r == nullptr) return nullptr;
    if (r->pins == 0 && r->peer != keep) return r;
    r->last_active = now;
    activity_.move_to_back(r);
  }
  return nullptr;
}

std::optional<routing_table::victim> routing_table::victim_for(
    std::span<const std::string_view> new_path, bool established, const route_limits& limits,
    std::optional<peer_number> keep, time_point now) {
  // Unestablished routes are never pinned (pin() establishes) nor `keep` (the application sent
  // to it, which establishes it), so the front of a waiting list can always go.
  if (!established && limits.max_unestablished_per_connection > 0) {
    auto it = connections_.find(connection_of(new_path));
    if (it != connections_.end() &&
        it->second->waiting.size() >= limits.max_unestablished_per_connection) {
      return victim{it->second->waiting.front()->peer, bound::max_unestablished_per_connection};
    }
  }
  if (routes_.size() < limits.max_peers) return std::nullopt;
  if (!busiest_.empty()) {
    return victim{busiest_.begin()->second->waiting.front()->peer, bound::max_peers};
  }
  // Every path is established: the least recently active one goes.
  if (route* r = first_active_unpinned(keep, now)) return victim{r->peer, bound::max_peers};
  return std::nullopt;
}

std::optional<peer_number> routing_table::idle(time_point cutoff, std::optional<peer_number> keep,
                                               time_point now) {
  const route* r = first_active_unpinned(keep, now);
  if (r == nullptr || r->last_active > cutoff) return std::nullopt;
  return r->peer;
}

split routing_table::split_outgoing(std::span<const std::string_view> frames,
                                    std::size_t min_path) const {
  split s;
  s.path_frames = std::min(min_path, frames.size());
  if (frames.size() <= min_path) return s;
  // A path holds no empty frame, no frame longer than a routing id, and leaves at least one
  // payload frame.
  std::size_t leading = 0;
  while (leading < frames.size() && !frames[leading].empty() &&
         frames[leading].size() <= max_routing_id_bytes) {
    ++leading;
  }
  const std::size_t max_k = std::min({longest_, leading, frames.size() - 1});
  for (std::size_t k = max_k; k >= min_path; --k) {
    if (auto p = find(frames.first(k))) {
      s.path_frames = k;
      s.peer = p;
      return s;
    }
    if (k == 0) break;
  }
  return s;
}

}  // namespace cryptcom::zmq::detail
