// Issue 11: frames captured in one session, replayed after the server or the client restarted
// (same identities, same endpoints, new instances). Nothing of them is delivered or acted on; they
// are dropped and counted; the restarted side and its peer then talk as usual (positive control).
#include <gtest/gtest.h>

#include <memory>

#include "auth_support.hpp"
#include "mitm.hpp"

namespace cryptcom::auth_test {
namespace {

using dir = relay::direction;

std::size_t authenticated_frames(const std::vector<relay::capture>& captures, dir d) {
  std::size_t n = 0;
  for (const auto& cap : captures) {
    auto f = v2::decode(cap.frame);
    if (cap.dir == d && f && (f->kind == 1 || f->kind == 2)) ++n;
  }
  return n;
}

TEST(auth_restart, frames_replayed_to_a_restarted_server_do_nothing) {
  ::zmq::context_t ctx;
  const auto server_keys = make_keys();
  const auto client_keys = make_keys();
  const std::string endpoint = ipc_endpoint("restart-server");
  auto server =
      std::make_unique<echo_peer>(ctx, server_options(&server_keys, {&client_keys}), endpoint);
  relay mitm(ctx, relay::topology::proxy, "tcp://127.0.0.1:*", endpoint);
  client c(ctx, client_options(&client_keys, server_keys.pub), mitm.front_endpoint());

  const auto first = c.run("first", 10, bound(5000ms));
  expect_exactly_once(*server, first, true);
  const auto recorded = mitm.captures();
  const std::size_t replayed = authenticated_frames(recorded, dir::to_server);
  ASSERT_GT(replayed, 0u) << "no authenticated frame went to the server";

  // The server restarts: same identity, same endpoint, a new instance.
  server.reset();
  server = std::make_unique<echo_peer>(ctx, server_options(&server_keys, {&client_keys}), endpoint);
  // Everything the client sent in the first session, handshake included, to the new instance.
  for (const auto& cap : recorded) {
    if (cap.dir == dir::to_server) mitm.inject(dir::to_server, cap.frame);
  }
  EXPECT_TRUE(wait_until([&] { return server->totals().frames_unauthenticated >= replayed; },
                         bound(3000ms)))
      << "the restarted server counted " << server->totals().frames_unauthenticated
      << " unauthenticated frames of " << replayed << " replayed";
  for (const auto& body : first.bodies) {
    EXPECT_EQ(server->delivered(body), 0u) << body << " was delivered again after a restart";
  }
  // The client itself talks to the new instance. What it sealed to the old instance's keys before
  // it learned of the restart may be given up (§12.5, §9: reported undeliverable); once it has a
  // session with the new instance everything gets through.
  const auto second = c.run("second", 10, bound(8000ms));
  expect_exactly_once(*server, second, false);
  const auto third = c.run("third", 10, bound(8000ms));
  expect_exactly_once(*server, third, true);
  for (const auto& body : first.bodies) EXPECT_EQ(server->delivered(body), 0u) << body;
}

TEST(auth_restart, frames_replayed_to_a_restarted_client_do_nothing) {
  ::zmq::context_t ctx;
  const auto server_keys = make_keys();
  const auto client_keys = make_keys();
  echo_peer server(ctx, server_options(&server_keys, {&client_keys}), "tcp://127.0.0.1:*");
  relay mitm(ctx, relay::topology::proxy, "tcp://127.0.0.1:*", server.endpoint());
  auto first_client = std::make_unique<client>(ctx, client_options(&client_keys, server_keys.pub),
                                               mitm.front_endpoint());
  const auto first = first_client->run("first", 10, bound(5000ms));
  expect_exactly_once(server, first, true);
  const auto recorded = mitm.captures();
  const std::size_t replayed = authenticated_frames(recorded, dir::to_client);
  ASSERT_GT(replayed, 0u);

  // The client restarts (same identity, a new socket and instance) and says hello.
  first_client.reset();
  client second_client(ctx, client_options(&client_keys, server_keys.pub), mitm.front_endpoint());
  const auto hello = second_client.run("hello", 1, bound(5000ms));
  expect_exactly_once(server, hello, true);
  const std::uint64_t before = second_client.totals().frames_unauthenticated;
  // What the server sent the old client, to the new one: offers, acknowledgements, echoes.
  for (const auto& cap : recorded) {
    if (cap.dir == dir::to_client) mitm.inject(dir::to_client, cap.frame);
  }
  EXPECT_TRUE(
      wait_until([&] { return second_client.totals().frames_unauthenticated - before >= replayed; },
                 bound(3000ms)))
      << "the restarted client counted " << second_client.totals().frames_unauthenticated - before
      << " unauthenticated frames of " << replayed << " replayed";
  const auto second = second_client.run("second", 10, bound(8000ms));
  expect_exactly_once(server, second, true);
  for (const auto& [body, n] : second.echoed) {
    EXPECT_TRUE(body.rfind("second-", 0) == 0) << "the restarted client received " << body;
  }
  EXPECT_EQ(second_client.totals().messages_opened, 11u)
      << "the restarted client opened a replayed message";
}

}  // namespace
}  // namespace cryptcom::auth_test
