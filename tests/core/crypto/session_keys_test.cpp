// The authenticated mode's derivations (docs/PROTOCOL.md §12.3): both ends reach the same keys
// from their own secrets, each key binds everything the transcript names, and the two
// directions differ.
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>

#include "crypto/session_keys.hpp"

namespace cryptcom::auth {
namespace {

struct pair {
  std::array<byte, 32> secret{};
  public_key pub;
  pair() {
    randombytes_buf(secret.data(), secret.size());
    crypto_scalarmult_base(pub.bytes.data(), secret.data());
  }
};

guid random_guid() {
  guid g;
  randombytes_buf(g.bytes.data(), g.bytes.size());
  return g;
}

struct keys {
  std::array<byte, 32> ir{}, ri{}, init{};
};

keys derive(const std::array<byte, 32>& own, const public_key& peer, const transcript& t) {
  std::array<byte, 32> prk{};
  EXPECT_TRUE(derive_prk(own, peer, prk).ok());
  keys k;
  derive_initiate_key(prk, t, k.init);
  derive_session_keys(prk, t, k.ir, k.ri);
  return k;
}

TEST(session_keys, both_ends_derive_the_same_keys_and_the_directions_differ) {
  ASSERT_GE(sodium_init(), 0);
  const pair i, r;
  const transcript t{i.pub, r.pub, random_guid(), random_guid(), random_guid(), random_guid()};
  const keys at_i = derive(i.secret, r.pub, t);
  const keys at_r = derive(r.secret, i.pub, t);
  EXPECT_EQ(at_i.ir, at_r.ir);
  EXPECT_EQ(at_i.ri, at_r.ri);
  EXPECT_EQ(at_i.init, at_r.init);
  EXPECT_NE(at_i.ir, at_i.ri);
  EXPECT_NE(at_i.init, at_i.ir);
}

TEST(session_keys, every_transcript_field_changes_the_session_keys) {
  const pair i, r;
  const transcript base{i.pub, r.pub, random_guid(), random_guid(), random_guid(), random_guid()};
  const keys k0 = derive(i.secret, r.pub, base);
  for (int field = 0; field < 6; ++field) {
    transcript t = base;
    switch (field) {
      case 0:
        t.initiator.bytes[0] ^= 1;
        break;
      case 1:
        t.responder.bytes[0] ^= 1;
        break;
      case 2:
        t.initiator_instance.bytes[0] ^= 1;
        break;
      case 3:
        t.responder_instance.bytes[0] ^= 1;
        break;
      case 4:
        t.initiator_nonce.bytes[0] ^= 1;
        break;
      default:
        t.responder_nonce.bytes[0] ^= 1;
        break;
    }
    const keys k = derive(i.secret, r.pub, t);
    SCOPED_TRACE(field);
    EXPECT_NE(k.ir, k0.ir);
    EXPECT_NE(k.ri, k0.ri);
    // The initiate's key binds only what the initiator knows when it sends it.
    if (field == 3 || field == 5) {
      EXPECT_EQ(k.init, k0.init);
    } else {
      EXPECT_NE(k.init, k0.init);
    }
  }
}

TEST(session_keys, swapping_the_roles_gives_other_keys) {
  const pair i, r;
  const transcript t{i.pub, r.pub, random_guid(), random_guid(), random_guid(), random_guid()};
  const transcript swapped{r.pub,
                           i.pub,
                           t.responder_instance,
                           t.initiator_instance,
                           t.responder_nonce,
                           t.initiator_nonce};
  const keys k = derive(i.secret, r.pub, t);
  const keys s = derive(r.secret, i.pub, swapped);
  EXPECT_NE(k.ir, s.ri);
  EXPECT_NE(k.ri, s.ir);
}

TEST(session_keys, mac_verifies_only_the_same_bytes_under_the_same_key) {
  std::array<byte, 32> key{};
  randombytes_buf(key.data(), key.size());
  const std::array<byte, 5> data = {1, 2, 3, 4, 5};
  std::array<byte, mac_size> tag{};
  mac(key, data, tag);
  EXPECT_TRUE(verify(key, data, tag));
  std::array<byte, 5> other = data;
  other[4] ^= 1;
  EXPECT_FALSE(verify(key, other, tag));
  key[0] ^= 1;
  EXPECT_FALSE(verify(key, data, tag));
  EXPECT_FALSE(verify(key, data, byte_view(tag).first(31)));
}

TEST(session_keys, an_all_zero_agreement_is_refused) {
  const pair i;
  const public_key zero;  // the identity point: X25519 gives all zeros
  std::array<byte, 32> prk{};
  EXPECT_EQ(derive_prk(i.secret, zero, prk).code(), errc::low_order_point);
}

}  // namespace
}  // namespace cryptcom::auth
