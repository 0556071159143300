// Authenticated mode end to end over real sockets (tcp, ipc, inproc): clients with an identity and
// the server's key, servers with an allow-list, any identity, the application's verdict or a ZAP
// handler; who sent each message; what each side reports when an identity is refused or the
// peer runs base mode.
#include <gtest/gtest.h>

#include <string>

#include "auth_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using namespace std::chrono_literals;

constexpr auto quick = 3s;  // refusals and checks come within a round trip or a ZAP timeout

class authenticated : public ::testing::TestWithParam<transport> {};

INSTANTIATE_TEST_SUITE_P(transports, authenticated,
                         ::testing::Values(transport::tcp, transport::ipc, transport::inproc),
                         [](const auto& p) { return std::string(name_of(p.param)); });

TEST_P(authenticated, dealer_and_router_exchange_messages_and_the_router_knows_the_client_key) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  const keypair client_id = make_keypair();
  auto server = make(ctx, ::zmq::socket_type::router);
  make_server(server, server_id, {client_id});
  auto client = make(ctx, ::zmq::socket_type::dealer);
  make_client(client, client_id, server_id);
  client.connect(bind_any(server, GetParam()));

  ASSERT_TRUE(send_strings(client, {"hello", "world"}));
  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[1], "hello");
  EXPECT_EQ((*got)[2], "world");
  const std::vector<std::string> route{(*got)[0]};
  const identity_info who = server.peer_identity(route);
  ASSERT_TRUE(who.key);
  EXPECT_EQ(*who.key, client_id.key);
  EXPECT_EQ(who.user_id, "");

  ASSERT_TRUE(send_strings(server, {route[0], "reply"}));
  auto back = recv_strings(client);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, std::vector<std::string>{"reply"});
  // The client's direct peer is the server it named.
  const identity_info server_is = client.peer_identity();
  ASSERT_TRUE(server_is.key);
  EXPECT_EQ(*server_is.key, server_id.key);

  const auto on_server =
      wait_event(server, kind_is(event_kind::peer_authenticated), nullptr, quick);
  ASSERT_TRUE(on_server);
  EXPECT_EQ(on_server->peer_key, client_id.key);
  EXPECT_EQ(on_server->route, route);
  const auto on_client =
      wait_event(client, kind_is(event_kind::peer_authenticated), nullptr, quick);
  ASSERT_TRUE(on_client);
  EXPECT_EQ(on_client->peer_key, server_id.key);
}

TEST_P(authenticated, req_and_rep_exchange_and_the_rep_knows_who_asked) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  const keypair client_id = make_keypair();
  auto rep = make(ctx, ::zmq::socket_type::rep);
  make_server(rep, server_id, {client_id});
  auto req = make(ctx, ::zmq::socket_type::req);
  make_client(req, client_id, server_id);
  req.connect(bind_any(rep, GetParam()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(req.send(::zmq::str_buffer("ping"), ::zmq::send_flags::none));
    ::zmq::message_t m;
    ASSERT_TRUE(rep.recv(m));
    EXPECT_EQ(m.to_string(), "ping");
    const identity_info who = rep.peer_identity();  // the sender of the request being answered
    ASSERT_TRUE(who.key);
    EXPECT_EQ(*who.key, client_id.key);
    ASSERT_TRUE(rep.send(::zmq::str_buffer("pong"), ::zmq::send_flags::none));
    ASSERT_TRUE(req.recv(m));
    EXPECT_EQ(m.to_string(), "pong");
  }
}

TEST_P(authenticated, a_client_off_the_allow_list_is_refused_and_told_so) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  const keypair allowed = make_keypair();
  const keypair stranger = make_keypair();
  auto server = make(ctx, ::zmq::socket_type::router);
  make_server(server, server_id, {allowed});
  auto client = make(ctx, ::zmq::socket_type::dealer);
  make_client(client, stranger, server_id);
  client.connect(bind_any(server, GetParam()));
  ASSERT_TRUE(send_strings(client, {"let me in"}));

  const auto refused = wait_event(server, kind_is(event_kind::peer_refused), nullptr, quick);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, errc::access_denied);
  EXPECT_EQ(refused->peer_key, stranger.key);
  std::vector<event> seen;
  const auto told = wait_event(client, kind_is(event_kind::peer_refused), &seen, quick);
  ASSERT_TRUE(told);
  EXPECT_EQ(told->reason, errc::access_denied);
  EXPECT_EQ(told->peer_key, server_id.key);
  const auto lost = wait_event(
      client, [](const event& e) { return e.kind == event_kind::message_undeliverable; }, &seen,
      quick);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->message, 1u);
  EXPECT_EQ(lost->reason, errc::access_denied);
  // Nothing reached the server's application.
  ::zmq::message_t m;
  EXPECT_FALSE(server.recv(m, ::zmq::recv_flags::dontwait));
  EXPECT_FALSE(server.peer_identity({}).key);
}

TEST_P(authenticated, a_server_accepting_any_identity_serves_every_client) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  auto server = make(ctx, ::zmq::socket_type::router);
  server.set(sockopt::identity_secret_key, server_id.secret_z85);
  server.set(sockopt::accept_any_identity, true);
  const std::string ep = bind_any(server, GetParam());
  std::vector<keypair> ids{make_keypair(), make_keypair()};
  std::vector<socket> clients;
  for (const auto& id : ids) {
    clients.push_back(make(ctx, ::zmq::socket_type::dealer));
    make_client(clients.back(), id, server_id);
    clients.back().connect(ep);
    ASSERT_TRUE(send_strings(clients.back(), {"hi"}));
  }
  std::vector<cryptcom::public_key> keys;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto got = recv_strings(server);
    ASSERT_TRUE(got);
    const auto who = server.peer_identity({(*got)[0]});
    ASSERT_TRUE(who.key);
    keys.push_back(*who.key);
  }
  EXPECT_TRUE(std::find(keys.begin(), keys.end(), ids[0].key) != keys.end());
  EXPECT_TRUE(std::find(keys.begin(), keys.end(), ids[1].key) != keys.end());
}

TEST_P(authenticated, the_application_decides_when_the_policy_is_ask) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  const keypair yes = make_keypair();
  const keypair no = make_keypair();
  auto server = make(ctx, ::zmq::socket_type::router);
  server.set(sockopt::identity_secret_key, server_id.secret_z85);
  server.set(sockopt::identity_policy, static_cast<int>(peer_policy::ask));
  const std::string ep = bind_any(server, GetParam());
  auto good = make(ctx, ::zmq::socket_type::dealer);
  make_client(good, yes, server_id);
  good.connect(ep);
  auto bad = make(ctx, ::zmq::socket_type::dealer);
  make_client(bad, no, server_id);
  bad.connect(ep);
  ASSERT_TRUE(send_strings(good, {"from yes"}));
  ASSERT_TRUE(send_strings(bad, {"from no"}));
  for (int answered = 0; answered < 2;) {
    const auto check = wait_event(server, kind_is(event_kind::identity_check), nullptr, quick);
    ASSERT_TRUE(check);
    ASSERT_TRUE(check->peer_key == yes.key || check->peer_key == no.key);
    server.resolve_identity(check->route, check->peer_key, check->peer_key == yes.key);
    ++answered;
  }
  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[1], "from yes");
  EXPECT_EQ(*server.peer_identity({(*got)[0]}).key, yes.key);
  const auto told = wait_event(bad, kind_is(event_kind::peer_refused), nullptr, quick);
  ASSERT_TRUE(told);
  EXPECT_EQ(told->reason, errc::access_denied);
  ::zmq::message_t m;
  EXPECT_FALSE(server.recv(m, ::zmq::recv_flags::dontwait));  // "from no" never arrives
}

TEST_P(authenticated, a_base_mode_client_and_an_authenticated_server_refuse_each_other) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  auto server = make(ctx, ::zmq::socket_type::router);
  server.set(sockopt::identity_secret_key, server_id.secret_z85);
  server.set(sockopt::accept_any_identity, true);
  auto client = make(ctx, ::zmq::socket_type::dealer);  // no identity: base mode
  client.connect(bind_any(server, GetParam()));
  ASSERT_TRUE(send_strings(client, {"plain"}));
  const auto on_server = wait_event(server, kind_is(event_kind::peer_refused), nullptr, quick);
  ASSERT_TRUE(on_server);
  EXPECT_EQ(on_server->reason, errc::authentication_required);
  const auto on_client = wait_event(client, kind_is(event_kind::peer_refused), nullptr, quick);
  ASSERT_TRUE(on_client);
  EXPECT_EQ(on_client->reason, errc::authentication_required);
  ::zmq::message_t m;
  EXPECT_FALSE(server.recv(m, ::zmq::recv_flags::dontwait));
}

TEST(authenticated_options, identities_given_in_socket_options_work_as_the_sockopts_do) {
  ::zmq::context_t ctx;
  auto server_id = cryptcom::identity::generate();
  auto client_id = cryptcom::identity::generate();
  ASSERT_TRUE(server_id.ok());
  ASSERT_TRUE(client_id.ok());
  socket_options so = test_options();
  so.engine.auth.self = *server_id;
  so.engine.auth.allowed = {client_id->public_value()};
  auto server = make(ctx, ::zmq::socket_type::router, so);
  socket_options co = test_options();
  co.engine.auth.self = *client_id;
  co.engine.auth.peer_key = server_id->public_value();
  auto client = make(ctx, ::zmq::socket_type::dealer, co);
  EXPECT_EQ(client.get(sockopt::identity_public_key), client_id->public_z85());
  client.connect(bind_any(server, transport::inproc));
  ASSERT_TRUE(send_strings(client, {"x"}));
  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  EXPECT_EQ(*server.peer_identity({(*got)[0]}).key, client_id->public_value());
}

TEST(authenticated_options, a_server_key_without_an_identity_is_refused_at_connect) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  auto client = make(ctx, ::zmq::socket_type::dealer);
  client.set(sockopt::server_key, server_id.public_z85);  // the identity never follows
  try {
    client.connect("tcp://127.0.0.1:9");
    ADD_FAILURE() << "connect accepted options the engine refuses";
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("do not fit together"), std::string::npos) << e.what();
  }
}

// ---- ZAP ----

TEST_P(authenticated, a_zap_handler_decides_and_its_user_id_names_the_sender) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  const keypair alice = make_keypair();
  const keypair mallory = make_keypair();
  zap_handler handler(ctx, {{raw(alice.key), "alice"}});
  auto server = make(ctx, ::zmq::socket_type::router);
  server.set(sockopt::identity_secret_key, server_id.secret_z85);
  server.set(sockopt::allow_key, mallory.public_z85);  // not consulted: the handler decides
  server.set(sockopt::zap_domain, "test");
  const std::string ep = bind_any(server, GetParam());
  auto a = make(ctx, ::zmq::socket_type::dealer);
  make_client(a, alice, server_id);
  a.connect(ep);
  auto m = make(ctx, ::zmq::socket_type::dealer);
  make_client(m, mallory, server_id);
  m.connect(ep);
  ASSERT_TRUE(send_strings(a, {"from alice"}));
  ASSERT_TRUE(send_strings(m, {"from mallory"}));

  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[1], "from alice");
  const identity_info who = server.peer_identity({(*got)[0]});
  ASSERT_TRUE(who.key);
  EXPECT_EQ(*who.key, alice.key);
  EXPECT_EQ(who.user_id, "alice");

  std::vector<event> seen;
  const auto refused = wait_event(
      server,
      [&](const event& e) {
        return e.kind == event_kind::peer_refused && e.peer_key == mallory.key;
      },
      &seen, quick);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, errc::access_denied);
  EXPECT_NE(refused->detail.find("ZAP handler answered 400"), std::string::npos) << refused->detail;
  for (const auto& e : seen) EXPECT_NE(e.kind, event_kind::identity_check);  // ZAP answered them
  const auto told = wait_event(m, kind_is(event_kind::peer_refused), nullptr, quick);
  ASSERT_TRUE(told);
  EXPECT_EQ(told->reason, errc::access_denied);

  const auto requests = handler.requests();
  ASSERT_GE(requests.size(), 2u);
  for (const auto& r : requests) {
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[0], "1.0");
    EXPECT_EQ(r[2], "test");
    EXPECT_EQ(r[5], "CURVE");
    EXPECT_TRUE(r[6] == raw(alice.key) || r[6] == raw(mallory.key));
    if (GetParam() == transport::tcp) {
      EXPECT_EQ(r[3], "127.0.0.1");
    }
    EXPECT_FALSE(r[4].empty());  // the ROUTER's routing id of the client's connection
  }
}

TEST(authenticated_zap, without_a_zap_handler_a_client_is_refused_after_the_zap_timeout) {
  ::zmq::context_t ctx;
  const keypair server_id = make_keypair();
  const keypair client_id = make_keypair();
  auto server = make(ctx, ::zmq::socket_type::router);
  server.set(sockopt::identity_secret_key, server_id.secret_z85);
  server.set(sockopt::zap, true);
  server.set(sockopt::zap_timeout, 200);
  auto client = make(ctx, ::zmq::socket_type::dealer);
  make_client(client, client_id, server_id);
  client.connect(bind_any(server, transport::tcp));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(send_strings(client, {"anyone?"}));
  const auto refused = wait_event(server, kind_is(event_kind::peer_refused), nullptr, quick);
  ASSERT_TRUE(refused);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_EQ(refused->peer_key, client_id.key);
  EXPECT_NE(refused->detail.find("did not answer within 200 ms"), std::string::npos)
      << refused->detail;
  const auto told = wait_event(client, kind_is(event_kind::peer_refused), nullptr, quick);
  ASSERT_TRUE(told);
  EXPECT_EQ(told->reason, errc::access_denied);
}

}  // namespace
}  // namespace cryptcom::zmq::test
