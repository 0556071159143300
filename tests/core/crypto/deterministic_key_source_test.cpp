// make_deterministic_key_source: the same seed replays the same pairs, and every pair is a real
// X25519 pair (pk = X25519(sk, 9), computed here by libsodium directly).
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "cryptcom/key_source.hpp"
#include "crypto/hpke.hpp"

namespace cryptcom {
namespace {

struct pair_bytes {
  std::array<byte, secret_key_size> secret{};
  public_key public_value;
};

std::vector<pair_bytes> draw(std::uint64_t seed, std::size_t n) {
  const auto source = make_deterministic_key_source(seed);
  std::vector<pair_bytes> out(n);
  for (pair_bytes& p : out) p.public_value = source->next(p.secret);
  return out;
}

TEST(crypto, the_same_seed_gives_the_same_key_pairs_in_the_same_order) {
  const auto a = draw(42, 8);
  const auto b = draw(42, 8);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].secret, b[i].secret) << i;
    EXPECT_EQ(a[i].public_value, b[i].public_value) << i;
  }
}

TEST(crypto, every_deterministic_public_key_is_the_base_point_times_its_secret) {
  ASSERT_GE(sodium_init(), 0);
  for (const pair_bytes& p : draw(7, 16)) {
    public_key expected;
    ASSERT_EQ(crypto_scalarmult_base(expected.bytes.data(), p.secret.data()), 0);
    EXPECT_EQ(p.public_value, expected);
  }
}

TEST(crypto, deterministic_pairs_differ_between_draws_and_between_seeds) {
  std::set<std::array<byte, public_key_size>> seen;
  for (std::uint64_t seed : {0ULL, 1ULL, 42ULL}) {
    for (const pair_bytes& p : draw(seed, 10)) seen.insert(p.public_value.bytes);
  }
  EXPECT_EQ(seen.size(), 30u);
}

TEST(crypto, deterministic_pairs_are_rfc9180_derive_key_pair_over_seed_and_counter) {
  const auto pairs = draw(0x1122334455667788ULL, 3);
  for (std::uint64_t counter = 0; counter < pairs.size(); ++counter) {
    // ikm = I2OSP(seed, 8) || I2OSP(counter, 8), as documented by the source.
    std::array<byte, 16> ikm{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    ikm[15] = static_cast<byte>(counter);
    pair_bytes expected;
    ASSERT_TRUE(hpke::derive_key_pair(ikm, expected.secret, expected.public_value).ok());
    EXPECT_EQ(pairs[counter].secret, expected.secret);
    EXPECT_EQ(pairs[counter].public_value, expected.public_value);
  }
}

}  // namespace
}  // namespace cryptcom
