// The engine against a peer that lies: forged and repeated rejections, keys used by a third
// party, floods of failed opens, payloads that open but are not acceptable, damaged frames.
// Each test pins one rule of docs/PROTOCOL.md §9 that makes a hostile frame cost us at most a
// small constant times what it cost the peer (issues 9 and 10).
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/engine_pair.hpp"
#include "cryptcom/engine.hpp"
#include "crypto/hpke.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

using namespace std::chrono_literals;

using testing::a_id;
using testing::b_id;

constexpr peer_id c_id = 7;  // how B names a third party

using hostile_peer = testing::engine_pair;

wire::decoded_frame decoded(const std::vector<byte>& frame) {
  auto d = wire::decode(frame, wire::decode_limits{});
  EXPECT_TRUE(d.ok()) << d.error().to_string();
  return d.ok() ? std::move(d).value() : wire::decoded_frame{};
}

std::vector<byte> control_frame(const wire::control_block& block) {
  std::vector<byte> frame;
  wire::encode_control(block, frame);
  return frame;
}

std::size_t data_frames(const std::vector<transmit>& ts) {
  std::size_t n = 0;
  for (const auto& t : ts) n += t.carries_data ? 1 : 0;
  return n;
}

// A data frame sealed by the test itself (an HPKE of its own, as an attacker would) to
// `recipient`, with `payload` as the plaintext, whatever it holds.
std::vector<byte> sealed_frame(const guid& key_id, const public_key& recipient, byte_view payload) {
  std::array<byte, 32> ikm{}, sk{};
  randombytes_buf(ikm.data(), ikm.size());
  public_key pk;
  EXPECT_TRUE(hpke::derive_key_pair(ikm, sk, pk).ok());
  std::vector<byte> frame;
  const auto layout =
      wire::encode_data(key_id, pk, std::nullopt, nullptr, payload.size() + hpke::tag_size, frame);
  const std::string info = "cryptcom/1 one-time key";
  public_key enc;
  EXPECT_TRUE(hpke::seal_base(hpke::aead_id::chacha20_poly1305, recipient,
                              {reinterpret_cast<const byte*>(info.data()), info.size()},
                              layout.associated_data, payload, {sk, pk}, enc, layout.ciphertext)
                  .ok());
  sodium_memzero(sk.data(), sk.size());
  return frame;
}

// B's offers to A, taken off the wire as a third party on the path would see them.
std::vector<wire::offered_key> offers_in(const std::vector<transmit>& ts) {
  std::vector<wire::offered_key> keys;
  for (const auto& t : ts) {
    auto d = decoded(t.frame);
    if (d.kind == wire::frame_kind::control) {
      keys.insert(keys.end(), d.control.offers.begin(), d.control.offers.end());
    }
  }
  return keys;
}

TEST_F(hostile_peer, a_block_naming_one_key_a_thousand_times_reseals_the_message_at_most_once) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, std::string(4096, 'x')).ok());
  auto data = out(*a);
  ASSERT_EQ(data.size(), 1u);
  const guid key = decoded(data[0].frame).data.key_id;

  wire::control_block forged;
  forged.instance = b->instance();
  forged.rejections.assign(1000, {key, errc::authentication_failed});
  const auto frame = control_frame(forged);
  ASSERT_TRUE(a->receive(b_id, frame, now).ok());
  EXPECT_EQ(data_frames(out(*a)), 1u) << "one re-seal for the transmission the block names";
  EXPECT_EQ(a->stats().total.rejections_ignored, 999u);

  // The same block again, and again: each names a transmission that was answered, or the
  // message has used up its re-seals; the cap holds however often the peer repeats itself.
  std::size_t resent = 0;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(a->receive(b_id, frame, now).ok());
    resent += data_frames(out(*a));
  }
  EXPECT_LE(resent, opts.max_rejection_resends - 1);
  EXPECT_LE(a->stats().total.messages_sealed, 1 + opts.max_rejection_resends);
  // The genuine message still goes through, sent again by the retransmission timer.
  now += opts.retransmit_after;
  a->tick(now);
  settle();
  EXPECT_TRUE(b->poll_delivery());
}

TEST_F(hostile_peer, forged_new_key_rejections_cannot_make_one_message_go_out_many_times) {
  std::vector<guid> offered;  // every key B offered A, as a wiretap on the path sees them
  std::size_t sent = 0;       // data frames A put on the wire; none reaches B
  auto carry = [&] {
    for (int round = 0; round < 10; ++round) {
      auto from_a = out(*a);
      auto from_b = out(*b);
      if (from_a.empty() && from_b.empty()) return;
      for (auto& t : from_a) {
        if (t.carries_data) {
          ++sent;
        } else {
          (void)b->receive(a_id, t.frame, now);
        }
      }
      for (const auto& k : offers_in(from_b)) offered.push_back(k.id);
      for (auto& t : from_b) (void)a->receive(b_id, t.frame, now);
    }
  };
  a->connect(b_id, now);
  carry();
  ASSERT_TRUE(send_text(*a, b_id, "once").ok());
  carry();
  ASSERT_EQ(sent, 1u);
  for (int i = 0; i < 20; ++i) {
    // Whatever key the message went out under last, the peer says it had expired.
    wire::control_block forged;
    forged.instance = b->instance();
    for (const auto& k : offered) forged.rejections.push_back({k, errc::expired_key});
    ASSERT_TRUE(a->receive(b_id, control_frame(forged), now).ok());
    carry();
  }
  EXPECT_EQ(sent, 1 + opts.max_rejection_resends);
}

TEST_F(hostile_peer, a_key_offered_to_one_peer_does_not_open_for_another) {
  a->connect(b_id, now);
  auto request = out(*a);
  ASSERT_TRUE(b->receive(a_id, request[0].frame, now).ok());
  auto offer = out(*b);
  const auto keys = offers_in(offer);
  ASSERT_FALSE(keys.empty());
  for (auto& t : offer) ASSERT_TRUE(a->receive(b_id, t.frame, now).ok());

  // A third party that saw the offer on the wire seals to the first key from its own connection.
  const std::string text = "not yours";
  const byte_view part(reinterpret_cast<const byte*>(text.data()), text.size());
  std::vector<byte> payload(wire::payload_size(std::span<const byte_view>(&part, 1)));
  wire::encode_payload(std::span<const byte_view>(&part, 1), payload);
  const auto stolen = sealed_frame(keys[0].id, keys[0].key, payload);
  EXPECT_EQ(b->receive(c_id, stolen, now).code(), errc::unknown_key);
  EXPECT_FALSE(b->poll_delivery());
  EXPECT_EQ(b->stats().live_keys, keys.size()) << "the key stays live for its owner";

  // A's own message under that key (A uses its pool in order) opens and is delivered.
  ASSERT_TRUE(send_text(*a, b_id, "mine").ok());
  auto data = out(*a);
  ASSERT_EQ(decoded(data[0].frame).data.key_id, keys[0].id);
  ASSERT_TRUE(b->receive(a_id, data[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_EQ(std::string(d->parts[0].begin(), d->parts[0].end()), "mine");
  // From A's own path, the third party's frame would now be a replay; from its own, unknown.
  EXPECT_EQ(b->receive(c_id, stolen, now).code(), errc::unknown_key);
}

TEST_F(hostile_peer, failed_opens_are_budgeted_before_the_agreement_and_retire_the_key) {
  opts.failed_open_rate = 1;
  opts.failed_open_burst = 4;
  opts.max_failed_opens_per_key = 3;
  opts.pool_target = 32;  // keys for all the messages below, with no refill on the way
  opts.pool_low_watermark = 2;
  make_engines();
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "genuine").ok());
  auto genuine = out(*a);
  ASSERT_EQ(genuine.size(), 1u);

  // The attacker (on A's path) replays A's frame with a random enc: each costs B an X25519 and
  // fails. After 3 failures the key is retired; later copies cost nothing.
  auto forged = genuine[0].frame;
  std::size_t agreements = 0;
  for (int i = 0; i < 100; ++i) {
    for (std::size_t j = 0; j < 32; ++j) forged[23 + j] = static_cast<byte>(i * 7 + j);
    const status s = b->receive(a_id, forged, now);
    agreements += s.code() == errc::authentication_failed ? 1 : 0;
  }
  EXPECT_EQ(agreements, 3u) << "the key retires after max_failed_opens_per_key failures";
  const auto st = b->stats().total;
  EXPECT_EQ(st.keys_retired, 1u);
  EXPECT_EQ(st.rejected_authentication, 3u);

  // The genuine frame meets a retired key: expired_key, so A re-seals under a new key (here the
  // forged frames' rejections used up its re-seals, so at its retransmission timer).
  EXPECT_EQ(b->receive(a_id, genuine[0].frame, now).code(), errc::expired_key);
  settle();
  now += opts.retransmit_after;
  a->tick(now);
  settle();
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_EQ(std::string(d->parts[0].begin(), d->parts[0].end()), "genuine");

  // Across keys the budget binds: one bad copy under each of ten fresh keys; once the tokens
  // are spent, the rest are refused before any agreement.
  std::vector<std::vector<byte>> genuine_copies;
  std::size_t failed = 0, refused_before = 0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(send_text(*a, b_id, "message " + std::to_string(i)).ok());
    auto sent = out(*a);
    ASSERT_EQ(data_frames(sent), 1u);
    for (auto& t : sent) {
      if (t.carries_data) genuine_copies.push_back(t.frame);
    }
    auto bad = genuine_copies.back();
    bad[30] ^= 0x5a;
    const errc code = b->receive(a_id, bad, now).code();
    failed += code == errc::authentication_failed ? 1 : 0;
    refused_before += code == errc::rate_limited ? 1 : 0;
  }
  EXPECT_LE(failed, opts.failed_open_burst);
  EXPECT_GE(refused_before, 10 - opts.failed_open_burst);
  EXPECT_EQ(b->stats().total.opens_refused, refused_before);
  // The genuine copies still open once the budget refills (while it is spent, the peer's frames
  // under live keys wait for the sender's retransmission): a refused or failed copy leaves the
  // key live.
  now += 2s;
  for (const auto& frame : genuine_copies) ASSERT_TRUE(b->receive(a_id, frame, now).ok());
}

// Seals `payload` to the first key B offered A, from A's path, as a peer with a broken or hostile
// encoder would; returns the frame and the key id.
struct sealed_to_b {
  std::vector<byte> frame;
  guid key_id;
};

class hostile_payload : public hostile_peer {
 protected:
  sealed_to_b seal_to_b(byte_view payload) {
    a->connect(b_id, now);
    auto request = out(*a);
    EXPECT_TRUE(b->receive(a_id, request[0].frame, now).ok());
    const auto keys = offers_in(out(*b));
    EXPECT_FALSE(keys.empty());
    return {sealed_frame(keys[0].id, keys[0].key, payload), keys[0].id};
  }

  // B's answer to A, decoded: the rejections it carries.
  std::vector<wire::rejection> rejections_from_b() {
    now += opts.ack_delay;
    b->tick(now);
    std::vector<wire::rejection> all;
    for (const auto& t : out(*b)) {
      auto d = decoded(t.frame);
      if (d.kind == wire::frame_kind::control) {
        all.insert(all.end(), d.control.rejections.begin(), d.control.rejections.end());
      }
    }
    return all;
  }
};

TEST_F(hostile_payload, a_payload_that_opens_but_does_not_parse_is_answered_and_uses_the_key) {
  const std::vector<byte> not_a_payload = {0x92, 0xc4, 0x01, 0x61};  // array of 2, one part
  const auto sent = seal_to_b(not_a_payload);
  EXPECT_EQ(b->receive(a_id, sent.frame, now).code(), errc::malformed_frame);
  EXPECT_FALSE(b->poll_delivery());
  const auto rejections = rejections_from_b();
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_EQ(rejections[0].id, sent.key_id);
  EXPECT_EQ(rejections[0].reason, errc::invalid_argument);
  // The key is used up; a copy gets the same answer (not an acknowledgement).
  EXPECT_EQ(b->receive(a_id, sent.frame, now).code(), errc::invalid_argument);
  const auto again = rejections_from_b();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].reason, errc::invalid_argument);
  EXPECT_EQ(b->stats().total.messages_opened, 0u);
}

TEST_F(hostile_payload, a_payload_over_max_parts_is_answered_with_limit_exceeded) {
  std::vector<byte> parts_bytes(opts.max_parts + 1, 0);
  std::vector<byte_view> parts(opts.max_parts + 1, byte_view(parts_bytes).first(0));
  std::vector<byte> payload(wire::payload_size(parts));
  wire::encode_payload(parts, payload);
  const auto sent = seal_to_b(payload);
  EXPECT_EQ(b->receive(a_id, sent.frame, now).code(), errc::limit_exceeded);
  const auto rejections = rejections_from_b();
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_EQ(rejections[0].reason, errc::limit_exceeded);
}

TEST_F(hostile_peer, a_sender_told_its_message_cannot_be_accepted_reports_it_at_once) {
  a->connect(b_id, now);
  settle();
  const auto id = send_text(*a, b_id, "refused there");
  ASSERT_TRUE(id.ok());
  auto data = out(*a);
  const guid key = decoded(data[0].frame).data.key_id;
  wire::control_block answer;
  answer.instance = b->instance();
  answer.rejections.push_back({key, errc::limit_exceeded});
  ASSERT_TRUE(a->receive(b_id, control_frame(answer), now).ok());
  EXPECT_EQ(data_frames(out(*a)), 0u) << "not re-sealed: it would fail the same way";
  bool reported = false;
  for (const auto& e : events(*a)) {
    if (e.kind == event_kind::message_undeliverable && e.message == *id) {
      reported = true;
      EXPECT_EQ(e.reason, errc::limit_exceeded);
    }
  }
  EXPECT_TRUE(reported);
  EXPECT_EQ(a->stats().unacknowledged, 0u);
}

TEST_F(hostile_peer, a_damaged_data_frame_whose_key_can_be_read_is_answered_and_the_key_kept) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "intact").ok());
  auto data = out(*a);
  auto trailing = data[0].frame;
  trailing.push_back(0x00);
  EXPECT_EQ(b->receive(a_id, trailing, now).code(), errc::malformed_frame);
  auto answer = out(*b);
  ASSERT_EQ(answer.size(), 1u) << "answered at once";
  const auto d = decoded(answer[0].frame);
  ASSERT_EQ(d.control.rejections.size(), 1u);
  EXPECT_EQ(d.control.rejections[0].reason, errc::malformed_frame);
  EXPECT_EQ(d.control.rejections[0].id, decoded(data[0].frame).data.key_id);
  EXPECT_EQ(b->stats().total.rejections_sent, 1u);
  // A sends its message again to the same key, which B kept.
  ASSERT_TRUE(a->receive(b_id, answer[0].frame, now).ok());
  auto again = out(*a);
  ASSERT_EQ(data_frames(again), 1u);
  EXPECT_EQ(decoded(again[0].frame).data.key_id, decoded(data[0].frame).data.key_id);
  ASSERT_TRUE(b->receive(a_id, again[0].frame, now).ok());
  EXPECT_TRUE(b->poll_delivery());
}

TEST_F(hostile_peer, frames_of_another_version_or_kind_are_dropped_unanswered_and_counted) {
  const std::vector<byte> v3 = {0x97, 0x03, 0x02, 0xc4, 0x10, 1,  2,  3,  4,  5, 6,
                                7,    8,    9,    10,   11,   12, 13, 14, 15, 16};
  EXPECT_EQ(b->receive(a_id, v3, now).code(), errc::unsupported_version);
  const std::vector<byte> kind9 = {0x93, 0x01, 0x09, 0xc0};
  EXPECT_EQ(b->receive(a_id, kind9, now).code(), errc::unknown_kind);
  const std::vector<byte> junk = {0xc1};
  EXPECT_EQ(b->receive(a_id, junk, now).code(), errc::malformed_frame);
  now += 1s;
  b->tick(now);
  EXPECT_TRUE(out(*b).empty()) << "nothing is sent back for frames without a readable key";
  const auto st = b->stats().total;
  EXPECT_EQ(st.frames_dropped, 3u);
  EXPECT_EQ(st.rejections_sent, 0u);
  EXPECT_EQ(st.rejected_total(), 3u);
}

TEST_F(hostile_peer, a_reply_sealed_to_a_reply_key_carries_no_reply_key_of_its_own) {
  a->connect(b_id, now);
  b->connect(a_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "request", flow::pull).ok());
  auto request = out(*a);
  ASSERT_TRUE(decoded(request[0].frame).data.reply_key.has_value());
  ASSERT_TRUE(b->receive(a_id, request[0].frame, now).ok());
  ASSERT_TRUE(b->poll_delivery());
  const auto generated = b->stats().total.keys_generated;
  ASSERT_TRUE(send_text(*b, a_id, "answer", flow::pull).ok());  // e.g. a server set to pull
  auto reply = out(*b);
  ASSERT_EQ(data_frames(reply), 1u);
  for (const auto& t : reply) {
    if (t.carries_data) {
      EXPECT_FALSE(decoded(t.frame).data.reply_key.has_value());
    }
  }
  EXPECT_EQ(b->stats().total.keys_generated, generated);
}

// ---- grants ----

// Control frames as a peer with instance `instance` would send them.
std::vector<byte> asking(std::uint8_t instance, std::uint32_t wanted) {
  wire::control_block block;
  block.instance.bytes[0] = instance;
  block.wanted = wanted;
  return control_frame(block);
}

std::size_t offered_to(const std::vector<transmit>& ts, peer_id peer) {
  std::size_t n = 0;
  for (const auto& t : ts) {
    if (t.peer == peer) n += offers_in({t}).size();
  }
  return n;
}

TEST_F(hostile_peer, a_peer_gets_its_allowance_and_more_keys_only_as_it_uses_them) {
  // Asking for every key there is, again and again, yields pool_target keys and no more.
  constexpr peer_id greedy_id = 9;
  std::size_t offered = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(b->receive(greedy_id, asking(1, 0xffffffffu), now).ok());
    offered += offered_to(out(*b), greedy_id);
  }
  EXPECT_EQ(offered, opts.pool_target);
  EXPECT_EQ(b->stats().live_keys, opts.pool_target);
  b->disconnect(greedy_id, now);
  bool named = false;
  for (const auto& e : events(*b)) named |= e.detail.find("allowance") != std::string::npos;
  EXPECT_TRUE(named) << "the bound that trimmed the request is named";

  // A real sender that uses its keys has its allowance grow with its use.
  a->connect(b_id, now);
  settle();
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(send_text(*a, b_id, "m" + std::to_string(i)).ok());
    settle();
    while (b->poll_delivery()) {
    }
  }
  EXPECT_EQ(b->stats().total.messages_opened, 40u);
  wire::control_block greedy;
  greedy.instance = a->instance();
  greedy.wanted = 0xffffffffu;
  ASSERT_TRUE(b->receive(a_id, control_frame(greedy), now).ok());
  (void)offered_to(out(*b), a_id);
  // Twice its use (80 keys) is what it may hold now, the keys it holds already included.
  EXPECT_GT(b->stats().live_keys, opts.pool_target);
  EXPECT_LE(b->stats().live_keys, 80u);
}

TEST_F(hostile_peer, peers_of_one_group_share_one_budget_and_another_group_is_served) {
  opts.unproven_grant_rate = 10;
  opts.unproven_grant_burst = 40;
  make_engines();
  // 1000 forged paths behind one connection (group 77), each asking for everything.
  std::size_t offered_to_group = 0;
  for (peer_id forged = 100; forged < 1100; ++forged) {
    b->set_group(forged, 77, now);
    ASSERT_TRUE(b->receive(forged, asking(3, 0xffffffffu), now).ok());
    for (const auto& t : out(*b)) offered_to_group += offers_in({t}).size();
  }
  EXPECT_EQ(offered_to_group, opts.unproven_grant_burst);
  EXPECT_EQ(b->stats().total.keys_generated, opts.unproven_grant_burst);
  // A newcomer on its own connection gets its whole first grant at once.
  b->set_group(a_id, 1, now);
  a->connect(b_id, now);
  settle();
  EXPECT_EQ(a->usable_keys(b_id), opts.pool_target);
  // The group's budget refills at its rate, not faster.
  now += 1s;
  std::size_t later = 0;
  for (peer_id forged = 2000; forged < 2100; ++forged) {
    b->set_group(forged, 77, now);
    ASSERT_TRUE(b->receive(forged, asking(3, 0xffffffffu), now).ok());
    for (const auto& t : out(*b)) later += offers_in({t}).size();
  }
  EXPECT_EQ(later, opts.unproven_grant_rate);
}

TEST_F(hostile_peer, with_every_key_taken_a_newcomer_is_served_from_the_largest_holders) {
  opts.max_keys_total = 64;
  opts.max_keys_per_peer = 32;
  make_engines();
  for (peer_id hog = 100; hog < 108; ++hog) {
    ASSERT_TRUE(b->receive(hog, asking(4, 0xffffffffu), now).ok());
  }
  (void)out(*b);
  ASSERT_EQ(b->stats().live_keys, opts.max_keys_total);
  a->connect(b_id, now);
  settle();
  EXPECT_EQ(a->usable_keys(b_id), opts.pool_target);
  EXPECT_LE(b->stats().live_keys, opts.max_keys_total);
  EXPECT_EQ(b->stats().total.keys_retired, opts.pool_target);
  ASSERT_TRUE(send_text(*a, b_id, "served").ok());
  settle();
  EXPECT_TRUE(b->poll_delivery());
}

TEST_F(hostile_peer, a_new_instance_on_every_frame_is_a_restart_at_most_once_per_interval) {
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(b->receive(a_id, asking(static_cast<std::uint8_t>(i), 0xffffffffu), now).ok());
    (void)out(*b);
    now += 1ms;
  }
  const auto st = b->stats().total;
  // The first block records the instance; then a burst of two restarts, then one per second.
  EXPECT_LE(st.peer_restarts, 3u);
  EXPECT_LE(st.keys_generated, (st.peer_restarts + 1) * opts.pool_target);
  EXPECT_GE(st.rejected_rate_limited, 990u);
}

// ---- what a peer says of itself (hello) ----

TEST_F(hostile_peer, every_control_block_says_which_aead_and_limits_its_sender_accepts) {
  a->connect(b_id, now);
  auto request = out(*a);
  ASSERT_EQ(request.size(), 1u);
  const auto d = decoded(request[0].frame);
  ASSERT_TRUE(d.control.about_sender);
  EXPECT_EQ(d.control.about_sender->max_version, 1u);
  EXPECT_EQ(d.control.about_sender->features, 0u);
  EXPECT_EQ(d.control.about_sender->aead, static_cast<std::uint16_t>(opts.cipher));
  EXPECT_EQ(d.control.about_sender->max_message_bytes, opts.max_message_size);
  EXPECT_EQ(d.control.about_sender->max_parts, opts.max_parts);
}

TEST_F(hostile_peer, a_message_over_the_peers_announced_limits_is_refused_at_the_sender) {
  options small = opts;
  small.max_parts = 3;
  small.max_message_size = 100;
  b = std::make_unique<engine>(small, *keys_b, *rand_b, now);
  // Queued before A knows B's limits: given up when B's offers tell them, never sent.
  const std::vector<byte> big(200, 7);
  const byte_view big_part(big);
  const auto early = a->send(b_id, std::span<const byte_view>(&big_part, 1), now);
  ASSERT_TRUE(early.ok());
  a->connect(b_id, now);
  settle();
  bool reported = false;
  for (const auto& e : events(*a)) {
    if (e.kind == event_kind::message_undeliverable && e.message == *early) {
      reported = e.reason == errc::message_too_large &&
                 e.detail.find("max_message_size (100)") != std::string::npos;
    }
  }
  EXPECT_TRUE(reported);
  EXPECT_EQ(a->stats().total.messages_sealed, 0u) << "never sealed, never sent";
  // Once known, refused synchronously.
  const std::vector<byte_view> four(4, byte_view(big).first(1));
  EXPECT_EQ(a->send(b_id, four, now).error().code(), errc::limit_exceeded);
  EXPECT_EQ(a->send(b_id, std::span<const byte_view>(&big_part, 1), now).error().code(),
            errc::message_too_large);
  EXPECT_TRUE(send_text(*a, b_id, "fits").ok());
  settle();
  EXPECT_TRUE(b->poll_delivery());
}

TEST_F(hostile_peer, each_side_seals_with_the_aead_its_peer_announced) {
  if (hpke::aead_available(hpke::aead_id::aes_256_gcm)) {
    // A opens with AES-256-GCM, B with ChaCha20-Poly1305: both ways work, in both flows.
    options aes = opts;
    aes.cipher = aead::aes_256_gcm;
    a = std::make_unique<engine>(aes, *keys_a, *rand_a, now);
    a->connect(b_id, now);
    b->connect(a_id, now);
    settle();
    ASSERT_TRUE(send_text(*a, b_id, "to chacha", flow::pull).ok());
    settle();
    auto request = b->poll_delivery();
    ASSERT_TRUE(request);
    ASSERT_TRUE(send_text(*b, a_id, "to aes").ok());
    settle();
    auto reply = a->poll_delivery();
    ASSERT_TRUE(reply);
    EXPECT_EQ(std::string(reply->parts[0].begin(), reply->parts[0].end()), "to aes");
    EXPECT_EQ(a->stats().total.rejected_authentication + b->stats().total.rejected_authentication,
              0u);
  } else {
    // This CPU cannot seal with AES-256-GCM: a peer that opens only with it is told apart from
    // tampering, and the message is reported unavailable instead of failing every open.
    wire::control_block offer;
    offer.instance.bytes[0] = 1;
    offer.about_sender = wire::hello{1, 0, 0x0002, 1000, 10};
    offer.offers.push_back({guid{}, public_key{}, 60000});
    offer.offers.back().id.bytes[0] = 9;
    ASSERT_TRUE(a->receive(b_id, control_frame(offer), now).ok());
    EXPECT_EQ(send_text(*a, b_id, "x").error().code(), errc::unavailable);
  }
}

TEST_F(hostile_peer, a_restart_after_deferred_rejections_leaves_no_deadline_in_the_past) {
  ASSERT_TRUE(b->receive(a_id, asking(1, 0), now).ok());
  // Frames under random key ids: the first hundred are reported and answered at once, then the
  // rejections wait to share a frame with the next acknowledgements.
  std::vector<byte> frame;
  for (int i = 0; i < 150; ++i) {
    guid made_up;
    made_up.bytes[0] = static_cast<byte>(i);
    made_up.bytes[1] = 0x77;
    auto layout = wire::encode_data(made_up, public_key{}, std::nullopt, nullptr, 32, frame);
    std::fill(layout.ciphertext.begin(), layout.ciphertext.end(), byte{0});
    (void)b->receive(a_id, frame, now);
  }
  (void)out(*b);
  // A new instance: what was owed to the old one goes, and with it its deadline.
  ASSERT_TRUE(b->receive(a_id, asking(2, 0), now).ok());
  (void)out(*b);
  now += 1s;
  b->tick(now);
  const auto next = b->poll_timeout();
  EXPECT_TRUE(!next || *next > now) << "a deadline in the past makes the I/O loop spin";
}

TEST_F(hostile_peer, a_grant_above_max_offers_goes_out_in_several_blocks) {
  opts.pool_target = 2500;
  opts.pool_low_watermark = 100;
  opts.max_keys_per_peer = 3000;
  opts.unproven_grant_burst = 3000;
  make_engines();
  a->connect(b_id, now);
  auto request = out(*a);
  ASSERT_EQ(request.size(), 1u);
  ASSERT_TRUE(b->receive(a_id, request[0].frame, now).ok());
  const auto offers = out(*b);
  ASSERT_EQ(offers.size(), 3u) << "1024 + 1024 + 452 keys";
  for (const auto& t : offers) EXPECT_LE(decoded(t.frame).control.offers.size(), 1024u);
  for (const auto& t : offers) ASSERT_TRUE(a->receive(b_id, t.frame, now).ok());
  EXPECT_EQ(a->usable_keys(b_id), 2500u);
}

}  // namespace
}  // namespace cryptcom
