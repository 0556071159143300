// Issue 9, finding 4: every I/O loop turn costs O(peers).
// engine::poll_timeout and tick walk all peers, twice per iteration of the socket's I/O loop:
// 60,000 idle forged peers took a served client's round trip from 0.33 to 17.4 ms. Target: with
// 60,000 idle peers, a served client's round trip within 1.5x of its idle-server figure
// (deadlines in a heap or timer wheel; per-event cost independent of the idle peers).
//
// No counter shows the cost of a loop turn, so this test times round trips: the median of 101,
// idle and then with 20,000 idle peers (10,000 under the sanitizers). Before the fix the ratio
// is around 10 or more; the bound is 3, twice the target's 1.5, so that two loaded cores do not
// make it flaky (./run.sh bench --hostile measures the 1.5x itself, with 60,000 peers).
// The idle peers come from 100 connections of 200 forged paths each, not from one, so that a
// bound on what one connection may create (finding 3) does not stop them from existing.
#include <gtest/gtest.h>
#include <algorithm>

#include <string>
#include <vector>

#include "attacker/floods.hpp"
#include "attacker/forge.hpp"
#include "attacker/raw_peer.hpp"
#include "attacker/served_client.hpp"
#include "hostile_support.hpp"

namespace cryptcom::hostile::test {
namespace {

constexpr double ratio_allowed = 3.0;

double median_round_trip_us(served_client& client) {
  const auto times = client.round_trips_us(64, bound(20000ms), 101, bound(2000ms));
  EXPECT_FALSE(client.timed_out()) << "a round trip timed out";
  return quantile(times, 0.5);
}

TEST(hostile_idle_peers, idle_peers_do_not_slow_a_served_client_s_round_trip) {
  const cryptcom::zmq::socket_options options = server_options();
  echo_server server(options);
  ::zmq::context_t ctx;
  served_client client(ctx, server.endpoint(), client_options(options));
  // Warm-up: keys exchanged both ways, pools at their steady size.
  ASSERT_FALSE(client.round_trips_us(64, bound(5000ms), 30, bound(2000ms)).empty());
  const double idle_us = median_round_trip_us(client);

  const int connections = sanitized() ? 50 : 100;
  constexpr int paths = 200;
  std::uint64_t sent = 0;
  {
    std::vector<raw_peer> wires;
    for (int c = 0; c < connections; ++c) {
      wires.push_back(raw_peer::dealer(ctx, server.endpoint(), "idle-" + std::to_string(c)));
      sent +=
          flood_paths(wires.back(), 0, paths,
                      [](std::uint64_t) { return key_request(random_guid(), 0); }, {bound(10000ms)})
              .frames;
    }
    ASSERT_TRUE(wait_read(server, sent, bound(30000ms)))
        << "the target never read the idle peers' frames";
    // The connections stay open: their peers are idle, not gone.
    const std::size_t peers = server.stats().transport.peers;
    ASSERT_GE(peers, sent * 9 / 10)
        << "the premise failed: the target holds " << peers << " peers of " << sent
        << " paths made (raise `connections` if a per-connection bound now limits them)";

    // Up to three windows, the best counts: the cost this pins (work per idle peer on every turn
    // of the server's loop: 45x before issue 9) shows in every window, while a moment of noise
    // on a shared 2-core machine (a CI run measured 3.4x once, 1.1-1.2x in every rerun) does not.
    double loaded_us = median_round_trip_us(client);
    for (int window = 1; window < 3 && loaded_us > ratio_allowed * idle_us; ++window) {
      std::printf("[ measured ] window %d: %.0f us, measuring again\n", window, loaded_us);
      loaded_us = std::min(loaded_us, median_round_trip_us(client));
    }
    EXPECT_LE(loaded_us, ratio_allowed * idle_us)
        << "median round trip " << idle_us << " us idle, " << loaded_us << " us with " << peers
        << " idle peers";
    std::printf("[ measured ] round trip median %.0f us idle, %.0f us with %zu idle peers\n",
                idle_us, loaded_us, peers);
  }
}

}  // namespace
}  // namespace cryptcom::hostile::test
