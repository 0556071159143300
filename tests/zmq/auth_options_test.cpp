// Authenticated mode's socket options (cryptcom::zmq::sockopt) and the ZAP client, on real
// sockets: keys as Z85 or raw bytes, read back, refused with a reason, only before the first
// bind/connect; ZAP requests as ZeroMQ RFC 27 lays them out, answers, timeouts and bounds.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "auth_support.hpp"
#include "zap_client.hpp"

namespace cryptcom::zmq::test {
namespace {

using namespace std::chrono_literals;

// The cryptcom::zmq::error of `fn`, which must throw one.
template <class Fn>
std::string einval_of(Fn&& fn) {
  try {
    fn();
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), EINVAL);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(auth_options, an_identity_given_as_z85_or_raw_bytes_reads_back_as_its_public_key) {
  ::zmq::context_t ctx;
  const keypair k = make_keypair();
  auto a = make(ctx, ::zmq::socket_type::dealer);
  EXPECT_EQ(a.get(sockopt::identity_public_key), "");  // base mode: none
  a.set(sockopt::identity_secret_key, k.secret_z85);
  EXPECT_EQ(a.get(sockopt::identity_public_key), k.public_z85);

  std::array<std::uint8_t, 32> secret{};
  ASSERT_NE(zmq_z85_decode(secret.data(), k.secret_z85.c_str()), nullptr);
  auto b = make(ctx, ::zmq::socket_type::dealer);
  b.set(sockopt::identity_secret_key, ::zmq::const_buffer(secret.data(), secret.size()));
  std::array<std::uint8_t, 32> pub{};
  EXPECT_EQ(b.get(sockopt::identity_public_key, ::zmq::buffer(pub)), 32u);
  EXPECT_EQ(pub, k.key.bytes);
}

TEST(auth_options, the_server_key_and_policy_read_back_and_zap_makes_the_policy_ask) {
  ::zmq::context_t ctx;
  const keypair server = make_keypair();
  auto s = make(ctx, ::zmq::socket_type::dealer);
  s.set(sockopt::server_key, server.public_z85);
  EXPECT_EQ(s.get(sockopt::server_key), server.public_z85);
  s.set(sockopt::server_key, ::zmq::const_buffer(server.key.bytes.data(), 32));
  EXPECT_EQ(s.get(sockopt::server_key), server.public_z85);

  auto r = make(ctx, ::zmq::socket_type::router);
  EXPECT_EQ(r.get(sockopt::identity_policy), 1);  // allow-list by default
  r.set(sockopt::accept_any_identity, true);
  EXPECT_EQ(r.get(sockopt::identity_policy), 0);
  EXPECT_EQ(r.get(sockopt::accept_any_identity), 1);
  r.set(sockopt::zap_domain, "global");
  EXPECT_EQ(r.get(sockopt::zap), 1);
  EXPECT_EQ(r.get(sockopt::identity_policy), 2);
  EXPECT_EQ(r.get(sockopt::zap_domain), "global");
  r.set(sockopt::zap, false);
  EXPECT_EQ(r.get(sockopt::identity_policy), 0);
  r.set(sockopt::zap_timeout, 250);
  EXPECT_EQ(r.get(sockopt::zap_timeout), 250);
}

TEST(auth_options, bad_values_are_refused_with_the_reason) {
  ::zmq::context_t ctx;
  const keypair k = make_keypair();
  const keypair other = make_keypair();
  auto s = make(ctx, ::zmq::socket_type::dealer);
  EXPECT_NE(einval_of([&] {
              s.set(sockopt::server_key, "too short");
            }).find("32 bytes or 40 characters of Z85, got 9 bytes"),
            std::string::npos);
  std::string not_z85(40, '~');
  not_z85[3] = '"';  // outside the Z85 alphabet
  EXPECT_NE(einval_of([&] { s.set(sockopt::allow_key, not_z85); }).find("Z85"), std::string::npos);
  EXPECT_NE(einval_of([&] { s.set(sockopt::identity_policy, 3); }).find("not a policy"),
            std::string::npos);
  EXPECT_NE(einval_of([&] { s.set(sockopt::zap_timeout, 0); }).find("positive"), std::string::npos);
  // The secret key is never read back.
  EXPECT_NE(einval_of([&] { (void)s.get(sockopt::identity_secret_key); }).find("write-only"),
            std::string::npos);
  // A public key that is not the secret key's, in either order.
  s.set(sockopt::identity_public_key, other.public_z85);
  EXPECT_NE(
      einval_of([&] { s.set(sockopt::identity_secret_key, k.secret_z85); }).find("does not belong"),
      std::string::npos);
  auto t = make(ctx, ::zmq::socket_type::dealer);
  t.set(sockopt::identity_secret_key, k.secret_z85);
  EXPECT_NE(einval_of([&] {
              t.set(sockopt::identity_public_key, other.public_z85);
            }).find("does not belong"),
            std::string::npos);
  t.set(sockopt::identity_public_key, k.public_z85);  // the right one is fine
}

TEST(auth_options, identity_options_are_refused_after_the_first_connect_and_bind) {
  ::zmq::context_t ctx;
  const keypair k = make_keypair();
  auto c = make(ctx, ::zmq::socket_type::dealer);
  c.set(::zmq::sockopt::linger, 0);
  c.connect("tcp://127.0.0.1:9");  // nobody there: connecting is what counts
  EXPECT_NE(einval_of([&] {
              c.set(sockopt::identity_secret_key, k.secret_z85);
            }).find("before the socket's first bind(), connect() or send()"),
            std::string::npos);
  auto r = make(ctx, ::zmq::socket_type::router);
  (void)bind_any(r, transport::inproc);
  EXPECT_NE(einval_of([&] { r.set(sockopt::allow_key, k.public_z85); }).find("before"),
            std::string::npos);
  // Reading still works.
  EXPECT_EQ(r.get(sockopt::identity_policy), 1);
}

TEST(auth_options, setting_an_identity_makes_a_new_engine_instance) {
  ::zmq::context_t ctx;
  const keypair k = make_keypair();
  auto s = make(ctx, ::zmq::socket_type::dealer);
  const guid before = s.instance();
  s.set(sockopt::identity_secret_key, k.secret_z85);
  EXPECT_FALSE(s.instance() == before);
  EXPECT_FALSE(s.instance().is_zero());
}

// ---- the ZAP client, against a handler of the test's ----

TEST(zap_client, requests_follow_rfc_27_and_answers_become_verdicts_with_the_user_id) {
  ::zmq::context_t ctx;
  const keypair alice = make_keypair();
  const keypair mallory = make_keypair();
  zap_handler handler(ctx, {{raw(alice.key), "alice"}});
  detail::zap_client zap(ctx.handle(), "domain-x", 5000ms, 16);
  const auto now = std::chrono::steady_clock::now();
  EXPECT_FALSE(zap.ask(7, alice.key, "127.0.0.1", "rid", now));
  EXPECT_FALSE(zap.ask(8, mallory.key, "", "", now));
  EXPECT_TRUE(zap.waiting());

  std::vector<detail::zap_client::verdict> got;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ::zmq::pollitem_t item{zap.handle(), 0, ZMQ_POLLIN, 0};
    ::zmq::poll(&item, 1, 100ms);
    for (auto& v : zap.collect(std::chrono::steady_clock::now())) got.push_back(std::move(v));
  }
  ASSERT_EQ(got.size(), 2u);
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.peer < b.peer; });
  EXPECT_EQ(got[0].peer, 7u);
  EXPECT_TRUE(got[0].accepted);
  EXPECT_EQ(got[0].user_id, "alice");
  EXPECT_EQ(got[0].key, alice.key);
  EXPECT_EQ(got[1].peer, 8u);
  EXPECT_FALSE(got[1].accepted);
  EXPECT_NE(got[1].why.find("400 not on the test's list"), std::string::npos) << got[1].why;
  EXPECT_FALSE(zap.waiting());

  const auto requests = handler.requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::vector<std::string> first{"1.0", requests[0][1], "domain-x",    "127.0.0.1",
                                       "rid", "CURVE",        raw(alice.key)};
  EXPECT_EQ(requests[0], first);
  EXPECT_NE(requests[0][1], requests[1][1]);  // request ids tell the answers apart
  EXPECT_EQ(requests[1][3], "");
  EXPECT_EQ(requests[1][6], raw(mallory.key));
}

TEST(zap_client, without_a_handler_a_request_is_refused_at_its_deadline) {
  ::zmq::context_t ctx;
  const keypair k = make_keypair();
  detail::zap_client zap(ctx.handle(), "", 50ms, 16);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(zap.ask(3, k.key, "", "", start));
  EXPECT_TRUE(zap.collect(start).empty());  // not yet
  ASSERT_TRUE(zap.next_deadline());
  EXPECT_EQ(*zap.next_deadline(), start + 50ms);
  const auto late = zap.collect(start + 50ms);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].peer, 3u);
  EXPECT_FALSE(late[0].accepted);
  EXPECT_NE(late[0].why.find("did not answer within 50 ms"), std::string::npos);
  EXPECT_FALSE(zap.waiting());
}

TEST(zap_client, requests_in_flight_are_bounded_and_the_next_is_refused_at_once) {
  ::zmq::context_t ctx;
  const keypair k = make_keypair();
  detail::zap_client zap(ctx.handle(), "", 5000ms, 2);
  const auto now = std::chrono::steady_clock::now();
  EXPECT_FALSE(zap.ask(1, k.key, "", "", now));
  EXPECT_FALSE(zap.ask(2, k.key, "", "", now));
  const auto third = zap.ask(3, k.key, "", "", now);
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->accepted);
  EXPECT_EQ(third->peer, 3u);
  EXPECT_NE(third->why.find("too many ZAP requests"), std::string::npos);
}

TEST(zap_client, answers_that_do_not_parse_or_name_no_request_are_ignored) {
  ::zmq::context_t ctx;
  const keypair k = make_keypair();
  ::zmq::socket_t router(ctx, ::zmq::socket_type::router);
  router.set(::zmq::sockopt::linger, 0);
  router.bind(detail::zap_endpoint);
  detail::zap_client zap(ctx.handle(), "", 5000ms, 4);
  const auto now = std::chrono::steady_clock::now();
  EXPECT_FALSE(zap.ask(1, k.key, "", "", now));
  std::vector<::zmq::message_t> req;
  ASSERT_TRUE(::zmq::recv_multipart(router, std::back_inserter(req)));
  ASSERT_EQ(req.size(), 9u);  // routing id, "", and the seven frames
  const std::string rid = req[0].to_string();
  const std::string id = req[3].to_string();
  auto answer = [&](std::vector<std::string> frames) {
    frames.insert(frames.begin(), {rid, ""});
    std::vector<::zmq::const_buffer> b;
    for (const auto& f : frames) b.emplace_back(f.data(), f.size());
    ASSERT_TRUE(::zmq::send_multipart(router, b));
  };
  answer({"2.0", id, "200", "OK", "u", ""});        // another version
  answer({"1.0", id + "9", "200", "OK", "u", ""});  // an id never sent
  answer({"1.0", "x1", "200", "OK", "u", ""});      // not a number
  answer({"1.0", id, "200", "OK", "u"});            // a frame short
  answer({"1.0", id, "300", "try later", "", ""});  // the real answer: a refusal
  std::vector<detail::zap_client::verdict> got;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (got.empty() && std::chrono::steady_clock::now() < deadline) {
    ::zmq::pollitem_t item{zap.handle(), 0, ZMQ_POLLIN, 0};
    ::zmq::poll(&item, 1, 100ms);
    got = zap.collect(std::chrono::steady_clock::now());
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].accepted);
  EXPECT_NE(got[0].why.find("300 try later"), std::string::npos) << got[0].why;
}

}  // namespace
}  // namespace cryptcom::zmq::test
