// engine::receive_in_place: a data frame is opened where it lies in the caller's buffer and its
// delivery views that buffer; frames that fail (tampered, replayed, malformed payload) deliver
// nothing, are counted, and leave no plaintext behind.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/engine/engine_pair.hpp"
#include "cryptcom/engine.hpp"
#include "crypto/hpke.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

using testing::a_id;
using testing::b_id;

// A pattern no frame header or ciphertext contains by chance: where the plaintext shows.
std::vector<byte> patterned(std::size_t size, std::uint8_t seed) {
  std::vector<byte> v(size);
  for (std::size_t i = 0; i < size; ++i) {
    v[i] = static_cast<byte>((i * 131 + seed * 17 + (i >> 8)) & 0xff);
  }
  return v;
}

bool contains(byte_view haystack, byte_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

bool lies_within(byte_view inner, byte_view outer) {
  const auto i0 = reinterpret_cast<std::uintptr_t>(inner.data());
  const auto o0 = reinterpret_cast<std::uintptr_t>(outer.data());
  return i0 >= o0 && i0 + inner.size() <= o0 + outer.size();
}

struct in_place_pair : testing::engine_pair {
  in_place_pair() : engine_pair(21, 22) {}

  // Carries frames both ways, all of them in place, until both are quiet. Frames that carry no
  // data must come through untouched.
  void settle_in_place() {
    for (int round = 0; round < 100; ++round) {
      auto from_a = out(*a);
      auto from_b = out(*b);
      if (from_a.empty() && from_b.empty()) return;
      for (auto& t : from_a) {
        const std::vector<byte> before = t.frame;
        ASSERT_TRUE(b->receive_in_place(a_id, t.frame, now).ok());
        if (!t.carries_data) {
          EXPECT_EQ(t.frame, before) << "a control frame is only read";
        }
      }
      for (auto& t : from_b) {
        const std::vector<byte> before = t.frame;
        ASSERT_TRUE(a->receive_in_place(b_id, t.frame, now).ok());
        if (!t.carries_data) {
          EXPECT_EQ(t.frame, before) << "a control frame is only read";
        }
      }
    }
    FAIL() << "the engines did not settle";
  }
  // A's data frame for a message of `parts`, with keys exchanged first.
  std::vector<byte> sealed(const std::vector<std::vector<byte>>& parts) {
    a->connect(b_id, now);
    settle_in_place();
    std::vector<byte_view> views(parts.begin(), parts.end());
    EXPECT_TRUE(a->send(b_id, views, now).ok());
    auto frames = out(*a);
    EXPECT_EQ(frames.size(), 1u);
    if (frames.empty()) return {};
    EXPECT_TRUE(frames[0].carries_data);
    return std::move(frames[0].frame);
  }
};

// ---- every size and shape comes out exactly as sent, viewing the caller's buffer ----

struct shape {
  std::vector<std::size_t> part_sizes;
};

void PrintTo(const shape& s, std::ostream* os) {
  *os << "parts of";
  for (std::size_t n : s.part_sizes) *os << ' ' << n;
  *os << " bytes";
}

class in_place_shapes : public in_place_pair, public ::testing::WithParamInterface<shape> {};

TEST_P(in_place_shapes, receive_in_place_delivers_exactly_the_parts_sent_from_the_frame_buffer) {
  std::vector<std::vector<byte>> parts;
  for (std::size_t i = 0; i < GetParam().part_sizes.size(); ++i) {
    parts.push_back(patterned(GetParam().part_sizes[i], static_cast<std::uint8_t>(i + 1)));
  }
  std::vector<byte> frame = sealed(parts);
  ASSERT_FALSE(frame.empty());
  ASSERT_TRUE(b->receive_in_place(a_id, frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->peer, a_id);
  EXPECT_TRUE(d->payload.empty()) << "nothing was copied out of the frame";
  ASSERT_EQ(d->parts.size(), parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_TRUE(
        std::equal(d->parts[i].begin(), d->parts[i].end(), parts[i].begin(), parts[i].end()))
        << "part " << i << " of " << parts[i].size() << " bytes";
    if (!parts[i].empty()) {
      EXPECT_TRUE(lies_within(d->parts[i], frame)) << "part " << i;
    }
  }
  EXPECT_FALSE(b->poll_delivery());
  EXPECT_EQ(b->stats().total.messages_opened, 1u);
  EXPECT_EQ(b->stats().total.keys_used, 1u);
  // The acknowledgement goes back as usual (once due) and A forgets the message.
  now += opts.ack_delay;
  b->tick(now);
  settle_in_place();
  EXPECT_EQ(a->stats().unacknowledged, 0u);
}

INSTANTIATE_TEST_SUITE_P(engine, in_place_shapes,
                         ::testing::Values(shape{{0}}, shape{{1}}, shape{{100}}, shape{{64 * 1024}},
                                           shape{{1024 * 1024}}, shape{{0, 0, 0}},
                                           shape{{5, 0, 70000, 1}},
                                           shape{{1024 * 1024 - 300, 17, 255, 256, 65535, 65536}}));

// ---- failures ----

TEST_F(in_place_pair, a_tampered_frame_in_place_is_rejected_counted_not_delivered_nor_revealed) {
  const std::vector<byte> body = patterned(64 * 1024, 9);
  std::vector<byte> genuine = sealed({body});
  ASSERT_FALSE(genuine.empty());
  std::vector<byte> bad = genuine;
  bad[bad.size() - 3] ^= 0x40;
  EXPECT_EQ(b->receive_in_place(a_id, bad, now).code(), errc::authentication_failed);
  EXPECT_FALSE(b->poll_delivery());
  EXPECT_EQ(b->stats().total.rejected_authentication, 1u);
  EXPECT_EQ(b->stats().total.messages_opened, 0u);
  EXPECT_FALSE(contains(bad, byte_view(body).subspan(100, 64))) << "no plaintext in the buffer";
  bool reported = false;
  while (auto e = b->poll_event()) {
    reported |= e->kind == event_kind::frame_rejected && e->reason == errc::authentication_failed;
  }
  EXPECT_TRUE(reported);
  // The key survived the forgery: the genuine frame still opens, in place.
  ASSERT_TRUE(b->receive_in_place(a_id, genuine, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->parts.size(), 1u);
  EXPECT_TRUE(std::equal(d->parts[0].begin(), d->parts[0].end(), body.begin(), body.end()));
}

TEST_F(in_place_pair, a_replayed_frame_in_place_is_refused_and_left_as_it_arrived) {
  const std::vector<byte> body = patterned(32 * 1024, 3);
  std::vector<byte> first = sealed({body});
  ASSERT_FALSE(first.empty());
  std::vector<byte> replay = first;
  ASSERT_TRUE(b->receive_in_place(a_id, first, now).ok());
  ASSERT_TRUE(b->poll_delivery());
  const std::vector<byte> arrived = replay;
  EXPECT_EQ(b->receive_in_place(a_id, replay, now).code(), errc::replayed_key);
  EXPECT_FALSE(b->poll_delivery());
  EXPECT_EQ(b->stats().total.rejected_replay, 1u);
  EXPECT_EQ(b->stats().total.messages_opened, 1u);
  EXPECT_EQ(replay, arrived) << "a frame whose key is gone is not even decrypted";
}

// A frame sealed correctly to one of B's keys whose payload is not a list of parts: it opens,
// so the plaintext was in the buffer, and must be wiped before the error returns.
TEST_F(in_place_pair, a_frame_that_opens_to_a_malformed_payload_is_wiped_and_not_delivered) {
  auto offer = offer_from_b();
  ASSERT_EQ(offer.size(), 1u);
  auto offered = wire::decode(offer[0].frame, wire::decode_limits{});
  ASSERT_TRUE(offered.ok());
  ASSERT_FALSE(offered->control.offers.empty());
  const wire::offered_key key = offered->control.offers[0];

  ASSERT_GE(sodium_init(), 0);
  std::array<byte, 32> ikm{}, eph_secret{};
  ikm.fill(0x5a);
  public_key eph_public;
  ASSERT_TRUE(hpke::derive_key_pair(ikm, eph_secret, eph_public).ok());
  // A msgpack str of 4096 'x' bytes where an array of bins belongs.
  std::vector<byte> payload = {0xda, 0x10, 0x00};
  payload.resize(payload.size() + 4096, static_cast<byte>('x'));
  std::vector<byte> frame;
  const auto layout = wire::encode_data(key.id, eph_public, std::nullopt, nullptr,
                                        payload.size() + hpke::tag_size, frame);
  const std::string info = "cryptcom/1 one-time key";  // docs/PROTOCOL.md
  const byte_view info_view(reinterpret_cast<const byte*>(info.data()), info.size());
  public_key enc;
  ASSERT_TRUE(hpke::seal_base(hpke::aead_id::chacha20_poly1305, key.key, info_view,
                              layout.associated_data, payload, {eph_secret, eph_public}, enc,
                              layout.ciphertext)
                  .ok());
  sodium_memzero(eph_secret.data(), eph_secret.size());

  EXPECT_EQ(b->receive_in_place(a_id, frame, now).code(), errc::malformed_frame);
  EXPECT_FALSE(b->poll_delivery());
  EXPECT_EQ(b->stats().total.rejected_malformed, 1u);
  EXPECT_EQ(b->stats().total.keys_used, 1u) << "it opened: the key is spent";
  const std::vector<byte> some_plaintext(64, static_cast<byte>('x'));
  EXPECT_FALSE(contains(frame, some_plaintext)) << "the opened payload was wiped";
}

TEST_F(in_place_pair, a_pull_request_and_its_reply_both_open_in_place) {
  a->connect(b_id, now);
  settle_in_place();
  const std::vector<byte> question = patterned(40000, 7);
  const byte_view q(question);
  send_options pull;
  pull.use_flow = flow::pull;
  ASSERT_TRUE(a->send(b_id, std::span<const byte_view>(&q, 1), now, pull).ok());
  auto request = out(*a);
  ASSERT_EQ(request.size(), 1u);
  ASSERT_TRUE(b->receive_in_place(a_id, request[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d && d->expects_reply);
  ASSERT_EQ(d->parts.size(), 1u);
  EXPECT_TRUE(std::equal(d->parts[0].begin(), d->parts[0].end(), question.begin(), question.end()));

  const std::vector<byte> answer = patterned(50000, 8);
  const byte_view r(answer);
  ASSERT_TRUE(b->send(a_id, std::span<const byte_view>(&r, 1), now).ok());
  auto reply = out(*b);
  ASSERT_EQ(reply.size(), 1u) << "the reply is sealed to the request's reply key";
  ASSERT_TRUE(a->receive_in_place(b_id, reply[0].frame, now).ok());
  auto got = a->poll_delivery();
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->parts.size(), 1u);
  EXPECT_TRUE(std::equal(got->parts[0].begin(), got->parts[0].end(), answer.begin(), answer.end()));
  EXPECT_EQ(a->stats().live_keys, 0u) << "the reply key is destroyed once used";
}

}  // namespace
}  // namespace cryptcom
