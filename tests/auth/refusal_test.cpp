// Issue 11: who may talk to whom. A client whose identity is not on the server's allow-list, a
// client in base mode talking to a server in authenticated mode and the other way round, and a
// client that expects another server key than the one the server holds (an impostor that would
// accept it): each is refused both ways with clear events, nothing of theirs is delivered, and
// their messages are reported undeliverable. Positive control in each: a correctly configured
// client of the same server is served at the same time.
#include <gtest/gtest.h>

#include "auth_support.hpp"

namespace cryptcom::auth_test {
namespace {

using cryptcom::errc;
using cryptcom::zmq::event_kind;

bool names_key(const std::vector<cryptcom::zmq::event>& events, event_kind kind, errc reason,
               const v2::key32& key) {
  for (const auto& e : events) {
    if (e.kind == kind && e.reason == reason && e.peer_key.bytes == key) return true;
  }
  return false;
}

void expect_nothing_delivered(const echo_peer& server, const client::outcome& o) {
  for (const auto& body : o.bodies) {
    EXPECT_EQ(server.delivered(body), 0u) << body << " was delivered";
    EXPECT_TRUE(o.undeliverable.count(body)) << body << " was not reported undeliverable";
  }
}

TEST(auth_refusal, an_identity_not_on_the_allow_list_is_refused_and_named) {
  ::zmq::context_t ctx;
  const auto server_keys = make_keys();
  const auto listed = make_keys();
  const auto unlisted = make_keys();
  echo_peer server(ctx, server_options(&server_keys, {&listed}), "tcp://127.0.0.1:*");
  client good(ctx, client_options(&listed, server_keys.pub), server.endpoint());
  client bad(ctx, client_options(&unlisted, server_keys.pub), server.endpoint());

  const auto refused = bad.run("unlisted", 3, bound(6000ms));
  const auto served = good.run("listed", 5, bound(5000ms));
  expect_exactly_once(server, served, true);
  expect_nothing_delivered(server, refused);
  for (const auto& body : refused.bodies) {
    auto why = refused.why.find(body);
    if (why != refused.why.end()) {
      EXPECT_EQ(why->second, errc::access_denied) << body;
    }
  }
  EXPECT_GE(count_events(bad.events(), event_kind::peer_refused, errc::access_denied), 1u)
      << "the refused client was not told why:\n"
      << describe(bad.events());
  EXPECT_TRUE(
      names_key(server.events(), event_kind::peer_refused, errc::access_denied, unlisted.pub))
      << "the server did not report the refused identity by its key:\n"
      << describe(server.events());
  EXPECT_FALSE(names_key(server.events(), event_kind::peer_authenticated, errc::ok, unlisted.pub));
  EXPECT_GE(server.totals().handshakes_refused, 1u);
  EXPECT_GE(bad.totals().handshakes_refused, 1u);
}

TEST(auth_refusal, a_base_mode_client_and_an_authenticated_server_refuse_each_other) {
  ::zmq::context_t ctx;
  const auto server_keys = make_keys();
  const auto listed = make_keys();
  echo_peer server(ctx, server_options(&server_keys, {&listed}), "tcp://127.0.0.1:*");
  client base(ctx, client_options(nullptr, std::nullopt), server.endpoint());
  client good(ctx, client_options(&listed, server_keys.pub), server.endpoint());

  const auto refused = base.run("base", 3, bound(7000ms));
  const auto served = good.run("authenticated", 5, bound(5000ms));
  expect_exactly_once(server, served, true);
  expect_nothing_delivered(server, refused);
  EXPECT_GE(server.totals().frames_wrong_mode, 1u);
  EXPECT_GE(count_events(server.events(), event_kind::peer_refused, errc::authentication_required),
            1u)
      << "the server did not report a base-mode peer:\n"
      << describe(server.events());
  EXPECT_GE(base.totals().frames_wrong_mode, 1u) << "the base-mode client saw no version 2 frame";
  EXPECT_GE(count_events(base.events(), event_kind::peer_refused, errc::authentication_required),
            1u)
      << "the base-mode client was not told the server requires authentication:\n"
      << describe(base.events());
}

TEST(auth_refusal, an_authenticated_client_and_a_base_mode_server_refuse_each_other) {
  ::zmq::context_t ctx;
  const auto client_keys = make_keys();
  const auto some_server = make_keys();
  echo_peer server(ctx, server_options(nullptr, {}), "tcp://127.0.0.1:*");
  client authenticated(ctx, client_options(&client_keys, some_server.pub), server.endpoint());
  client base(ctx, client_options(nullptr, std::nullopt), server.endpoint());

  const auto refused = authenticated.run("authenticated", 3, bound(7000ms));
  const auto served = base.run("base", 5, bound(5000ms));
  expect_exactly_once(server, served, true);
  expect_nothing_delivered(server, refused);
  EXPECT_GE(server.totals().frames_wrong_mode, 1u);
  EXPECT_GE(count_events(server.events(), event_kind::peer_refused, errc::authentication_required),
            1u)
      << describe(server.events());
  // A base-mode server answers nothing (§3, §12.6), so all the client can tell is that its
  // handshakes went unanswered: no session, its messages reported undeliverable.
  EXPECT_GE(authenticated.totals().handshakes_started, 1u);
  EXPECT_EQ(authenticated.totals().handshakes_completed, 0u);
  for (const auto& e : authenticated.events()) {
    EXPECT_NE(e.kind, event_kind::peer_authenticated) << "authenticated with a base-mode server";
  }
}

TEST(auth_refusal, a_server_with_another_key_is_never_authenticated) {
  ::zmq::context_t ctx;
  const auto expected_server = make_keys();
  const auto impostor_keys = make_keys();
  const auto client_keys = make_keys();
  // The impostor would accept the client; it just is not the server the client expects.
  echo_peer impostor(ctx, server_options(&impostor_keys, {&client_keys}), "tcp://127.0.0.1:*");
  client fooled(ctx, client_options(&client_keys, expected_server.pub), impostor.endpoint());
  client right(ctx, client_options(&client_keys, impostor_keys.pub), impostor.endpoint());

  const auto refused = fooled.run("fooled", 3, bound(7000ms));
  const auto served = right.run("right", 5, bound(5000ms));
  expect_exactly_once(impostor, served, true);
  expect_nothing_delivered(impostor, refused);
  for (const auto& e : fooled.events()) {
    EXPECT_NE(e.kind, event_kind::peer_authenticated) << "authenticated an impostor: " << e.detail;
  }
  EXPECT_EQ(fooled.totals().handshakes_completed, 0u);
  EXPECT_GE(fooled.totals().handshakes_started, 1u);
  EXPECT_GE(impostor.totals().handshakes_dropped, 1u)
      << "the impostor opened an identity sealed to another key";
}

}  // namespace
}  // namespace cryptcom::auth_test
