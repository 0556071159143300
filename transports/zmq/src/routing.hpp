// routing_table: the routing paths a cryptcom socket knows, each bound to one engine peer, and
// the bounds on how many it keeps.
//
// A path is the routing frames of a wire message, the frames in front of its one cryptcom frame
// (docs/PROTOCOL.md §11): one per ROUTER hop, or none for the directly connected peer of a
// DEALER, REQ or PAIR. Routing ids are never empty, so a path never holds an empty frame. The
// engine names peers by number; this table maps numbers to paths and back, and splits an
// outgoing application message into its path and its payload.
//
// Bounds. On a ROUTER wire socket the first frame of a path is the routing id libzmq gave the
// connection the message came on, which a peer cannot choose for another connection; the frames
// after it are the peer's claim (a broker carries many clients on one connection, so they may
// be many). A path is *established* once a message from it was delivered (it completed an
// exchange: it asked for keys, got them and sealed to one) or the application sent to it (the
// application named it). Paths that are not yet established cost a forger nothing, so:
//  - each connection keeps at most max_unestablished_per_connection of them; a new one beyond
//    it evicts that connection's oldest;
//  - at max_peers, a new path evicts the oldest unestablished path of the connection holding
//    the most of them, else the least recently active established path; a new path is refused
//    only when every known path is in use (a reply owed to it, a message held for it).
// On a DEALER or PAIR wire socket every path shares the socket's one connection.
// Every operation is O(1) or O(log c) in the number of connections c, except path splitting and
// lookups, which are linear in the path's length; nothing walks all routes.
// Thread-safety: none; owned by the I/O thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cryptcom/types.hpp"
#include "route_list.hpp"

namespace cryptcom::zmq::detail {

using peer_number = std::uint64_t;

// The longest routing id libzmq makes or accepts (ZMQ_ROUTING_ID): a longer frame is no routing
// frame, and is neither kept nor looked up as one.
inline constexpr std::size_t max_routing_id_bytes = 255;

struct route_limits {
  std::size_t max_peers = 65536;
  std::size_t max_unestablished_per_connection = 1024;  // 0: no bound of its own
};

// The bound that made a path go.
enum class bound : unsigned char { max_unestablished_per_connection, max_peers };
const char* name_of(bound b) noexcept;

// Where an outgoing message's payload starts.
struct split {
  std::size_t path_frames = 0;      // routing path: frames [0, path_frames); the rest is payload
  std::optional<peer_number> peer;  // the known path's peer; empty: a new path
};

class routing_table {
 public:
  // `connection_frames`: 1 when the wire socket is a ROUTER (see above), 0 otherwise.
  explicit routing_table(std::size_t connection_frames);
  ~routing_table();
  routing_table(const routing_table&) = delete;
  routing_table& operator=(const routing_table&) = delete;

  // A lookup key for the path made of `frames`: length-prefixed, so ["ab", "c"] != ["a", "bc"].
  static std::string key_of(std::span<const std::string_view> frames);

  std::optional<peer_number> find(std::span<const std::string_view> path) const;
  // Adds a path, which must not be known (make room first: victim_for), and returns its new
  // peer number.
  peer_number add(std::span<const std::string_view> path, bool established, time_point now);
  // A number naming the connection a peer's path came through (unique while the socket lives),
  // for the engine's key budget shared by a connection's paths; none for the direct peer.
  std::optional<std::uint64_t> connection_number(peer_number peer) const;
  // Adds the empty path as peer `number` (the direct peer): established, never idle or evicted.
  void add_direct(peer_number number, time_point now);
  // Adds a further directly connected peer (a DEALER or REQ connected to several servers, each
  // over a wire socket of its own) and returns its number. Like the direct peer it has an empty
  // path, is established and is never idle or evicted; find() never returns it (an empty path
  // names the first direct peer).
  peer_number add_server(time_point now);
  bool contains(peer_number peer) const { return routes_.count(peer) != 0; }
  void erase(peer_number peer);
  std::size_t size() const noexcept { return routes_.size(); }
  std::size_t unestablished() const noexcept { return unestablished_; }
  std::size_t connections() const noexcept { return connections_.size(); }

  // The frames of a known peer's path: views into the table, valid until the peer is erased.
  // Empty for the direct peer and for an unknown one.
  std::vector<std::string_view> path_of(peer_number peer) const;
  std::vector<std::string> path_copy(peer_number peer) const;
  std::vector<peer_number> peers() const;

  // Traffic from or to the peer: it becomes the most recently active.
  void touch(peer_number peer, time_point now);
  void establish(peer_number peer);
  bool established(peer_number peer) const;
  // A pinned peer (a reply is owed to it) is established and never idle nor evicted; pins count.
  void pin(peer_number peer);
  void unpin(peer_number peer);

  // The peer to evict before a new path can be added within `limits`, and the bound that asks
  // for it; none when there is room, or when every candidate is pinned or is `keep`. Call again
  // after each eviction: a new path may need more than one.
  struct victim {
    peer_number peer;
    bound why;
  };
  std::optional<victim> victim_for(std::span<const std::string_view> new_path, bool established,
                                   const route_limits& limits, std::optional<peer_number> keep,
                                   time_point now);
  // The least recently active peer whose last activity was at or before `cutoff`, other than a
  // pinned one or `keep` (those count as active now). Call again after forgetting it.
  std::optional<peer_number> idle(time_point cutoff, std::optional<peer_number> keep,
                                  time_point now);

  // Splits an outgoing message of `frames` (routing frames first, as the application gives them)
  // by the longest known path that is a proper prefix of the message, of at least `min_path`
  // frames and made of non-empty frames only; when none is known, the first min_path frames are
  // a new path. The payload (what remains) has at least one frame whenever
  // frames.size() > min_path.
  split split_outgoing(std::span<const std::string_view> frames, std::size_t min_path) const;

 private:
  struct connection;
  struct route {
    peer_number peer = 0;
    std::string key;
    connection* conn = nullptr;  // null: the direct peer
    time_point last_active{};
    bool established = false;
    bool server = false;  // add_server: no path, whatever its key
    std::uint32_t pins = 0;
    list_link<route> by_activity;  // in activity_, except the direct peer
    list_link<route> by_age;       // in conn->waiting while not established
  };
  struct connection {
    std::string id;
    std::uint64_t number = 0;
    route_list<route, &route::by_age> waiting;  // unestablished paths, oldest first
    std::size_t routes = 0;
  };
  // Connections by how many unestablished paths they hold, most first.
  struct most_waiting {
    bool operator()(const std::pair<std::size_t, connection*>& a,
                    const std::pair<std::size_t, connection*>& b) const noexcept {
      if (a.first != b.first) return a.first > b.first;
      return std::less<connection*>()(a.second, b.second);
    }
  };

  route* get(peer_number peer);
  const route* get(peer_number peer) const;
  std::string connection_of(std::span<const std::string_view> path) const;
  void unwait(route& r);  // takes an unestablished route out of its connection's waiting list
  void ranked(connection& c, std::size_t before);
  route* first_active_unpinned(std::optional<peer_number> keep, time_point now);

  std::size_t connection_frames_;
  std::unordered_map<peer_number, route> routes_;
  std::unordered_map<std::string_view, route*> by_key_;  // views of route::key
  std::unordered_map<std::string, std::unique_ptr<connection>> connections_;
  std::set<std::pair<std::size_t, connection*>, most_waiting> busiest_;  // waiting > 0 only
  route_list<route, &route::by_activity> activity_;  // least recently active first
  std::size_t unestablished_ = 0;
  std::size_t pinned_ = 0;
  std::size_t longest_ = 0;
  peer_number next_ = 2;  // 1 is the direct peer
  std::uint64_t next_connection_ = 1;
};

}  // namespace cryptcom::zmq::detail
