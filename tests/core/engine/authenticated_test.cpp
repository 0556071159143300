// Authenticated mode (docs/PROTOCOL.md §12) between two engines on virtual time: the handshake,
// sessions, what a frame must prove before anything in it is acted on, and restarts. The tests
// carry the frames by hand, so they can also replay, reflect, alter or withhold them.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/engine_pair.hpp"
#include "cryptcom/engine.hpp"
#include "cryptcom/identity.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

using namespace std::chrono_literals;
using testing::a_id;
using testing::b_id;

identity make_identity() {
  auto id = identity::generate();
  EXPECT_TRUE(id.ok()) << id.error().to_string();
  return std::move(id).value();
}

std::uint8_t version_of(const std::vector<byte>& frame) {
  auto d = wire::decode(frame, wire::decode_limits{});
  EXPECT_TRUE(d.ok()) << d.error().to_string();
  return d.ok() ? d->version : 0;
}

std::size_t count_kind(const std::vector<event>& es, event_kind k) {
  return static_cast<std::size_t>(
      std::count_if(es.begin(), es.end(), [&](const event& e) { return e.kind == k; }));
}

const event* find_kind(const std::vector<event>& es, event_kind k) {
  for (const auto& e : es) {
    if (e.kind == k) return &e;
  }
  return nullptr;
}

// A: the client (initiator, knows B's key). B: the server (responder, allow-list of A).
class authenticated : public testing::engine_pair {
 protected:
  void SetUp() override {
    opts.pool_target = 8;
    opts.pool_low_watermark = 4;
    client_id = make_identity();
    server_id = make_identity();
    client_opts = opts;
    client_opts.auth.self = client_id;
    client_opts.auth.peer_key = server_key();
    server_opts = opts;
    server_opts.auth.self = server_id;
    server_opts.auth.allowed = {client_key()};
    make_client();
    make_server();
  }
  void make_client() {
    a = std::make_unique<engine>(client_opts, *keys_a, *rand_a, now);
    ASSERT_TRUE(a->construction_status().ok()) << a->construction_status().to_string();
  }
  void make_server() {
    b = std::make_unique<engine>(server_opts, *keys_b, *rand_b, now);
    ASSERT_TRUE(b->construction_status().ok()) << b->construction_status().to_string();
  }
  // Carries frames both ways until quiet, checking that every one is of version 2.
  void settle_v2() {
    for (int round = 0; round < 100; ++round) {
      auto from_a = out(*a);
      auto from_b = out(*b);
      if (from_a.empty() && from_b.empty()) return;
      for (auto& t : from_a) {
        EXPECT_EQ(version_of(t.frame), 2);
        (void)b->receive(a_id, t.frame, now);
      }
      for (auto& t : from_b) {
        EXPECT_EQ(version_of(t.frame), 2);
        (void)a->receive(b_id, t.frame, now);
      }
    }
  }
  std::vector<std::string> delivered(engine& e) {
    std::vector<std::string> v;
    while (auto d = e.poll_delivery()) {
      v.emplace_back(reinterpret_cast<const char*>(d->parts.at(0).data()), d->parts.at(0).size());
    }
    return v;
  }
  // Establishes the session and one message each way; leaves the queues drained.
  void converse() {
    ASSERT_TRUE(send_text(*a, b_id, "to server").ok());
    settle_v2();
    ASSERT_EQ(delivered(*b), std::vector<std::string>{"to server"});
    ASSERT_TRUE(send_text(*b, a_id, "to client").ok());
    settle_v2();
    ASSERT_EQ(delivered(*a), std::vector<std::string>{"to client"});
    (void)events(*a);
    (void)events(*b);
  }

  const public_key& client_key() const { return client_id->public_value(); }
  const public_key& server_key() const { return server_id->public_value(); }

  std::optional<identity> client_id, server_id;
  options client_opts, server_opts;
};

TEST_F(authenticated, a_handshake_then_messages_both_ways_all_in_version_2) {
  ASSERT_TRUE(send_text(*a, b_id, "hello").ok());
  settle_v2();
  EXPECT_EQ(delivered(*b), std::vector<std::string>{"hello"});
  ASSERT_TRUE(send_text(*b, a_id, "back").ok());
  settle_v2();
  EXPECT_EQ(delivered(*a), std::vector<std::string>{"back"});
  now += 100ms;  // past ack_delay: the acknowledgements go
  a->tick(now);
  b->tick(now);
  settle_v2();

  const auto ea = events(*a);
  const auto eb = events(*b);
  const event* at_a = find_kind(ea, event_kind::peer_authenticated);
  const event* at_b = find_kind(eb, event_kind::peer_authenticated);
  ASSERT_NE(at_a, nullptr);
  ASSERT_NE(at_b, nullptr);
  EXPECT_EQ(at_a->peer_key, server_key());
  EXPECT_EQ(at_b->peer_key, client_key());
  EXPECT_EQ(a->peer_identity(b_id), server_key());
  EXPECT_EQ(b->peer_identity(a_id), client_key());
  EXPECT_EQ(a->stats().total.handshakes_started, 1u);
  EXPECT_EQ(a->stats().total.handshakes_completed, 1u);
  EXPECT_EQ(b->stats().total.handshakes_completed, 1u);
  EXPECT_EQ(b->stats().total.frames_unauthenticated, 0u);
  EXPECT_EQ(a->stats().total.messages_acknowledged, 1u);
  EXPECT_EQ(b->stats().total.messages_acknowledged, 1u);
}

TEST_F(authenticated, first_contact_costs_one_exchange_more_than_base_mode) {
  // initiate -> accept, then the key request -> offers, then the message.
  ASSERT_TRUE(send_text(*a, b_id, "hello").ok());
  auto initiate = out(*a);
  ASSERT_EQ(initiate.size(), 1u);
  for (auto& t : initiate) ASSERT_TRUE(b->receive(a_id, t.frame, now).ok());
  auto accept = out(*b);
  ASSERT_EQ(accept.size(), 1u);
  for (auto& t : accept) ASSERT_TRUE(a->receive(b_id, t.frame, now).ok());
  auto request = out(*a);
  ASSERT_EQ(request.size(), 1u);
  for (auto& t : request) ASSERT_TRUE(b->receive(a_id, t.frame, now).ok());
  auto offers = out(*b);
  ASSERT_EQ(offers.size(), 1u);
  for (auto& t : offers) ASSERT_TRUE(a->receive(b_id, t.frame, now).ok());
  auto data = out(*a);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_TRUE(data[0].carries_data);
  for (auto& t : data) ASSERT_TRUE(b->receive(a_id, t.frame, now).ok());
  EXPECT_EQ(delivered(*b), std::vector<std::string>{"hello"});
}

TEST_F(authenticated, an_identity_off_the_allow_list_is_refused_and_told_so) {
  server_opts.auth.allowed.clear();
  make_server();
  ASSERT_TRUE(send_text(*a, b_id, "let me in").ok());
  settle_v2();
  EXPECT_TRUE(delivered(*b).empty());
  const auto eb = events(*b);
  const event* refused = find_kind(eb, event_kind::peer_refused);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, errc::access_denied);
  EXPECT_EQ(refused->peer_key, client_key());
  EXPECT_NE(refused->detail.find(to_z85(client_key())), std::string::npos) << refused->detail;
  const auto ea = events(*a);
  const event* told = find_kind(ea, event_kind::peer_refused);
  ASSERT_NE(told, nullptr);
  EXPECT_EQ(told->reason, errc::access_denied);
  const event* lost = find_kind(ea, event_kind::message_undeliverable);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->reason, errc::access_denied);
  EXPECT_FALSE(b->peer_identity(a_id).has_value());
  EXPECT_EQ(b->stats().total.handshakes_refused, 1u);
  EXPECT_EQ(a->stats().total.handshakes_refused, 1u);
  // A refused client tries again only for a new message, and not before key_request_retry.
  now += 5s;
  a->tick(now);
  EXPECT_TRUE(out(*a).empty());
}

TEST_F(authenticated, a_client_with_the_wrong_server_key_gets_no_answer_and_reports_its_message) {
  client_opts.auth.peer_key = make_identity().public_value();
  make_client();
  ASSERT_TRUE(send_text(*a, b_id, "hello").ok());
  settle_v2();
  EXPECT_TRUE(delivered(*b).empty());
  EXPECT_EQ(b->stats().total.handshakes_dropped, 1u);
  EXPECT_EQ(b->stats().total.handshakes_completed, 0u);
  now += client_opts.delivery_timeout;
  a->tick(now);
  settle_v2();
  const auto ea = events(*a);
  EXPECT_EQ(count_kind(ea, event_kind::message_undeliverable), 1u);
  const event* lost = find_kind(ea, event_kind::message_undeliverable);
  ASSERT_NE(lost, nullptr);
  EXPECT_NE(lost->detail.find("no answer to our handshake"), std::string::npos) << lost->detail;
}

TEST_F(authenticated, a_replayed_control_frame_is_dropped_and_not_acted_on) {
  converse();
  // A asks for more keys by a control frame; it is carried twice.
  ASSERT_TRUE(send_text(*a, b_id, "one").ok());
  a->tick(now + 100ms);
  std::vector<transmit> frames = out(*a);
  ASSERT_FALSE(frames.empty());
  for (auto& t : frames) (void)b->receive(a_id, t.frame, now);
  const auto before = b->stats().total;
  for (auto& t : frames) EXPECT_FALSE(b->receive(a_id, t.frame, now).ok());
  EXPECT_EQ(b->stats().total.frames_replayed - before.frames_replayed, frames.size());
  EXPECT_EQ(b->stats().total.keys_offered, before.keys_offered);
  EXPECT_EQ(b->stats().total.messages_opened, before.messages_opened);
}

TEST_F(authenticated, a_frame_reflected_to_its_sender_does_not_authenticate) {
  converse();
  ASSERT_TRUE(send_text(*a, b_id, "mirror").ok());
  auto frames = out(*a);
  ASSERT_FALSE(frames.empty());
  const auto before = a->stats().total;
  for (auto& t : frames) EXPECT_FALSE(a->receive(b_id, t.frame, now).ok());
  EXPECT_EQ(a->stats().total.frames_unauthenticated - before.frames_unauthenticated, frames.size());
  EXPECT_EQ(a->stats().total.messages_opened, before.messages_opened);
  EXPECT_EQ(a->stats().total.messages_acknowledged, before.messages_acknowledged);
}

TEST_F(authenticated, a_frame_altered_anywhere_is_dropped_and_the_genuine_one_still_opens) {
  converse();
  ASSERT_TRUE(send_text(*a, b_id, "intact").ok());
  auto frames = out(*a);
  ASSERT_EQ(frames.size(), 1u);
  const std::vector<byte> original = frames[0].frame;
  auto d = wire::decode(original, wire::decode_limits{});
  ASSERT_TRUE(d.ok());
  // Every byte up to the end of the MAC (what the MAC covers, and the MAC itself), then two of
  // the ciphertext (which the AEAD covers; a third failed open would retire the key): none may
  // be acted on, and none may use up the sequence number of the genuine frame.
  const std::size_t mac_end = d->auth->covered.size() + 2 + wire::mac_size;
  std::vector<std::size_t> positions;
  for (std::size_t i = 1; i < mac_end; ++i) positions.push_back(i);
  positions.push_back(original.size() - 1);
  positions.push_back(original.size() - 20);
  std::size_t refused = 0;
  for (const std::size_t i : positions) {
    std::vector<byte> f = original;
    f[i] ^= 0x01;
    if (!b->receive(a_id, f, now).ok()) ++refused;
  }
  EXPECT_EQ(refused, positions.size());
  EXPECT_GT(b->stats().total.frames_unauthenticated, mac_end / 2);
  EXPECT_EQ(b->stats().total.rejected_authentication, 2u);
  EXPECT_TRUE(delivered(*b).empty());
  const status s = b->receive(a_id, original, now);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(delivered(*b), std::vector<std::string>{"intact"});
}

TEST_F(authenticated, a_base_mode_peer_is_refused_both_ways_without_fallback) {
  a = std::make_unique<engine>(opts, *keys_a, *rand_a, now);  // base mode
  ASSERT_TRUE(send_text(*a, b_id, "plain").ok());
  for (int round = 0; round < 10; ++round) {
    for (auto& t : out(*a)) (void)b->receive(a_id, t.frame, now);
    for (auto& t : out(*b)) (void)a->receive(b_id, t.frame, now);
  }
  EXPECT_TRUE(delivered(*b).empty());
  const auto eb = events(*b);
  const event* at_b = find_kind(eb, event_kind::peer_refused);
  ASSERT_NE(at_b, nullptr);
  EXPECT_EQ(at_b->reason, errc::authentication_required);
  const auto ea = events(*a);
  const event* at_a = find_kind(ea, event_kind::peer_refused);
  ASSERT_NE(at_a, nullptr) << "the base-mode side is told why";
  EXPECT_EQ(at_a->reason, errc::authentication_required);
  EXPECT_GT(b->stats().total.frames_wrong_mode, 0u);
  EXPECT_EQ(b->stats().total.keys_offered, 0u);
}

TEST_F(authenticated, a_restarted_client_gets_a_new_session_and_its_old_keys_are_gone) {
  converse();
  const std::size_t live_before = b->stats().live_keys;
  EXPECT_GT(live_before, 0u);
  keys_a = make_deterministic_key_source(77);
  rand_a = make_deterministic_random(77);
  make_client();
  now += 2s;  // past peer_restart_interval
  ASSERT_TRUE(send_text(*a, b_id, "again").ok());
  settle_v2();
  EXPECT_EQ(delivered(*b), std::vector<std::string>{"again"});
  const auto eb = events(*b);
  EXPECT_EQ(count_kind(eb, event_kind::peer_restarted), 1u);
  EXPECT_EQ(count_kind(eb, event_kind::peer_authenticated), 1u);
}

TEST_F(authenticated, a_restarted_server_asks_for_a_handshake_and_the_client_reports_the_restart) {
  converse();
  keys_b = make_deterministic_key_source(78);
  rand_b = make_deterministic_random(78);
  make_server();
  now += 2s;
  ASSERT_TRUE(send_text(*a, b_id, "after restart").ok());
  settle_v2();
  // The first frames met no session: hello_request, handshake, then the message is re-sealed
  // under a key of the new instance (it was queued or re-queued, not lost).
  now += client_opts.retransmit_after * 2;
  for (int i = 0; i < 5; ++i) {
    a->tick(now);
    b->tick(now);
    settle_v2();
    now += 1s;
  }
  const auto ea = events(*a);
  EXPECT_EQ(count_kind(ea, event_kind::peer_restarted), 1u);
  const auto got = delivered(*b);
  const std::size_t lost = count_kind(ea, event_kind::message_undeliverable);
  EXPECT_EQ(got.size() + lost, 1u) << "delivered once or reported, never both, never neither";
}

TEST_F(authenticated, a_replayed_initiate_does_not_disturb_the_established_session) {
  ASSERT_TRUE(send_text(*a, b_id, "first").ok());
  auto initiate = out(*a);
  ASSERT_EQ(initiate.size(), 1u);
  const std::vector<byte> captured = initiate[0].frame;
  for (auto& t : initiate) (void)b->receive(a_id, t.frame, now);
  settle_v2();
  ASSERT_EQ(delivered(*b), std::vector<std::string>{"first"});
  (void)events(*b);
  // The replay is answered (the responder cannot tell it is one) but the answer does nothing.
  (void)b->receive(a_id, captured, now);
  for (auto& t : out(*b)) EXPECT_FALSE(a->receive(b_id, t.frame, now).ok());
  ASSERT_TRUE(send_text(*a, b_id, "second").ok());
  settle_v2();
  EXPECT_EQ(delivered(*b), std::vector<std::string>{"second"});
  EXPECT_EQ(count_kind(events(*b), event_kind::peer_restarted), 0u);
  EXPECT_EQ(a->stats().total.handshakes_dropped, 1u);
}

TEST_F(authenticated, a_renewed_session_still_accepts_answers_sent_under_the_one_it_replaced) {
  converse();
  // A hello_request (anyone can send one) makes A start a new handshake while B, which has not
  // seen it yet, sends under the current session.
  std::vector<byte> request;
  wire::encode_hello_request(guid{}, request);
  now += 2s;  // past key_request_retry since the first initiate
  ASSERT_TRUE(a->receive(b_id, request, now).ok());
  // The initiate, and whatever else was due by now (acknowledgements under the old session).
  std::vector<transmit> initiate;
  for (auto& t : out(*a)) {
    auto d = wire::decode(t.frame, wire::decode_limits{});
    ASSERT_TRUE(d.ok());
    if (d->kind == wire::frame_kind::handshake) {
      initiate.push_back(std::move(t));
    } else {
      (void)b->receive(a_id, t.frame, now);
    }
  }
  ASSERT_EQ(initiate.size(), 1u);
  ASSERT_TRUE(send_text(*b, a_id, "in flight").ok());
  auto in_flight = out(*b);
  ASSERT_EQ(in_flight.size(), 1u);
  ASSERT_TRUE(b->receive(a_id, initiate[0].frame, now).ok());
  auto accept = out(*b);
  ASSERT_EQ(accept.size(), 1u);
  ASSERT_TRUE(a->receive(b_id, accept[0].frame, now).ok());
  // A now holds the new session; B's frame under the old one still opens, once.
  ASSERT_TRUE(a->receive(b_id, in_flight[0].frame, now).ok());
  EXPECT_EQ(delivered(*a), std::vector<std::string>{"in flight"});
  EXPECT_FALSE(a->receive(b_id, in_flight[0].frame, now).ok());
  settle_v2();
  // Both continue under the new session; the renewal was no restart.
  ASSERT_TRUE(send_text(*b, a_id, "after").ok());
  settle_v2();
  EXPECT_EQ(delivered(*a), std::vector<std::string>{"after"});
  EXPECT_EQ(count_kind(events(*a), event_kind::peer_restarted), 0u);
  EXPECT_EQ(a->stats().total.handshakes_completed, 2u);
}

TEST_F(authenticated, policy_ask_puts_each_identity_to_the_application) {
  server_opts.auth.allowed.clear();
  server_opts.auth.policy = peer_policy::ask;
  make_server();
  ASSERT_TRUE(send_text(*a, b_id, "may I").ok());
  settle_v2();
  auto eb = events(*b);
  const event* check = find_kind(eb, event_kind::identity_check);
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->peer_key, client_key());
  EXPECT_TRUE(delivered(*b).empty());
  b->resolve_identity(a_id, client_key(), true, now);
  settle_v2();
  EXPECT_EQ(delivered(*b), std::vector<std::string>{"may I"});
}

TEST_F(authenticated, policy_ask_refusal_reaches_the_client) {
  server_opts.auth.allowed.clear();
  server_opts.auth.policy = peer_policy::ask;
  make_server();
  ASSERT_TRUE(send_text(*a, b_id, "may I").ok());
  settle_v2();
  (void)events(*b);
  b->resolve_identity(a_id, client_key(), false, now);
  settle_v2();
  EXPECT_TRUE(delivered(*b).empty());
  const auto ea = events(*a);
  const event* told = find_kind(ea, event_kind::peer_refused);
  ASSERT_NE(told, nullptr);
  EXPECT_EQ(told->reason, errc::access_denied);
}

TEST_F(authenticated, a_server_key_that_is_not_a_usable_point_is_refused_at_construction) {
  options o = client_opts;
  o.auth.peer_key = public_key{};  // all zero: a low-order point, the agreement is all zero
  engine e(o, *keys_a, *rand_a, now);
  EXPECT_EQ(e.construction_status().code(), errc::invalid_argument);
  EXPECT_NE(e.construction_status().message().find("auth.peer_key"), std::string::npos);
}

TEST_F(authenticated, options_that_need_an_identity_are_refused_without_one) {
  options o = opts;
  o.auth.peer_key = make_identity().public_value();
  engine e(o, *keys_a, *rand_a, now);
  EXPECT_EQ(e.construction_status().code(), errc::invalid_argument);
}

}  // namespace
}  // namespace cryptcom
