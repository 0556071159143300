// The routing table on its own: paths never hold empty frames, and the bounds evict in the
// documented order (an over-full connection's oldest unestablished path; at max_peers the
// oldest unestablished path of the connection holding the most, then the least recently active
// path), never a pinned path nor the one kept; idle paths come out least recently active first.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "routing.hpp"

namespace cryptcom::zmq::detail {
namespace {

using views = std::vector<std::string_view>;
using namespace std::chrono_literals;

const time_point t0{};

peer_number add(routing_table& t, views path, bool established, time_point at = t0) {
  return t.add(path, established, at);
}

TEST(zmq_routing_table, a_path_holds_no_empty_frame_and_an_empty_first_part_is_payload) {
  routing_table dealer(0);
  dealer.add_direct(1, t0);
  // A DEALER's message ["", "abcd", ""]: no routing frames, the empty part is payload.
  split s = dealer.split_outgoing(views{"", "abcd", ""}, 0);
  EXPECT_EQ(s.path_frames, 0u);
  EXPECT_EQ(s.peer, 1u);
  const peer_number c = add(dealer, views{"client"}, true);
  s = dealer.split_outgoing(views{"client", "", "body"}, 0);
  EXPECT_EQ(s.path_frames, 1u);
  EXPECT_EQ(s.peer, c);
  s = dealer.split_outgoing(views{"client"}, 0);  // a payload part is left
  EXPECT_EQ(s.path_frames, 0u);

  routing_table router(1);
  const peer_number a = add(router, views{"a"}, true);
  s = router.split_outgoing(views{"a", "", "x"}, 1);
  EXPECT_EQ(s.path_frames, 1u);
  EXPECT_EQ(s.peer, a);
  s = router.split_outgoing(views{"", "x"}, 1);  // an empty routing id: a new path, refused
  EXPECT_EQ(s.path_frames, 1u);                  // by the I/O loop
  EXPECT_FALSE(s.peer);
  EXPECT_EQ(router.path_of(a), views{"a"});
  EXPECT_TRUE(router.path_of(99).empty());
}

TEST(zmq_routing_table, a_connection_over_its_bound_gives_up_its_oldest_unestablished_path) {
  routing_table t(1);
  const route_limits limits{100, 3};
  std::vector<peer_number> forged;
  for (const char* f : {"f0", "f1", "f2"}) forged.push_back(add(t, views{"c1", f}, false));
  EXPECT_EQ(t.unestablished(), 3u);
  auto v = t.victim_for(views{"c1", "f3"}, false, limits, std::nullopt, t0);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->peer, forged[0]);
  EXPECT_EQ(v->why, bound::max_unestablished_per_connection);
  EXPECT_STREQ(name_of(v->why), "max_unestablished_per_connection");
  // Another connection has room; so does an established path, which is not counted.
  EXPECT_FALSE(t.victim_for(views{"c2", "x"}, false, limits, std::nullopt, t0));
  EXPECT_FALSE(t.victim_for(views{"c1", "named"}, true, limits, std::nullopt, t0));
  // A path that completed an exchange leaves the count.
  t.establish(forged[0]);
  EXPECT_EQ(t.unestablished(), 2u);
  EXPECT_FALSE(t.victim_for(views{"c1", "f3"}, false, limits, std::nullopt, t0));
  add(t, views{"c1", "f3"}, false);
  v = t.victim_for(views{"c1", "f4"}, false, limits, std::nullopt, t0);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->peer, forged[1]);
  // 0: no bound of its own.
  EXPECT_FALSE(t.victim_for(views{"c1", "f4"}, false, {100, 0}, std::nullopt, t0));
}

TEST(zmq_routing_table, at_max_peers_unestablished_paths_go_first_then_the_least_recently_active) {
  routing_table t(1);
  const route_limits limits{5, 0};
  const peer_number e1 = add(t, views{"e1"}, true, t0);
  const peer_number e2 = add(t, views{"e2"}, true, t0 + 1s);
  const peer_number a = add(t, views{"c1", "a"}, false, t0 + 2s);
  const peer_number b = add(t, views{"c1", "b"}, false, t0 + 2s);
  const peer_number x = add(t, views{"c2", "x"}, false, t0 + 2s);
  // c1 holds the most: its oldest goes, whatever connection the new path is on.
  auto v = t.victim_for(views{"c3"}, false, limits, std::nullopt, t0 + 3s);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->peer, a);
  EXPECT_EQ(v->why, bound::max_peers);
  t.erase(a);
  const peer_number c3 = add(t, views{"c3"}, false, t0 + 3s);
  EXPECT_EQ(t.connections(), 5u);
  // Only established paths: the least recently active goes, unless pinned or kept.
  for (peer_number p : t.peers()) t.establish(p);
  t.touch(e1, t0 + 4s);  // activity, oldest first: e2, b, x, c3, e1
  v = t.victim_for(views{"new"}, false, limits, std::nullopt, t0 + 5s);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->peer, e2);
  EXPECT_EQ(v->why, bound::max_peers);
  t.pin(e2);  // a reply is owed to it: it counts as active now (order: b, x, c3, e1, e2)
  v = t.victim_for(views{"new"}, false, limits, std::nullopt, t0 + 5s);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->peer, b);
  v = t.victim_for(views{"new"}, false, limits, b, t0 + 5s);  // b holds a message: kept
  ASSERT_TRUE(v);
  EXPECT_EQ(v->peer, x);
  // When every path is pinned, nothing can go.
  for (peer_number p : {b, x, c3, e1}) t.pin(p);
  EXPECT_FALSE(t.victim_for(views{"new"}, false, limits, std::nullopt, t0 + 6s));
  t.unpin(c3);
  v = t.victim_for(views{"new"}, false, limits, std::nullopt, t0 + 6s);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->peer, c3);
}

TEST(zmq_routing_table, idle_paths_come_out_least_recently_active_first_never_the_direct_peer) {
  routing_table t(0);
  t.add_direct(1, t0);
  const peer_number a = add(t, views{"a"}, true, t0);
  const peer_number b = add(t, views{"b"}, false, t0 + 1s);
  const peer_number c = add(t, views{"c"}, true, t0 + 2s);
  t.touch(a, t0 + 3s);
  // Idle since t0 + 2s: b, then c; a was active at 3 s; the direct peer never.
  EXPECT_EQ(t.idle(t0 + 2s, std::nullopt, t0 + 10s), b);
  t.erase(b);
  t.pin(c);
  EXPECT_FALSE(t.idle(t0 + 2s, std::nullopt, t0 + 10s));  // c owed a reply: active now
  t.unpin(c);
  EXPECT_FALSE(t.idle(t0 + 2s, std::nullopt, t0 + 10s));  // and it counted as active at 10 s
  EXPECT_EQ(t.idle(t0 + 10s, a, t0 + 11s), c);            // a kept: active at 11 s
  t.erase(c);
  EXPECT_FALSE(t.idle(t0 + 10s, std::nullopt, t0 + 12s));
  EXPECT_EQ(t.idle(t0 + 11s, std::nullopt, t0 + 12s), a);
  t.erase(a);
  EXPECT_FALSE(t.idle(t0 + 1000s, std::nullopt, t0 + 1000s));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.connections(), 0u);
  EXPECT_EQ(t.unestablished(), 0u);
}

}  // namespace
}  // namespace cryptcom::zmq::detail
