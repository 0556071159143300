// engine::withdraw (issue 12, PROTOCOL.md §11.6, §11.7): a client A of two servers, B and C,
// takes back the messages that never reached B, which went away, and sends them to C. Three
// engines on virtual time, frames carried by hand so a test can lose B's, replay them, or hand B
// one late.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/engine_pair.hpp"
#include "cryptcom/engine.hpp"
#include "cryptcom/identity.hpp"
#include "engine/engine_probe.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

using namespace std::chrono_literals;
using engine_detail::engine_probe;
using testing::a_id;
using testing::b_id;

constexpr peer_id c_id = 2;  // how A names C

std::string string_of(byte_view b) { return {b.begin(), b.end()}; }

byte_view bytes_of(const std::string& s) {
  return {reinterpret_cast<const byte*>(s.data()), s.size()};
}

wire::decoded_frame decoded(const std::vector<byte>& frame) {
  auto d = wire::decode(frame, wire::decode_limits{});
  EXPECT_TRUE(d.ok()) << d.error().to_string();
  return d.ok() ? std::move(d).value() : wire::decoded_frame{};
}

std::size_t count_kind(const std::vector<event>& es, event_kind k) {
  return static_cast<std::size_t>(
      std::count_if(es.begin(), es.end(), [&](const event& e) { return e.kind == k; }));
}

// A, a client of B and C (two servers of one service). Frames from B and to B are lost once
// `b_gone` is set, as when its connection went.
class withdraw_fixture : public testing::engine_pair {
 protected:
  void SetUp() override {
    engine_pair::SetUp();
    keys_c = make_deterministic_key_source(3);
    rand_c = make_deterministic_random(3);
    c = std::make_unique<engine>(opts, *keys_c, *rand_c, now);
  }

  // Carries frames between A and its servers until all are quiet. A's data frames to B are
  // kept in `to_b`, and B's frames in `from_b` (lost or not), so a test can name or replay them.
  void settle_all() {
    for (int round = 0; round < 100; ++round) {
      auto from_a = out(*a);
      auto b_out = out(*b);
      auto c_out = out(*c);
      if (from_a.empty() && b_out.empty() && c_out.empty()) return;
      for (auto& t : from_a) {
        if (t.peer == b_id) {
          if (t.carries_data) to_b.push_back(t.frame);
          if (!b_gone) (void)b->receive(a_id, t.frame, now);
        } else {
          (void)c->receive(a_id, t.frame, now);
        }
      }
      for (auto& t : b_out) {
        from_b.push_back(t.frame);
        if (!b_gone) (void)a->receive(b_id, t.frame, now);
      }
      for (auto& t : c_out) (void)a->receive(c_id, t.frame, now);
    }
  }

  // Both servers offer A their keys.
  void connect_both() {
    a->connect(b_id, now);
    a->connect(c_id, now);
    settle_all();
    ASSERT_EQ(a->usable_keys(b_id), opts.pool_target);
    ASSERT_EQ(a->usable_keys(c_id), opts.pool_target);
  }

  // Every key B offered A, as the broker records them (§11.7).
  std::vector<guid> keys_b_offered() const {
    std::vector<guid> ids;
    for (const auto& f : from_b) {
      const auto d = decoded(f);
      const wire::control_block* block = d.kind == wire::frame_kind::control ? &d.control
                                         : d.data.control                    ? &*d.data.control
                                                                             : nullptr;
      if (block == nullptr) continue;
      for (const auto& o : block->offers) ids.push_back(o.id);
    }
    return ids;
  }

  // Connects both servers, loses B, and sends it `parts`: the message's id and the key of B's
  // that its one data frame was sealed to.
  struct sent_message {
    message_id id = 0;
    guid key;
  };
  sent_message send_to_lost_b(const std::vector<std::string>& parts, flow how) {
    connect_both();
    b_gone = true;
    const auto id = send_parts(b_id, parts, how);
    EXPECT_TRUE(id.ok());
    settle_all();
    EXPECT_EQ(to_b.size(), 1u);
    if (!id.ok() || to_b.size() != 1) return {};
    return {*id, decoded(to_b[0]).data.key_id};
  }

  // Connects both servers and sends B a request (pull): its one data frame, not yet carried.
  std::vector<byte> pull_request_to_b(const std::string& text) {
    connect_both();
    EXPECT_TRUE(send_parts(b_id, {text}, flow::pull).ok());
    auto request = out(*a);
    EXPECT_EQ(request.size(), 1u);
    return request.empty() ? std::vector<byte>{} : std::move(request[0].frame);
  }

  result<message_id> send_parts(peer_id to, const std::vector<std::string>& parts, flow how) {
    std::vector<byte_view> views;
    for (const auto& p : parts) views.push_back(bytes_of(p));
    send_options o;
    o.use_flow = how;
    return a->send(to, views, now, o);
  }

  // A control frame from B's instance, as B or anyone on the path could send it.
  std::vector<byte> control_from_b(std::vector<guid> acks,
                                   std::vector<wire::rejection> rejections) {
    wire::control_block block;
    block.instance = b->instance();
    block.acks = std::move(acks);
    block.rejections = std::move(rejections);
    std::vector<byte> frame;
    wire::encode_control(block, frame);
    return frame;
  }

  static std::vector<std::string> strings_of(const std::vector<byte_view>& parts) {
    std::vector<std::string> v;
    for (byte_view p : parts) v.push_back(string_of(p));
    return v;
  }

  std::unique_ptr<key_source> keys_c;
  std::unique_ptr<random_source> rand_c;
  std::unique_ptr<engine> c;
  bool b_gone = false;
  std::vector<std::vector<byte>> to_b, from_b;
};

TEST_F(withdraw_fixture,
       a_message_sealed_to_a_listed_key_comes_back_whole_and_is_reported_nowhere) {
  const std::vector<std::string> parts{"job", "", "arguments"};
  const auto [id, key] = send_to_lost_b(parts, flow::push);
  ASSERT_EQ(a->stats().unacknowledged, 1u);

  std::vector<withdrawn_message> back = a->withdraw(b_id, std::vector<guid>{key}, now);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, id);
  EXPECT_EQ(strings_of(back[0].parts), parts);
  EXPECT_EQ(back[0].how, flow::push);
  EXPECT_EQ(back[0].key_id, key);
  // The caller may move it about: the parts keep viewing the payload, which moves along.
  const withdrawn_message moved = std::move(back[0]);
  EXPECT_EQ(strings_of(moved.parts), parts);
  EXPECT_EQ(back[0].owner, nullptr);
  EXPECT_EQ(a->stats().unacknowledged, 0u);
  EXPECT_EQ(a->stats().total.messages_withdrawn, 1u);
  EXPECT_EQ(a->stats().per_peer.at(b_id).messages_withdrawn, 1u);
  EXPECT_EQ(engine_probe::timers_mismatch(*a), "");
  EXPECT_EQ(count_kind(events(*a), event_kind::message_undeliverable), 0u);

  // B (or someone on its path) later acknowledges or rejects that key: no message is held
  // under it any more, so nothing happens: no event, no count, nothing re-sealed to B.
  const auto before = a->stats().total;
  EXPECT_TRUE(a->receive(b_id, control_from_b({key}, {}), now).ok());
  for (errc reason : {errc::unknown_key, errc::expired_key, errc::authentication_failed,
                      errc::invalid_argument, errc::replayed_key}) {
    EXPECT_TRUE(a->receive(b_id, control_from_b({}, {{key, reason}}), now).ok());
  }
  EXPECT_EQ(a->stats().total.messages_acknowledged, before.messages_acknowledged);
  EXPECT_EQ(a->stats().total.messages_sealed, before.messages_sealed);
  EXPECT_EQ(a->stats().total.messages_undeliverable, 0u);
  EXPECT_TRUE(events(*a).empty());
  for (const auto& t : out(*a)) EXPECT_FALSE(t.carries_data);

  // Nor does time, nor forgetting B.
  for (int i = 0; i < 4; ++i) {
    now += opts.delivery_timeout / 2;
    a->tick(now);
  }
  a->disconnect(b_id, now);
  EXPECT_EQ(count_kind(events(*a), event_kind::message_undeliverable), 0u);
  EXPECT_EQ(a->stats().total.messages_undeliverable, 0u);
  EXPECT_EQ(a->stats().total.messages_resent, 0u);
}

TEST_F(withdraw_fixture, a_message_under_an_unlisted_key_stays_and_is_reported_on_disconnect) {
  connect_both();
  b_gone = true;
  const auto first = send_parts(b_id, {"reached no one"}, flow::push);
  const auto second = send_parts(b_id, {"may have been opened"}, flow::push);
  ASSERT_TRUE(first.ok() && second.ok());
  settle_all();
  ASSERT_EQ(to_b.size(), 2u);
  const guid first_key = decoded(to_b[0]).data.key_id;
  const guid second_key = decoded(to_b[1]).data.key_id;

  const auto back = a->withdraw(b_id, std::vector<guid>{first_key}, now);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, *first);
  EXPECT_EQ(a->stats().unacknowledged, 1u);
  EXPECT_EQ(engine_probe::timers_mismatch(*a), "");

  a->disconnect(b_id, now);
  const auto ev = events(*a);
  ASSERT_EQ(count_kind(ev, event_kind::message_undeliverable), 1u);
  const auto it = std::find_if(ev.begin(), ev.end(), [](const event& e) {
    return e.kind == event_kind::message_undeliverable;
  });
  EXPECT_EQ(it->message, *second);
  EXPECT_EQ(it->key_id, second_key);
  EXPECT_EQ(a->stats().total.messages_withdrawn, 1u);
}

TEST_F(withdraw_fixture, a_message_never_sent_is_withdrawn_whatever_the_keys) {
  // B never offered a key: the message waits in A's queue.
  const auto id = send_parts(b_id, {"queued"}, flow::pull);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(a->stats().queued_messages, 1u);
  for (const auto& t : out(*a)) EXPECT_FALSE(t.carries_data);

  const auto back = a->withdraw(b_id, {}, now);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, *id);
  EXPECT_EQ(strings_of(back[0].parts), std::vector<std::string>{"queued"});
  EXPECT_EQ(back[0].how, flow::pull);
  EXPECT_TRUE(back[0].key_id.is_zero());
  EXPECT_EQ(a->stats().queued_messages, 0u);
  EXPECT_EQ(a->stats().live_keys, 0u) << "a message never sealed has no reply key yet";
  EXPECT_EQ(engine_probe::timers_mismatch(*a), "");

  // Nothing is left to report, now or at delivery_timeout.
  now += opts.delivery_timeout;
  a->tick(now);
  a->disconnect(b_id, now);
  EXPECT_EQ(count_kind(events(*a), event_kind::message_undeliverable), 0u);
}

TEST_F(withdraw_fixture, messages_come_back_in_the_order_they_were_sent_and_once) {
  connect_both();
  b_gone = true;
  std::vector<message_id> ids;
  // More messages than B's pool holds: the first eight are sealed, the rest wait for keys.
  for (int i = 0; i < 10; ++i) {
    const auto id = send_parts(b_id, {"m" + std::to_string(i)}, flow::push);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  settle_all();
  ASSERT_EQ(to_b.size(), opts.pool_target);
  ASSERT_EQ(a->stats().queued_messages, 2u);
  // The first one goes again (B said a copy was damaged): it is now the latest transmission.
  const guid first_key = decoded(to_b[0]).data.key_id;
  ASSERT_TRUE(
      a->receive(b_id, control_from_b({}, {{first_key, errc::authentication_failed}}), now).ok());
  settle_all();
  ASSERT_EQ(to_b.size(), opts.pool_target + 1);
  ASSERT_EQ(decoded(to_b.back()).data.key_id, first_key);

  const auto back = a->withdraw(b_id, keys_b_offered(), now);
  ASSERT_EQ(back.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(back[i].id, ids[i]);
    EXPECT_EQ(strings_of(back[i].parts), std::vector<std::string>{"m" + std::to_string(i)});
  }
  EXPECT_TRUE(a->withdraw(b_id, keys_b_offered(), now).empty()) << "taken once";
  EXPECT_EQ(a->stats().total.messages_withdrawn, ids.size());
  EXPECT_EQ(a->stats().unacknowledged + a->stats().queued_messages, 0u);
}

TEST_F(withdraw_fixture, the_reply_key_of_a_withdrawn_pull_message_is_destroyed_and_opens_nothing) {
  const std::vector<byte> request = pull_request_to_b("what time is it?");
  const auto d = decoded(request);
  ASSERT_TRUE(d.data.reply_key.has_value());
  const guid reply_key = d.data.reply_key->id;
  ASSERT_EQ(a->stats().live_keys, 1u);  // the reply key, for B

  const auto back = a->withdraw(b_id, std::vector<guid>{d.data.key_id}, now);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].how, flow::pull);
  EXPECT_EQ(a->stats().live_keys, 0u) << "the private half is destroyed at once";
  EXPECT_EQ(a->stats().total.keys_destroyed, 1u);

  // Had the request reached B after all, B's answer, sealed to that reply key, opens nothing.
  ASSERT_TRUE(b->receive(a_id, request, now).ok());
  auto got = b->poll_delivery();
  ASSERT_TRUE(got && got->expects_reply);
  ASSERT_TRUE(send_text(*b, a_id, "noon").ok());
  auto reply = out(*b);
  ASSERT_EQ(reply.size(), 1u);
  ASSERT_EQ(decoded(reply[0].frame).data.key_id, reply_key);
  const status s = a->receive(b_id, reply[0].frame, now);
  EXPECT_EQ(s.code(), errc::expired_key) << s.to_string();
  EXPECT_FALSE(a->poll_delivery().has_value());
  const auto ev = events(*a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, event_kind::frame_rejected);
  EXPECT_EQ(ev[0].key_id, reply_key);
  EXPECT_EQ(ev[0].reason, errc::expired_key);
  EXPECT_EQ(a->stats().total.messages_opened, 0u);
}

TEST_F(withdraw_fixture, a_pull_message_whose_reply_opened_stays_whatever_the_caller_says) {
  const std::vector<byte> request = pull_request_to_b("request");
  const guid key = decoded(request).data.key_id;
  ASSERT_TRUE(b->receive(a_id, request, now).ok());
  ASSERT_TRUE(b->poll_delivery());
  // B's acknowledgement goes alone, and is lost; its reply then carries none.
  now += opts.ack_delay;
  b->tick(now);
  ASSERT_EQ(out(*b).size(), 1u);
  ASSERT_TRUE(send_text(*b, a_id, "reply").ok());
  auto reply = out(*b);
  ASSERT_EQ(reply.size(), 1u);
  ASSERT_TRUE(a->receive(b_id, reply[0].frame, now).ok());
  ASSERT_TRUE(a->poll_delivery());
  ASSERT_EQ(a->stats().unacknowledged, 1u);

  // The reply proves B read the request: it is not handed back to go elsewhere.
  EXPECT_TRUE(a->withdraw(b_id, std::vector<guid>{key}, now).empty());
  EXPECT_EQ(a->stats().unacknowledged, 1u);
  EXPECT_EQ(a->stats().total.messages_withdrawn, 0u);
}

TEST_F(withdraw_fixture, withdrawn_parts_sent_to_a_second_peer_are_delivered_there_exactly_once) {
  const std::vector<std::string> parts{"", "request body", ""};
  const message_id id = send_to_lost_b(parts, flow::pull).id;

  auto back = a->withdraw(b_id, keys_b_offered(), now);
  ASSERT_EQ(back.size(), 1u);
  a->disconnect(b_id, now);
  send_options how;
  how.use_flow = back[0].how;
  const auto again = a->send(c_id, back[0].parts, now, how);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_NE(*again, id);
  back.clear();  // the caller is done with the plaintext: wiped

  settle_all();
  std::vector<delivery> at_c;
  while (auto d = c->poll_delivery()) at_c.push_back(std::move(*d));
  ASSERT_EQ(at_c.size(), 1u);
  EXPECT_EQ(strings_of(at_c[0].parts), parts);
  EXPECT_TRUE(at_c[0].expects_reply) << "the same flow as the first send";

  // Time passes, timers run: the message neither comes again nor is reported.
  for (int i = 0; i < 6; ++i) {
    now += opts.delivery_timeout / 2;
    a->tick(now);
    c->tick(now);
    settle_all();
  }
  EXPECT_FALSE(c->poll_delivery().has_value());
  EXPECT_EQ(c->stats().total.messages_opened, 1u);
  EXPECT_EQ(count_kind(events(*a), event_kind::message_undeliverable), 0u);
  EXPECT_EQ(a->stats().total.messages_acknowledged, 1u);
  EXPECT_EQ(a->stats().unacknowledged, 0u);
  EXPECT_EQ(b->stats().total.messages_opened, 0u);
}

TEST_F(withdraw_fixture, withdraw_of_an_unknown_peer_or_of_keys_never_used_returns_nothing) {
  const guid key = send_to_lost_b({"stays"}, flow::push).key;

  EXPECT_TRUE(a->withdraw(7, std::vector<guid>{key}, now).empty()) << "no such peer";
  EXPECT_TRUE(a->withdraw(c_id, std::vector<guid>{key}, now).empty()) << "B's key, not C's";
  guid other;
  other.bytes.fill(0x5a);
  EXPECT_TRUE(a->withdraw(b_id, std::vector<guid>{other}, now).empty()) << "not its key";
  EXPECT_TRUE(a->withdraw(b_id, {}, now).empty()) << "sent, so only its key withdraws it";
  EXPECT_EQ(a->stats().unacknowledged, 1u);
  EXPECT_EQ(a->stats().total.messages_withdrawn, 0u);
  EXPECT_EQ(a->usable_keys(b_id), opts.pool_target - 1);
  EXPECT_TRUE(events(*a).empty());
}

TEST_F(withdraw_fixture, a_data_frame_not_yet_polled_does_not_leave_once_withdrawn) {
  connect_both();
  ASSERT_TRUE(send_parts(b_id, {"still in the engine"}, flow::push).ok());
  // The transport has not taken the frame yet.
  const auto back = a->withdraw(b_id, keys_b_offered(), now);
  ASSERT_EQ(back.size(), 1u);
  for (const auto& t : out(*a)) EXPECT_FALSE(t.carries_data && t.peer == b_id);
}

TEST_F(withdraw_fixture, a_withdrawn_key_is_not_sealed_to_again_when_offered_again) {
  connect_both();
  ASSERT_FALSE(from_b.empty());
  const std::vector<byte> offer = from_b.front();  // B's offer of its pool
  b_gone = true;
  ASSERT_TRUE(send_parts(b_id, {"first"}, flow::push).ok());
  settle_all();
  const guid key = decoded(to_b.at(0)).data.key_id;
  now += opts.retransmit_after / 2;
  ASSERT_EQ(a->withdraw(b_id, std::vector<guid>{key}, now).size(), 1u);
  const std::size_t usable = a->usable_keys(b_id);

  // A duplicate of B's old offer arrives later than A remembers a key it sealed to for its own
  // sake (retransmit_after from sealing): the withdrawn key is not taken back into the pool.
  now += opts.retransmit_after / 2 + 1ms;
  ASSERT_TRUE(a->receive(b_id, offer, now).ok());
  EXPECT_EQ(a->usable_keys(b_id), usable);
  for (std::size_t i = 0; i < opts.pool_target; ++i) {
    ASSERT_TRUE(send_parts(b_id, {"next"}, flow::push).ok());
  }
  for (const auto& t : out(*a)) {
    if (t.carries_data) {
      EXPECT_NE(decoded(t.frame).data.key_id, key);
    }
  }
}

// Authenticated mode (§12): the same, between a client and two servers holding the service's
// identity.
class withdraw_authenticated : public withdraw_fixture {
 protected:
  void SetUp() override {
    opts.pool_target = 8;
    opts.pool_low_watermark = 4;
    auto client = identity::generate();
    auto server = identity::generate();
    ASSERT_TRUE(client.ok() && server.ok());
    options client_opts = opts;
    client_opts.auth.self = *client;
    client_opts.auth.peer_key = server->public_value();
    options server_opts = opts;
    server_opts.auth.self = *server;
    server_opts.auth.allowed = {client->public_value()};
    keys_c = make_deterministic_key_source(3);
    rand_c = make_deterministic_random(3);
    a = std::make_unique<engine>(client_opts, *keys_a, *rand_a, now);
    b = std::make_unique<engine>(server_opts, *keys_b, *rand_b, now);
    c = std::make_unique<engine>(server_opts, *keys_c, *rand_c, now);
    ASSERT_TRUE(a->construction_status().ok() && b->construction_status().ok());
  }
};

TEST_F(withdraw_authenticated, withdrawn_messages_go_to_another_server_and_open_there_once) {
  const auto [id, key] = send_to_lost_b({"sealed for B"}, flow::pull);
  ASSERT_EQ(to_b.size(), 1u);
  EXPECT_EQ(decoded(to_b[0]).version, 2);
  ASSERT_EQ(a->stats().live_keys, 1u);  // its reply key

  auto back = a->withdraw(b_id, std::vector<guid>{key}, now);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, id);
  EXPECT_EQ(back[0].key_id, key);
  EXPECT_EQ(a->stats().live_keys, 0u);
  a->disconnect(b_id, now);
  EXPECT_EQ(count_kind(events(*a), event_kind::message_undeliverable), 0u);

  send_options how;
  how.use_flow = back[0].how;
  ASSERT_TRUE(a->send(c_id, back[0].parts, now, how).ok());
  settle_all();
  auto d = c->poll_delivery();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(string_of(d->parts.at(0)), "sealed for B");
  EXPECT_TRUE(d->expects_reply);
  EXPECT_FALSE(c->poll_delivery().has_value());
  now += opts.ack_delay;  // C's acknowledgement waited for a reply that did not come
  c->tick(now);
  settle_all();
  EXPECT_EQ(a->stats().total.messages_acknowledged, 1u);
  EXPECT_EQ(a->stats().unacknowledged, 0u);
}

}  // namespace
}  // namespace cryptcom
