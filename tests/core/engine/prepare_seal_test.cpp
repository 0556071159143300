// engine::prepare_seal (issue 15): the next message's ephemeral key and X25519 agreement done
// ahead, so that a REQ's request and a REP's reply are sealed with the key schedule and the AEAD
// alone. Two engines back to back on virtual time; A's keys come through a source that counts
// what it hands out, so a test sees whether a seal still made its own agreement.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/engine/engine_pair.hpp"
#include "cryptcom/engine.hpp"

namespace cryptcom {
namespace {

using testing::a_id;
using testing::b_id;

std::string string_of(byte_view b) { return {b.begin(), b.end()}; }

// Forwards to another source, counting the pairs handed out.
class counting_keys final : public key_source {
 public:
  explicit counting_keys(key_source& inner) : inner_(inner) {}
  public_key next(mutable_secret_key_view secret_out) override {
    ++taken;
    return inner_.next(secret_out);
  }
  std::size_t taken = 0;

 private:
  key_source& inner_;
};

class prepare_fixture : public testing::engine_pair {
 protected:
  void SetUp() override {
    engine_pair::SetUp();
    counted = std::make_unique<counting_keys>(*keys_a);
    a = std::make_unique<engine>(opts, *counted, *rand_a, now);
  }

  // Carries A's frames to B and B's to A, once each way.
  void carry() {
    for (auto& t : out(*a)) ASSERT_TRUE(b->receive(a_id, t.frame, now).ok());
    for (auto& t : out(*b)) ASSERT_TRUE(a->receive(b_id, t.frame, now).ok());
  }

  std::unique_ptr<counting_keys> counted;
};

TEST_F(prepare_fixture, a_request_after_prepare_seal_makes_no_agreement_and_opens) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "first", flow::pull).ok());
  carry();
  ASSERT_TRUE(b->poll_delivery());
  ASSERT_TRUE(send_text(*b, a_id, "one").ok());
  carry();
  ASSERT_TRUE(a->poll_delivery());

  a->prepare_seal(b_id, now);
  const std::size_t before = counted->taken;
  ASSERT_TRUE(send_text(*a, b_id, "second", flow::pull).ok());
  EXPECT_EQ(counted->taken, before + 1) << "only the reply key: the ephemeral key came earlier";
  EXPECT_EQ(a->stats().total.seals_prepared, 1u);
  EXPECT_EQ(a->stats().total.messages_sealed, 2u);

  auto request = out(*a);
  ASSERT_EQ(request.size(), 1u);
  ASSERT_TRUE(b->receive(a_id, request[0].frame, now).ok());
  auto d = b->poll_delivery();
  ASSERT_TRUE(d && d->expects_reply);
  EXPECT_EQ(string_of(d->parts[0]), "second");

  // B, as a REP: the reply's agreement with the reply key that just came, done before the
  // application answers.
  b->prepare_seal(a_id, now);
  ASSERT_TRUE(send_text(*b, a_id, "two").ok());
  EXPECT_EQ(b->stats().total.seals_prepared, 1u);
  carry();
  auto r = a->poll_delivery();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(string_of(r->parts[0]), "two");
  EXPECT_EQ(a->stats().total.rejected_total(), 0u);
  EXPECT_EQ(b->stats().total.rejected_total(), 0u);
}

TEST_F(prepare_fixture, an_agreement_for_a_key_the_seal_does_not_take_is_dropped) {
  a->connect(b_id, now);
  b->connect(a_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "push", flow::push).ok());
  carry();
  ASSERT_TRUE(b->poll_delivery());
  a->prepare_seal(b_id, now);  // for B's oldest offered key
  const std::size_t prepared_at = counted->taken;

  // B asks; A's answer takes the reply key B gave, not the key prepared for.
  ASSERT_TRUE(send_text(*b, a_id, "question", flow::pull).ok());
  for (auto& t : out(*b)) ASSERT_TRUE(a->receive(b_id, t.frame, now).ok());
  ASSERT_TRUE(a->poll_delivery());
  ASSERT_TRUE(send_text(*a, b_id, "answer").ok());
  EXPECT_EQ(counted->taken, prepared_at + 1) << "the answer made its own ephemeral key";
  // The next message takes the key prepared for: that agreement was dropped with the mismatch,
  // so this seal makes its own too.
  ASSERT_TRUE(send_text(*a, b_id, "later", flow::push).ok());
  EXPECT_EQ(counted->taken, prepared_at + 2);
  EXPECT_EQ(a->stats().total.seals_prepared, 0u);

  for (auto& t : out(*a)) ASSERT_TRUE(b->receive(a_id, t.frame, now).ok());
  auto first = b->poll_delivery();
  auto second = b->poll_delivery();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(string_of(first->parts[0]), "answer");
  EXPECT_EQ(string_of(second->parts[0]), "later");
  EXPECT_EQ(b->stats().total.rejected_total(), 0u);
}

TEST_F(prepare_fixture, nothing_is_prepared_without_a_peer_or_its_keys) {
  a->prepare_seal(b_id, now);  // an unknown peer
  EXPECT_EQ(counted->taken, 0u);
  ASSERT_TRUE(send_text(*a, b_id, "queued").ok());  // no key of B's yet: waits
  a->prepare_seal(b_id, now);
  EXPECT_EQ(counted->taken, 0u);
  settle();  // keys come, the message is sealed (its own agreement) and delivered
  ASSERT_TRUE(b->poll_delivery());
  EXPECT_EQ(a->stats().total.seals_prepared, 0u);
}

TEST_F(prepare_fixture, a_peer_disconnected_takes_its_prepared_agreement_with_it) {
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "hello", flow::push).ok());
  carry();
  a->prepare_seal(b_id, now);
  const std::size_t prepared_at = counted->taken;
  a->disconnect(b_id, now);
  // B again under the same id, with fresh offers: nothing of the old agreement is used, and
  // nothing is prepared for a peer we hold no key of.
  a->prepare_seal(b_id, now);
  EXPECT_EQ(counted->taken, prepared_at);
  b = std::make_unique<engine>(opts, *keys_b, *rand_b, now);
  a->connect(b_id, now);
  settle();
  ASSERT_TRUE(send_text(*a, b_id, "again", flow::push).ok());
  carry();
  auto d = b->poll_delivery();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(string_of(d->parts[0]), "again");
  EXPECT_EQ(a->stats().total.seals_prepared, 0u);
}

}  // namespace
}  // namespace cryptcom
