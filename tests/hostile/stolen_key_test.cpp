// Issue 9, finding 6: a key opens for any peer.
// key_store::open_with never compares the key's owner with the peer the frame came from: anyone
// who saw an offer on the wire can seal to that key from another connection, the target opens it,
// and the real sender's message under that key is then refused as `replayed_key` and never
// re-sealed. Target: a key offered to peer P opens only for data from P; from anyone else it is
// `unknown_key` and the key stays live.
//
// The thief reads the offers the server makes to the victim from a wiretap in the path (any
// broker or proxy sees them: control frames are not encrypted), seals a message to every one of
// them from a connection of its own, and only then does the victim send.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attacker/forge.hpp"
#include "attacker/raw_peer.hpp"
#include "attacker/speaker.hpp"
#include "attacker/wiretap.hpp"
#include "hostile_support.hpp"

namespace cryptcom::hostile::test {
namespace {

TEST(hostile_stolen_key, a_key_offered_to_one_peer_does_not_open_for_another) {
  const cryptcom::zmq::socket_options options = server_options();
  echo_server server(options);
  ::zmq::context_t ctx;
  wiretap tap(ctx, server.endpoint());

  // The victim connects through the tap and is offered its pool of keys at connect.
  cryptcom::zmq::socket victim(ctx, ::zmq::socket_type::dealer, client_options(options));
  victim.set(::zmq::sockopt::linger, 0);
  victim.connect(tap.endpoint());
  std::vector<wire::offered_key> stolen;
  ASSERT_TRUE(wait_until(
      [&] {
        stolen = tap.offers_to_client();
        return !stolen.empty() && victim.stats().engine.peer_keys >= stolen.size();
      },
      bound(5000ms)))
      << "the victim was never offered keys";

  // The thief seals to every key the victim holds.
  auto wire = raw_peer::dealer(ctx, server.endpoint(), "thief");
  speaker thief(wire);
  for (const auto& k : stolen) thief.target_keys().push_back(k);
  std::size_t sent = 0;
  const std::vector<std::string> forged{"not from the victim"};
  while (thief.send_sealed(forged, false)) ++sent;
  ASSERT_EQ(sent, stolen.size());
  const std::vector<std::string> thief_route{"thief"};
  ASSERT_TRUE(wait_until([&] { return peer_counters(server, thief_route).frames_received >= sent; },
                         bound(5000ms)))
      << "the server never read the thief's frames";
  const counters thief_seen = peer_counters(server, thief_route);
  EXPECT_EQ(thief_seen.messages_opened, 0u)
      << "keys offered to the victim opened for the thief's connection";
  EXPECT_EQ(thief_seen.rejected_unknown_key, sent)
      << "a key of another peer must read as unknown_key to the thief";
  EXPECT_EQ(server.served_from("thief"), 0u);

  // The victim's message goes out under one of the keys the thief sealed to, and is served.
  victim.set(::zmq::sockopt::sndtimeo, 1000);
  victim.set(::zmq::sockopt::rcvtimeo, static_cast<int>(bound(3000ms).count()));
  ASSERT_TRUE(victim.send(::zmq::str_buffer("from the victim"), ::zmq::send_flags::none));
  ::zmq::message_t echo;
  EXPECT_TRUE(victim.recv(echo, ::zmq::recv_flags::none))
      << "the victim's message was not served after a thief sealed to its keys (the server "
         "refused "
      << server.stats().engine.total.rejected_replay << " frames as replays)";
  EXPECT_EQ(echo.to_string(), "from the victim");
  const auto victim_stats = victim.stats().engine.total;
  EXPECT_EQ(victim_stats.messages_undeliverable, 0u);
  victim.close();
}

}  // namespace
}  // namespace cryptcom::hostile::test
