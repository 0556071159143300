// Issue 9, finding 3: one connection can fill max_peers.
// A ROUTER keys peers on the whole envelope, so one TCP connection sending distinct forged routing
// prefixes makes a peer per prefix (65,536 of them in 0.8 s: RSS 7 -> 234 MB), and every later
// real connection is refused for peer_idle_timeout (10 min). Target: with 65,536 forged paths
// from one connection, a new connection is served (bound what one connection can create; evict
// peers that never completed an exchange rather than refusing new ones).
//
// max_peers is 4,096 here instead of 65,536: the same exhaustion for 1/16 of the memory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attacker/floods.hpp"
#include "attacker/forge.hpp"
#include "attacker/raw_peer.hpp"
#include "attacker/served_client.hpp"
#include "hostile_support.hpp"

namespace cryptcom::hostile::test {
namespace {

TEST(hostile_forged_paths, a_new_connection_is_served_after_one_connection_forged_max_peers_paths) {
  cryptcom::zmq::socket_options options = server_options();
  options.max_peers = 4096;
  echo_server server(options);

  ::zmq::context_t ctx;
  auto wire = raw_peer::dealer(ctx, server.endpoint(), "forger");
  // Each path sends an empty control block (it only announces an instance): 40 bytes a peer.
  // (A target that stops reading such a connection is within its rights: the flood then ends
  // short, after 10 s.)
  const auto tally =
      flood_paths(wire, 0, options.max_peers + 512,
                  [](std::uint64_t) { return key_request(random_guid(), 0); }, {bound(10000ms)});
  ASSERT_GT(tally.frames, 0u);
  ASSERT_TRUE(wait_read(server, tally.frames, bound(20000ms)))
      << "the target never read the forged paths";

  const auto echo = first_echo(server.endpoint(), client_options(options), bound(1000ms));
  EXPECT_TRUE(echo) << "a new connection got no echo within " << bound(1000ms).count()
                    << " ms after one connection forged " << tally.frames << " paths";

  const auto s = server.stats();
  EXPECT_LE(s.transport.peers, options.max_peers);
  const std::size_t forged = server.routes_from("forger");
  EXPECT_LT(forged, options.max_peers)
      << "one connection holds " << forged << " of max_peers " << options.max_peers << " paths";
  // What one connection was refused (or had evicted) is counted...
  EXPECT_GT(s.transport.messages_dropped + s.transport.peers_forgotten + s.transport.peers_evicted,
            0u);
  // ... and reported by an event naming the bound.
  const auto events = server.events();
  expect_refusals_name_their_bound(events);
  EXPECT_FALSE(refusals_of(events, "forger").empty())
      << "no event named the bound that refused the forged paths";
}

}  // namespace
}  // namespace cryptcom::hostile::test
