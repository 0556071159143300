// Issue 9, finding 5: a new instance id on every frame.
// Each one is a peer restart: drop_peer scans the whole key record ring, then up to 1,024 keys
// are granted again. 15 s of such frames from one connection generated 559,397 keys at 101% CPU,
// and the backlog kept the server busy 2 minutes after the attacker stopped. Target: at full rate
// from one connection, the server is idle again within 1 s of the flood's end; restarts per peer
// and key grants under real rate limits.
//
// The flood is capped at 100 frames: before the fix each costs the target 1,024 key generations
// (~40 ms), so 100 frames are ~4 s of its CPU, enough to fail and few enough to end.
#include <gtest/gtest.h>

#include <string>

#include "attacker/floods.hpp"
#include "attacker/raw_peer.hpp"
#include "attacker/served_client.hpp"
#include "flood_run.hpp"
#include "hostile_support.hpp"

namespace cryptcom::hostile::test {
namespace {

// Keys one connection may make the target generate in this flood (~1 to 2 s): a rate limit on
// restarts per peer and a first grant that grows only with use keep it to a few pools' worth.
// Before the fix it is 1,024 per frame.
constexpr std::uint64_t keys_allowed = 2048;

TEST(hostile_instance_churn, a_new_instance_on_every_frame_is_rate_limited_and_drained_within_1_s) {
  const cryptcom::zmq::socket_options options = server_options();
  echo_server server(options);
  ::zmq::context_t ctx;
  auto wire = raw_peer::dealer(ctx, server.endpoint(), "churner");
  flood_bounds bounds;
  bounds.duration = 5000ms;
  bounds.max_frames = 100;
  const auto out = run_flood(server, wire, "churner", make_flood(flood_kind::instance_churn),
                             bounds, 0, bound(1000ms));
  ASSERT_EQ(out.tally.frames, bounds.max_frames);
  EXPECT_TRUE(out.drained_after) << "the target had not read " << out.tally.frames
                                 << " churn frames " << bound(1000ms).count()
                                 << " ms after the last was sent";
  EXPECT_EQ(out.attacker.frames_received, out.tally.frames);
  EXPECT_LE(out.attacker.keys_generated, keys_allowed)
      << out.tally.frames << " frames (" << out.tally.bytes << " bytes) made the target generate "
      << out.attacker.keys_generated << " keys, " << out.attacker.peer_restarts << " restarts";

  // A served client is served once the flood is over.
  served_client client(ctx, server.endpoint(), client_options(options));
  EXPECT_TRUE(client.round_trip(64, bound(1000ms))) << "no echo within 1 s after the flood";
  EXPECT_LE(server.stats().engine.live_keys, options.engine.max_keys_total);
  // What trimmed or refused the churner (its grants, its restarts) is reported naming the bound.
  const auto events = server.events();
  expect_refusals_name_their_bound(events);
  EXPECT_FALSE(refusals_of(events, "churner").empty());
}

}  // namespace
}  // namespace cryptcom::hostile::test
