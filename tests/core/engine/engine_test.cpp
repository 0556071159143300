// Unit tests of the engine's transitions, two engines wired back to back by hand (frames are
// carried explicitly so each test can drop, copy, alter or delay them), on virtual time.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/engine/engine_pair.hpp"
#include "core/engine/simulation.hpp"
#include "cryptcom/engine.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

using namespace std::chrono_literals;

using testing::a_id;
using testing::b_id;

std::string string_of(byte_view b) { return {b.begin(), b.end()}; }

using pair_fixture = testing::engine_pair;

TEST_F(pair_fixture, push_delivers_after_one_key_exchange_and_destroys_the_key) {
  a->connect(b_id, now);
  auto request = out(*a);
  ASSERT_EQ(request.size(), 1u);
  EXPECT_FALSE(request[0].carries_data);
  ASSERT_TRUE(b->receive(a_id, request[0].frame, now).ok());
  auto offer = out(*b);
  ASSERT_EQ(offer.size(), 1u);
  ASSERT_TRUE(a->receive(b_id, offer[0].frame, now).ok());
  EXPECT_EQ(a->usable_keys(b_id), opts.pool_target);
  EXPECT_EQ(b->stats().live_keys, opts.pool_target);

  ASSERT_TRUE(send_text(*a, b_id, "hello").ok());
  auto data = out(*a);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_TRUE(data[0].carries_data);
  // The wire never carries the plaintext.
  EXPECT_EQ(string_of(data[0].frame).find("hello"), std::string::npos);
  ASSERT_TRUE(b->receive(a_id, data[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->parts.size(), 1u);
  EXPECT_EQ(string_of(d->parts[0]), "hello");
  EXPECT_FALSE(d->expects_reply);
  EXPECT_EQ(b->stats().live_keys, opts.pool_target - 1);
  EXPECT_EQ(b->stats().total.keys_used, 1u);
}

TEST_F(pair_fixture, pull_reply_is_sealed_to_the_requesters_one_time_key) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "what time is it?", flow::pull).ok());
  EXPECT_EQ(a->stats().live_keys, 1u);  // the reply key, held by A
  auto req = out(*a);
  ASSERT_EQ(req.size(), 1u);
  ASSERT_TRUE(b->receive(a_id, req[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d && d->expects_reply);
  EXPECT_EQ(b->usable_keys(a_id), 1u);  // the reply key
  ASSERT_TRUE(send_text(*b, a_id, "noon").ok());
  auto reply = out(*b);
  ASSERT_EQ(reply.size(), 1u) << "the reply must not need a key exchange";
  ASSERT_TRUE(a->receive(b_id, reply[0].frame, now).ok());
  auto r = a->poll_delivery();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(string_of(r->parts[0]), "noon");
  EXPECT_EQ(a->stats().live_keys, 0u) << "the reply key is destroyed once used";
}

TEST_F(pair_fixture, a_per_peer_flow_applies_to_messages_that_name_none) {
  a->connect(b_id, now);
  settle();
  a->set_flow(b_id, flow::pull, now);
  ASSERT_TRUE(send_text(*a, b_id, "pull by default").ok());
  ASSERT_TRUE(send_text(*a, b_id, "push this one", flow::push).ok());
  settle();
  auto first = b->poll_delivery();
  auto second = b->poll_delivery();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->expects_reply);
  EXPECT_FALSE(second->expects_reply);
}

TEST_F(pair_fixture, a_replayed_data_frame_is_refused_counted_and_delivers_nothing) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "once").ok());
  auto data = out(*a);
  ASSERT_TRUE(b->receive(a_id, data[0].frame, now).ok());
  ASSERT_TRUE(b->poll_delivery());
  const status again = b->receive(a_id, data[0].frame, now);
  EXPECT_EQ(again.code(), errc::replayed_key);
  EXPECT_FALSE(b->poll_delivery());
  EXPECT_EQ(b->stats().total.rejected_replay, 1u);
  auto ev = events(*b);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().kind, event_kind::frame_rejected);
  EXPECT_EQ(ev.back().reason, errc::replayed_key);
  EXPECT_NE(ev.back().detail.find("peer 0"), std::string::npos) << ev.back().detail;
}

TEST_F(pair_fixture, a_copy_sent_again_after_a_lost_acknowledgement_is_acknowledged_again) {
  a->connect(b_id, now);
  settle();
  const auto id = send_text(*a, b_id, "delivered once");
  ASSERT_TRUE(id.ok());
  auto data = out(*a);
  ASSERT_TRUE(b->receive(a_id, data[0].frame, now).ok());
  ASSERT_TRUE(b->poll_delivery());
  now += opts.ack_delay;
  b->tick(now);
  (void)out(*b);  // B's acknowledgement is lost
  now += opts.retransmit_after;
  a->tick(now);  // A sends its message again, to the same key
  auto again = out(*a);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(b->receive(a_id, again[0].frame, now).code(), errc::replayed_key);
  EXPECT_FALSE(b->poll_delivery()) << "delivered once";
  now += opts.ack_delay;
  b->tick(now);
  settle();
  EXPECT_EQ(a->stats().unacknowledged, 0u) << "the second acknowledgement got through";
  EXPECT_EQ(a->stats().total.messages_acknowledged, 1u);
  EXPECT_EQ(a->stats().total.messages_undeliverable, 0u);
}

TEST_F(pair_fixture, a_tampered_frame_fails_and_leaves_the_key_for_the_genuine_one) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "genuine").ok());
  auto data = out(*a);
  auto bad = data[0].frame;
  bad[bad.size() - 3] ^= 0x40;
  EXPECT_EQ(b->receive(a_id, bad, now).code(), errc::authentication_failed);
  EXPECT_FALSE(b->poll_delivery());
  ASSERT_TRUE(b->receive(a_id, data[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_EQ(string_of(d->parts[0]), "genuine");
  EXPECT_EQ(b->stats().total.rejected_authentication, 1u);
}

TEST_F(pair_fixture, tampering_with_a_header_field_is_detected_by_the_associated_data) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "header bound").ok());
  auto data = out(*a);
  // Byte 40 lies inside enc (after version, kind, the GUID's 18 bytes and enc's 2-byte header).
  auto bad = data[0].frame;
  bad[40] ^= 0x01;
  EXPECT_FALSE(b->receive(a_id, bad, now).ok());
  EXPECT_FALSE(b->poll_delivery());
}

TEST_F(pair_fixture, a_rejection_for_an_expired_key_makes_the_sender_reseal_under_a_new_key) {
  opts.key_ttl = 10s;
  opts.expiry_margin = 1s;
  make_engines();
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "late").ok());
  auto data = out(*a);
  now += 11s;  // the frame was in flight longer than the key lived
  b->tick(now);
  EXPECT_EQ(b->receive(a_id, data[0].frame, now).code(), errc::expired_key);
  auto reject = out(*b);
  ASSERT_EQ(reject.size(), 1u);
  ASSERT_TRUE(a->receive(b_id, reject[0].frame, now).ok());
  settle();
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_EQ(string_of(d->parts[0]), "late");
  EXPECT_EQ(a->stats().total.messages_resent, 1u);
  bool told = false;
  for (const auto& e : events(*a)) told |= e.kind == event_kind::message_rejected;
  EXPECT_TRUE(told);
}

TEST_F(pair_fixture, an_unknown_key_is_refused_with_a_rejection_naming_it) {
  wire::control_block none;
  std::vector<byte> frame;
  const public_key enc{};
  guid made_up;
  made_up.bytes.fill(0x42);
  auto layout = wire::encode_data(made_up, enc, std::nullopt, nullptr, 32, frame);
  std::fill(layout.ciphertext.begin(), layout.ciphertext.end(), byte{0});
  EXPECT_EQ(b->receive(a_id, frame, now).code(), errc::unknown_key);
  auto reject = out(*b);
  ASSERT_EQ(reject.size(), 1u);
  auto decoded = wire::decode(reject[0].frame, wire::decode_limits{});
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->control.rejections.size(), 1u);
  EXPECT_EQ(decoded->control.rejections[0].id, made_up);
  EXPECT_EQ(decoded->control.rejections[0].reason, errc::unknown_key);
}

TEST_F(pair_fixture, an_unknown_key_rejection_drops_the_stale_pool_and_asks_afresh) {
  a->connect(b_id, now);
  settle();
  ASSERT_EQ(a->usable_keys(b_id), opts.pool_target);
  ASSERT_TRUE(send_text(*a, b_id, "to a peer that forgot us").ok());
  auto data = out(*a);
  ASSERT_EQ(data.size(), 1u);
  auto decoded = wire::decode(data[0].frame, wire::decode_limits{});
  ASSERT_TRUE(decoded.ok());
  // B (same instance) answers that it does not know the key: it lost the state it had for A.
  wire::control_block answer;
  answer.instance = b->instance();
  answer.rejections.push_back({decoded->data.key_id, errc::unknown_key});
  std::vector<byte> frame;
  wire::encode_control(answer, frame);
  ASSERT_TRUE(a->receive(b_id, frame, now).ok());
  EXPECT_EQ(a->usable_keys(b_id), 0u) << "the rest of the pool is as stale";
  auto request = out(*a);
  ASSERT_EQ(request.size(), 1u);
  auto asked = wire::decode(request[0].frame, wire::decode_limits{});
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ(asked->control.wanted, opts.pool_target) << "fresh keys are asked for at once";
  EXPECT_EQ(a->stats().total.peer_restarts, 0u);
}

TEST_F(pair_fixture, a_malformed_frame_is_counted_and_the_engine_keeps_serving) {
  const std::vector<byte> junk = {0x93, 0x01, 0x09, 0xc0};
  EXPECT_FALSE(b->receive(a_id, junk, now).ok());
  EXPECT_EQ(b->stats().total.rejected_malformed, 1u);
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "still here").ok());
  settle();
  EXPECT_TRUE(b->poll_delivery());
}

TEST_F(pair_fixture, events_nobody_polls_are_bounded_and_the_newest_kept) {
  opts.max_pending_events = 5;
  make_engines();
  const std::vector<byte> junk = {0xc1};
  for (int i = 0; i < 100; ++i) (void)b->receive(a_id, junk, now);
  EXPECT_EQ(b->stats().total.rejected_malformed, 100u);
  EXPECT_EQ(b->stats().total.events_dropped, 95u);
  EXPECT_EQ(events(*b).size(), 5u);
}

TEST_F(pair_fixture, messages_wait_for_keys_and_the_queue_is_bounded) {
  opts.max_queued_per_peer = 3;
  make_engines();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send_text(*a, b_id, "queued").ok());
  auto full = send_text(*a, b_id, "one too many");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), errc::limit_exceeded);
  EXPECT_NE(full.error().message().find("max_queued_per_peer"), std::string::npos);
  settle();
  int n = 0;
  while (b->poll_delivery()) ++n;
  EXPECT_EQ(n, 3);
}

TEST_F(pair_fixture, oversize_and_empty_messages_are_refused_at_send) {
  opts.max_message_size = 100;
  make_engines();
  const std::vector<byte> big(101, 1);
  const byte_view part(big);
  auto r = a->send(b_id, std::span<const byte_view>(&part, 1), now);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), errc::message_too_large);
  auto none = a->send(b_id, std::span<const byte_view>(), now);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), errc::invalid_argument);
}

TEST_F(pair_fixture, a_peer_that_never_offers_keys_makes_the_message_undeliverable) {
  ASSERT_TRUE(send_text(*a, b_id, "into the void").ok());
  (void)out(*a);  // B never answers
  for (int i = 0; i < 40; ++i) {
    now += 1s;
    a->tick(now);
    (void)out(*a);
  }
  bool reported = false;
  for (const auto& e : events(*a)) {
    if (e.kind == event_kind::message_undeliverable) {
      reported = true;
      EXPECT_EQ(e.message, 1u);
      EXPECT_EQ(e.reason, errc::undeliverable);
    }
  }
  EXPECT_TRUE(reported);
  EXPECT_EQ(a->stats().total.messages_undeliverable, 1u);
}

TEST_F(pair_fixture, a_restarted_peer_is_detected_and_its_old_keys_are_dropped) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "to the old b").ok());
  (void)out(*a);  // lost with the old B
  keys_b = make_deterministic_key_source(3);
  rand_b = make_deterministic_random(3);
  b = std::make_unique<engine>(opts, *keys_b, *rand_b, now);
  now += opts.retransmit_after;
  a->tick(now);  // A retransmits to the old key; the new B rejects it, naming its new instance
  settle();
  bool restarted = false, undeliverable = false;
  for (const auto& e : events(*a)) {
    restarted |= e.kind == event_kind::peer_restarted;
    undeliverable |= e.kind == event_kind::message_undeliverable && e.message == 1;
  }
  EXPECT_TRUE(restarted);
  EXPECT_TRUE(undeliverable) << "unacknowledged messages to the old instance are reported";
  EXPECT_EQ(a->stats().total.peer_restarts, 1u);
  // New traffic flows to the new instance.
  ASSERT_TRUE(send_text(*a, b_id, "to the new b").ok());
  settle();
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_EQ(string_of(d->parts[0]), "to the new b");
}

TEST_F(pair_fixture, a_flood_of_key_requests_is_bounded_per_peer) {
  opts.max_keys_per_peer = 32;
  opts.max_keys_total = 64;
  make_engines();
  wire::control_block flood;
  flood.instance.bytes[0] = 7;
  flood.wanted = 1u << 30;
  std::vector<byte> frame;
  wire::encode_control(flood, frame);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b->receive(a_id, frame, now).ok());
  (void)out(*b);
  EXPECT_LE(b->stats().live_keys, opts.max_keys_per_peer);
  EXPECT_GT(b->stats().total.key_requests_trimmed, 0u);
  // Another peer is still served.
  keys_a = make_deterministic_key_source(9);
  auto c = std::make_unique<engine>(opts, *keys_a, *rand_a, now);
  c->connect(b_id, now);
  for (auto& t : out(*c)) ASSERT_TRUE(b->receive(5, t.frame, now).ok());
  std::size_t offered_to_c = 0;
  for (auto& t : out(*b)) {
    if (t.peer == 5) ++offered_to_c, (void)c->receive(b_id, t.frame, now);
  }
  EXPECT_EQ(offered_to_c, 1u);
  EXPECT_GT(c->usable_keys(b_id), 0u);
}

TEST_F(pair_fixture, keys_expire_on_tick_and_the_store_empties) {
  opts.key_ttl = 10s;
  opts.expiry_margin = 1s;
  make_engines();
  a->connect(b_id, now);
  settle();
  EXPECT_EQ(b->stats().live_keys, opts.pool_target);
  now += 10s;
  b->tick(now);
  EXPECT_EQ(b->stats().live_keys, 0u);
  EXPECT_EQ(b->stats().total.keys_expired, opts.pool_target);
  EXPECT_EQ(b->stats().per_peer.at(a_id).keys_expired, opts.pool_target);
  a->tick(now);
  EXPECT_EQ(a->usable_keys(b_id), 0u) << "the sender drops keys it can no longer use";
}

// ---- retransmission ----

// B acknowledges every frame 1.5 s late (retransmit_after 1 s). A fixed timeout would send each
// message twice; the adaptive one learns the delay from the first acknowledged message.
TEST_F(pair_fixture, a_slowly_acknowledging_peer_gets_a_longer_timeout_instead_of_resends) {
  opts.retransmit_after = 1s;
  opts.delivery_timeout = 30s;
  make_engines();
  a->connect(b_id, now);
  settle();
  struct held {
    time_point due;
    std::vector<byte> frame;
  };
  std::vector<held> from_b;
  std::size_t delivered = 0;
  auto step = [&]() {
    a->tick(now);
    b->tick(now);
    for (auto& t : out(*a)) (void)b->receive(a_id, t.frame, now);
    while (b->poll_delivery()) ++delivered;
    for (auto& t : out(*b)) from_b.push_back({now + 1500ms, std::move(t.frame)});
    for (auto it = from_b.begin(); it != from_b.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      (void)a->receive(b_id, it->frame, now);
      it = from_b.erase(it);
    }
    now += 50ms;
  };
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(send_text(*a, b_id, "slow " + std::to_string(i)).ok());
    for (int s = 0; s < 60; ++s) step();  // 3 s per message
  }
  for (int s = 0; s < 200; ++s) step();
  const auto st = a->stats().total;
  EXPECT_EQ(st.messages_acknowledged, 10u);
  EXPECT_EQ(delivered, 10u);
  // Only the first message, sent before any acknowledgement was timed, goes out twice.
  EXPECT_LE(st.messages_resent, 1u);
}

// B never answers. The timeout doubles at each expiry (1, 2, 4 s, then at most
// delivery_timeout / 2), and the message is reported exactly at delivery_timeout, not at the
// next expiry after it.
TEST_F(pair_fixture, resends_back_off_and_the_report_comes_exactly_at_delivery_timeout) {
  opts.retransmit_after = 1s;
  opts.delivery_timeout = 10s;
  make_engines();
  a->connect(b_id, now);
  settle();
  const time_point sent_at = now;
  ASSERT_TRUE(send_text(*a, b_id, "unheard").ok());
  (void)out(*a);
  std::optional<time_point> reported_at;
  std::size_t transmissions = 1;
  while (!reported_at && now - sent_at < 20s) {
    now += 10ms;
    a->tick(now);
    transmissions += out(*a).size();
    for (const auto& e : events(*a)) {
      if (e.kind == event_kind::message_undeliverable) reported_at = now;
    }
  }
  ASSERT_TRUE(reported_at.has_value());
  EXPECT_GE(*reported_at - sent_at, opts.delivery_timeout);
  EXPECT_LE(*reported_at - sent_at, opts.delivery_timeout + 10ms);
  EXPECT_EQ(a->stats().total.messages_resent, 3u);  // at 1, 3 and 7 s
  EXPECT_EQ(transmissions, 4u);
}

// An offer frame that arrives again after its keys were used and acknowledged (duplicated or
// replayed on the way) must not put those keys back in the pool: sealing to one again would be
// refused as a replay, and a duplicated acknowledgement of the first use would pass for the
// second message's.
TEST_F(pair_fixture, an_offer_arriving_again_after_its_keys_were_used_is_ignored) {
  auto offer = offer_from_b();
  ASSERT_EQ(offer.size(), 1u);
  const std::vector<byte> offer_copy = offer[0].frame;
  ASSERT_TRUE(a->receive(b_id, offer[0].frame, now).ok());
  std::size_t delivered = 0;
  // A pool's worth of messages, then acknowledgements until both sides are quiet.
  auto send_round = [&](std::string_view text) {
    for (std::size_t i = 0; i < opts.pool_target; ++i) {
      ASSERT_TRUE(send_text(*a, b_id, text).ok());
    }
    for (int i = 0; i < 5; ++i) {
      now += opts.ack_delay;
      a->tick(now);
      b->tick(now);
      settle();
      while (b->poll_delivery()) ++delivered;
    }
  };
  send_round("first round");
  ASSERT_EQ(a->stats().total.messages_acknowledged, opts.pool_target);

  ASSERT_TRUE(a->receive(b_id, offer_copy, now).ok());
  send_round("second round");
  EXPECT_EQ(b->stats().total.rejected_replay, 0u);
  EXPECT_EQ(delivered, 2 * opts.pool_target);
  EXPECT_EQ(a->stats().total.messages_acknowledged, 2 * opts.pool_target);
}

TEST(engine_options, inconsistent_options_are_refused_with_a_reason) {
  options o;
  o.pool_low_watermark = o.pool_target;
  auto k = make_deterministic_key_source(1);
  auto r = make_deterministic_random(1);
  engine e(o, *k, *r, time_point{});
  EXPECT_EQ(e.construction_status().code(), errc::invalid_argument);
  EXPECT_NE(e.construction_status().message().find("pool_low_watermark"), std::string::npos);
}

// ---- steady-state cost: extra frames and round trips per message ----

struct traffic_figures {
  double extra_frames_per_message;
  double round_trips_per_message;
};

// Two engines on a network with a fixed 1 ms delay and no faults, A already connected to B.
std::unique_ptr<sim::network> quiet_pair(std::uint64_t seed, std::size_t pool,
                                         std::size_t watermark) {
  options o;
  o.pool_target = pool;
  o.pool_low_watermark = watermark;
  sim::network_faults f;
  f.min_delay = f.max_delay = 1ms;
  auto net = std::make_unique<sim::network>(seed, 2, o, f);
  net->at(0).connect(1, net->now());
  net->run_for(10ms);
  return net;
}

// One-way stream A->B of n 64-byte messages, one every 100 us. Round trips spent waiting are
// measured from each message's latency beyond the 1 ms the network itself takes.
traffic_figures one_way(std::size_t n, std::size_t pool, std::size_t watermark) {
  auto net = quiet_pair(11, pool, watermark);
  const auto start_frames = net->frames_sent();
  std::vector<time_point> sent_at;
  double waited_ms = 0;
  std::size_t delivered = 0;
  auto collect = [&] {
    // Deliveries come in sending order: the delay is fixed and nothing is lost.
    while (net->at(1).poll_delivery()) {
      waited_ms +=
          std::chrono::duration<double, std::milli>(net->now() - sent_at[delivered]).count() - 1.0;
      ++delivered;
    }
  };
  std::vector<byte> body(64, 7);
  for (std::size_t i = 0; i < n; ++i) {
    const byte_view part(body);
    sent_at.push_back(net->now());
    EXPECT_TRUE(net->at(0).send(1, std::span<const byte_view>(&part, 1), net->now()).ok());
    net->run_for(100us);
    collect();
  }
  while (delivered < n && net->step(net->now() + 10s)) collect();
  EXPECT_EQ(delivered, n);
  net->run_for(1s);  // the last acknowledgements
  // An honest sender is never trimmed by the receiver's grant rules.
  EXPECT_EQ(net->at(1).stats().total.key_requests_trimmed, 0u);
  const double frames = static_cast<double>(net->frames_sent() - start_frames);
  return {(frames - static_cast<double>(n)) / static_cast<double>(n),
          std::max(0.0, waited_ms) / 2.0 / static_cast<double>(n)};
}

// Request/reply: A sends a pull request, waits for B's reply, n times.
traffic_figures request_reply(std::size_t n, std::size_t pool, std::size_t watermark) {
  auto net_owner = quiet_pair(12, pool, watermark);
  auto& net = *net_owner;
  const auto start_frames = net.frames_sent();
  const auto start = net.now();
  const std::vector<byte> body(64, 9);
  const byte_view part(body);
  send_options pull;
  pull.use_flow = flow::pull;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(net.at(0).send(1, std::span<const byte_view>(&part, 1), net.now(), pull).ok());
    std::optional<delivery> req;
    while (!(req = net.at(1).poll_delivery())) EXPECT_TRUE(net.step(net.now() + 10s));
    EXPECT_TRUE(req->expects_reply);
    EXPECT_TRUE(net.at(1).send(0, std::span<const byte_view>(&part, 1), net.now()).ok());
    std::optional<delivery> rep;
    while (!(rep = net.at(0).poll_delivery())) EXPECT_TRUE(net.step(net.now() + 10s));
  }
  const double frames = static_cast<double>(net.frames_sent() - start_frames);
  const double ms = std::chrono::duration<double, std::milli>(net.now() - start).count();
  // Each exchange needs one round trip (2 ms) at least; the rest is extra round trips.
  return {(frames - 2.0 * static_cast<double>(n)) / static_cast<double>(n),
          ms / 2.0 / static_cast<double>(n) - 1.0};
}

TEST(engine_cost, steady_one_way_stream_needs_under_5_percent_extra_frames_and_no_waiting) {
  const auto pooled = one_way(2000, 64, 32);
  const auto unpooled = one_way(200, 1, 0);
  std::printf(
      "one-way: pooled %.4f extra frames/msg, %.4f round trips/msg; "
      "unpooled %.4f extra frames/msg, %.4f round trips/msg\n",
      pooled.extra_frames_per_message, pooled.round_trips_per_message,
      unpooled.extra_frames_per_message, unpooled.round_trips_per_message);
  EXPECT_LT(pooled.extra_frames_per_message, 0.05);
  EXPECT_LT(pooled.round_trips_per_message, 0.01);
  EXPECT_GT(unpooled.extra_frames_per_message, pooled.extra_frames_per_message);
  EXPECT_GT(unpooled.round_trips_per_message, 0.5) << "the measure must see waiting for keys";
}

TEST(engine_cost, request_reply_needs_no_extra_frames_or_round_trips_in_steady_state) {
  const auto pooled = request_reply(1000, 64, 32);
  const auto unpooled = request_reply(200, 1, 0);
  std::printf(
      "request/reply: pooled %.4f extra frames/msg, %.4f extra round trips/msg; "
      "unpooled %.4f extra frames/msg, %.4f extra round trips/msg\n",
      pooled.extra_frames_per_message, pooled.round_trips_per_message,
      unpooled.extra_frames_per_message, unpooled.round_trips_per_message);
  EXPECT_LT(pooled.extra_frames_per_message, 0.01);
  EXPECT_LT(pooled.round_trips_per_message, 0.01);
}

}  // namespace
}  // namespace cryptcom
