// engine::send(message_parts): a message handed over with an owner of its bytes is sealed from
// those bytes (no copy), held until the peer acknowledges it, re-sealed from them after a
// rejection, shared by several sends, and handed back by withdraw() with its owner. Two real
// engines back to back (real libsodium), on virtual time.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/engine/engine_pair.hpp"
#include "cryptcom/engine.hpp"

namespace cryptcom {
namespace {

using namespace std::chrono_literals;

using testing::a_id;
using testing::b_id;

using owned_send = testing::engine_pair;

// The application's message: parts it hands over, whose bytes the test can watch.
struct app_message {
  std::vector<std::vector<byte>> parts;
};

std::shared_ptr<app_message> make_message() {
  auto m = std::make_shared<app_message>();
  std::vector<byte> large(1 << 20);
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<byte>(i * 7 + i / 4096);
  m->parts.push_back(std::vector<byte>{'h', 'e', 'a', 'd'});
  m->parts.push_back({});  // an empty part
  m->parts.push_back(std::move(large));
  return m;
}

message_parts handed(const std::shared_ptr<app_message>& m) {
  message_parts out;
  for (const auto& p : m->parts) out.parts.emplace_back(p);
  out.owner = m;
  return out;
}

bool same_parts(const std::vector<byte_view>& got, const app_message& want) {
  if (got.size() != want.parts.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!std::equal(got[i].begin(), got[i].end(), want.parts[i].begin(), want.parts[i].end())) {
      return false;
    }
  }
  return true;
}

TEST_F(owned_send, a_message_handed_over_is_held_until_acknowledged_and_arrives_whole) {
  a->connect(b_id, now);
  settle();
  auto message = make_message();
  const auto expected = *message;  // what must arrive, and what the owner must still hold
  const std::weak_ptr<app_message> watch = message;
  ASSERT_TRUE(a->send(b_id, handed(message), now).ok());
  message.reset();  // the caller lets go: the engine's reference keeps the bytes
  ASSERT_FALSE(watch.expired()) << "released before the peer acknowledged";

  auto data = out(*a);
  ASSERT_EQ(data.size(), 1u);
  // Sealed: the large part does not appear in the frame.
  const std::string frame(data[0].frame.begin(), data[0].frame.end());
  const std::string sample(expected.parts[2].begin() + 1000, expected.parts[2].begin() + 1064);
  EXPECT_EQ(frame.find(sample), std::string::npos);
  ASSERT_TRUE(b->receive(a_id, data[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_TRUE(same_parts(d->parts, expected));
  EXPECT_FALSE(watch.expired()) << "no acknowledgement yet";
  EXPECT_TRUE(same_parts(handed(watch.lock()).parts, expected)) << "the engine wrote the bytes";

  now += opts.ack_delay + 1ms;
  b->tick(now);
  settle();
  EXPECT_EQ(a->stats().unacknowledged, 0u);
  EXPECT_TRUE(watch.expired()) << "the acknowledged message's owner is still held";
}

TEST_F(owned_send, a_message_whose_key_expired_in_flight_is_resealed_from_the_same_owner) {
  opts.key_ttl = 10s;
  opts.expiry_margin = 1s;
  make_engines();
  a->connect(b_id, now);
  settle();
  auto message = make_message();
  const auto expected = *message;
  const std::weak_ptr<app_message> watch = message;
  ASSERT_TRUE(a->send(b_id, handed(message), now).ok());
  message.reset();
  auto data = out(*a);
  ASSERT_EQ(data.size(), 1u);
  now += 11s;  // the frame was in flight longer than the key lived
  b->tick(now);
  EXPECT_EQ(b->receive(a_id, data[0].frame, now).code(), errc::expired_key);
  EXPECT_FALSE(b->poll_delivery());
  auto reject = out(*b);
  ASSERT_EQ(reject.size(), 1u);
  ASSERT_TRUE(a->receive(b_id, reject[0].frame, now).ok());
  ASSERT_FALSE(watch.expired()) << "a rejected message must still be re-sealable";
  settle();
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_TRUE(same_parts(d->parts, expected));
  EXPECT_EQ(a->stats().total.messages_resent, 1u);
  now += opts.ack_delay + 1ms;
  b->tick(now);
  settle();
  EXPECT_TRUE(watch.expired());
}

TEST_F(owned_send, one_owner_backs_several_sends_and_goes_with_the_last) {
  a->connect(b_id, now);
  settle();
  auto message = make_message();
  const auto expected = *message;
  const std::weak_ptr<app_message> watch = message;
  const message_parts parts = handed(message);
  message.reset();
  ASSERT_TRUE(a->send(b_id, parts, now).ok());
  ASSERT_TRUE(a->send(b_id, parts, now).ok());
  EXPECT_EQ(watch.use_count(), 3) << "the caller's and one per message";
  auto data = out(*a);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_NE(data[0].frame, data[1].frame) << "each copy has its own key";
  for (auto& t : data) {
    ASSERT_TRUE(b->receive(a_id, t.frame, now).ok());
    auto d = b->poll_delivery();
    ASSERT_TRUE(d);
    EXPECT_TRUE(same_parts(d->parts, expected));
  }
  now += opts.ack_delay + 1ms;
  b->tick(now);
  settle();
  EXPECT_EQ(watch.use_count(), 1) << "only the caller's reference is left";
}

TEST_F(owned_send, withdraw_hands_back_the_owner_and_views_of_its_own_bytes) {
  auto message = make_message();
  const app_message* bytes = message.get();
  ASSERT_TRUE(a->send(b_id, handed(message), now).ok());  // no keys yet: queued
  auto back = a->withdraw(b_id, {}, now);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].owner.get(), static_cast<const void*>(bytes));
  ASSERT_EQ(back[0].parts.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[0].parts[i].data(), bytes->parts[i].data()) << "part " << i << " was copied";
  }
  EXPECT_EQ(message.use_count(), 2) << "the caller's and the withdrawn message's";
  back.clear();
  EXPECT_EQ(message.use_count(), 1);
  // Re-sent elsewhere (here: to B again, once it offers keys) it still arrives whole.
  const auto expected = *message;
  message_parts again = handed(message);
  message.reset();
  ASSERT_TRUE(a->send(b_id, std::move(again), now).ok());
  settle();
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_TRUE(same_parts(d->parts, expected));
}

TEST_F(owned_send, a_lent_message_is_copied_so_the_caller_may_reuse_its_buffer_at_once) {
  std::vector<byte> buffer{'l', 'e', 'n', 't'};
  const byte_view part(buffer);
  ASSERT_TRUE(a->send(b_id, std::span<const byte_view>(&part, 1), now).ok());
  buffer.assign(buffer.size(), 'x');
  auto back = a->withdraw(b_id, {}, now);
  ASSERT_EQ(back.size(), 1u);
  ASSERT_NE(back[0].owner, nullptr) << "the engine's copy";
  ASSERT_EQ(back[0].parts.size(), 1u);
  EXPECT_EQ(std::string(back[0].parts[0].begin(), back[0].parts[0].end()), "lent");
}

TEST_F(owned_send, a_message_without_an_owner_or_over_the_limits_is_refused_and_not_held) {
  auto message = make_message();
  message_parts no_owner = handed(message);
  no_owner.owner.reset();
  EXPECT_EQ(a->send(b_id, std::move(no_owner), now).error().code(), errc::invalid_argument);

  opts.max_message_size = 1000;
  make_engines();
  EXPECT_EQ(a->send(b_id, handed(message), now).error().code(), errc::message_too_large);
  EXPECT_EQ(message.use_count(), 1) << "a refused message's owner is not kept";
  message_parts none;
  none.owner = message;
  EXPECT_EQ(a->send(b_id, std::move(none), now).error().code(),
            errc::invalid_argument);  // no parts
  EXPECT_EQ(message.use_count(), 1);
}

TEST_F(owned_send, an_undeliverable_message_releases_its_owner) {
  opts.delivery_timeout = 2s;
  make_engines();
  auto message = make_message();
  const std::weak_ptr<app_message> watch = message;
  ASSERT_TRUE(a->send(b_id, handed(message), now).ok());
  message.reset();
  (void)out(*a);  // B never answers
  for (int i = 0; i < 100 && !watch.expired(); ++i) {
    now += 100ms;
    a->tick(now);
    (void)out(*a);
  }
  EXPECT_TRUE(watch.expired());
  bool told = false;
  for (const auto& e : events(*a)) told |= e.kind == event_kind::message_undeliverable;
  EXPECT_TRUE(told);
}

}  // namespace
}  // namespace cryptcom

namespace cryptcom {
namespace {

using recycled_frames = testing::engine_pair;

TEST_F(recycled_frames, a_large_frame_given_back_is_written_again_and_small_ones_are_not_kept) {
  a->connect(b_id, now);
  settle();
  auto message = make_message();
  const auto expected = *message;
  ASSERT_TRUE(a->send(b_id, handed(message), now).ok());
  auto first = out(*a);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(b->receive(a_id, first[0].frame, now).ok());
  ASSERT_TRUE(b->poll_delivery());
  const byte* buffer = first[0].frame.data();
  a->recycle(std::move(first[0].frame));
  a->recycle(std::vector<byte>(100));  // too small to be worth keeping

  ASSERT_TRUE(a->send(b_id, handed(message), now).ok());
  auto second = out(*a);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].frame.data(), buffer) << "the given-back buffer was not reused";
  ASSERT_TRUE(b->receive(a_id, second[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_TRUE(same_parts(d->parts, expected));

  // A small message gets a buffer of its own; the large one given back waits for a large frame.
  a->recycle(std::move(second[0].frame));
  ASSERT_TRUE(send_text(*a, b_id, "small").ok());
  auto third = out(*a);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_NE(third[0].frame.data(), buffer);
  ASSERT_TRUE(b->receive(a_id, third[0].frame, now).ok());
  d = b->poll_delivery();
  ASSERT_TRUE(d);
  EXPECT_EQ(std::string(d->parts[0].begin(), d->parts[0].end()), "small");
}

}  // namespace
}  // namespace cryptcom
