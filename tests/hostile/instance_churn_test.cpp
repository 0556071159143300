// Issue 9, finding 5: a new instance id on every frame.
// Each one is a peer restart: drop_peer scans the whole key record ring, then up to 1,024 keys
// are granted again. 15 s of such frames from one connection generated 559,397 keys at 101% CPU,
// and the backlog kept the server busy 2 minutes after the attacker stopped. Target: at full rate
// from one connection, the server is idle again within 1 s of the flood's end; restarts per peer
// and key grants under real rate limits.
//
// The flood runs at full rate for 1 s, capped at 10,000 frames. Before the fix the first frame of
// each batch the target reads is granted the key_grant_rate's worth of the batch before (up to
// 1,024 keys, ~40 ms of X25519), so the target saturates on key generation and reads ~6,000
// churn frames a second, while the attacker's 10,000 sit in the socket buffers at once: the test
// then sees ~20,000 keys generated and the last frame read ~1.5 s after it was sent (and costs
// ~3 s). After it each frame is cheap and the rate limits bind.
#include <gtest/gtest.h>

#include <string>

#include "attacker/floods.hpp"
#include "attacker/raw_peer.hpp"
#include "attacker/served_client.hpp"
#include "flood_run.hpp"
#include "hostile_support.hpp"

namespace cryptcom::hostile::test {
namespace {

// Keys one connection may make the target generate in this flood (~1 s): a rate limit on
// restarts per peer and a first grant that grows only with use keep it to a few pools' worth.
constexpr std::uint64_t keys_allowed = 2048;

TEST(hostile_instance_churn, a_new_instance_on_every_frame_is_rate_limited_and_drained_within_1_s) {
  const cryptcom::zmq::socket_options options = server_options();
  target_and_attacker t("churner", options);
  flood_bounds bounds;
  bounds.duration = 1000ms;
  bounds.max_frames = scaled_size(10000, 2000);
  const auto out = run_flood(t.server, t.wire, "churner", make_flood(flood_kind::instance_churn),
                             bounds, 0, bound(1000ms));
  ASSERT_GT(out.tally.frames, bounds.max_frames / 10);
  EXPECT_TRUE(out.drained_after) << "the target had not read " << out.tally.frames
                                 << " churn frames " << bound(1000ms).count()
                                 << " ms after the last was sent";
  EXPECT_EQ(out.attacker.frames_received, out.tally.frames);
  EXPECT_LE(out.attacker.keys_generated, keys_allowed)
      << out.tally.frames << " frames (" << out.tally.bytes << " bytes) made the target generate "
      << out.attacker.keys_generated << " keys, " << out.attacker.peer_restarts << " restarts";

  // A served client is served once the flood is over.
  served_client client(t.ctx, t.server.endpoint(), client_options(options));
  EXPECT_TRUE(client.round_trip(64, bound(1000ms))) << "no echo within 1 s after the flood";
  EXPECT_LE(t.server.stats().engine.live_keys, options.engine.max_keys_total);
  // What trimmed or refused the churner (its grants, its restarts) is reported naming the bound.
  const auto events = t.server.events();
  expect_refusals_name_their_bound(events);
  EXPECT_FALSE(refusals_of(events, "churner").empty());
}

}  // namespace
}  // namespace cryptcom::hostile::test
