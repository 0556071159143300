// Single-shot base mode (what the engine calls per message): seal_base then open_base returns
// the plaintext for empty, one-byte and 1 MiB messages, into separate buffers and in place.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "crypto/hpke.hpp"

namespace cryptcom {
namespace {

using test::test_key_pair;

constexpr std::array<byte, 11> info{'c', 'r', 'y', 'p', 't', 'c', 'o', 'm', ' ', 'v', '1'};

std::vector<byte> random_bytes(std::size_t n) {
  std::vector<byte> out(n);
  if (n > 0) randombytes_buf(out.data(), out.size());  // libsodium's pointer must not be null
  return out;
}

std::vector<hpke::aead_id> usable_aeads() {
  std::vector<hpke::aead_id> out{hpke::aead_id::chacha20_poly1305};
  if (hpke::aead_available(hpke::aead_id::aes_256_gcm)) out.push_back(hpke::aead_id::aes_256_gcm);
  return out;
}

class single_shot : public ::testing::TestWithParam<std::size_t> {};

TEST_P(single_shot, seal_base_then_open_base_round_trips_into_separate_buffers) {
  const std::size_t size = GetParam();
  for (const hpke::aead_id aead : usable_aeads()) {
    SCOPED_TRACE("aead " + std::to_string(static_cast<int>(aead)));
    const test_key_pair recipient, ephemeral;
    const std::vector<byte> pt = random_bytes(size);
    const std::vector<byte> aad = random_bytes(17);
    public_key enc;
    std::vector<byte> ct(size + hpke::tag_size);
    ASSERT_TRUE(hpke::seal_base(aead, recipient.public_value, info, aad, pt,
                                {ephemeral.secret, ephemeral.public_value}, enc, ct)
                    .ok());
    EXPECT_EQ(enc, ephemeral.public_value);
    if (size >= 16) {
      EXPECT_NE(std::vector<byte>(ct.begin(), ct.begin() + 16),
                std::vector<byte>(pt.begin(), pt.begin() + 16));
    }
    std::vector<byte> out(size, 0xEE);
    ASSERT_TRUE(
        hpke::open_base(aead, enc, recipient.secret, recipient.public_value, info, aad, ct, out)
            .ok());
    EXPECT_EQ(out, pt);
  }
}

TEST_P(single_shot, encap_ahead_then_seal_gives_the_seal_base_ciphertext) {
  const std::size_t size = GetParam();
  for (const hpke::aead_id aead : usable_aeads()) {
    SCOPED_TRACE("aead " + std::to_string(static_cast<int>(aead)));
    const test_key_pair recipient, ephemeral;
    const std::vector<byte> pt = random_bytes(size);
    const std::vector<byte> aad = random_bytes(9);
    std::array<byte, hpke::secret_size> shared{};
    public_key enc;
    ASSERT_TRUE(hpke::encap_base(recipient.public_value, {ephemeral.secret, ephemeral.public_value},
                                 shared, enc)
                    .ok());
    EXPECT_EQ(enc, ephemeral.public_value);
    std::vector<byte> ct(size + hpke::tag_size);
    ASSERT_TRUE(hpke::seal_base_encapsulated(aead, shared, info, aad, pt, ct).ok());
    std::vector<byte> reference(size + hpke::tag_size);
    public_key enc2;
    ASSERT_TRUE(hpke::seal_base(aead, recipient.public_value, info, aad, pt,
                                {ephemeral.secret, ephemeral.public_value}, enc2, reference)
                    .ok());
    EXPECT_EQ(ct, reference);
    std::vector<byte> out(size, 0xEE);
    ASSERT_TRUE(
        hpke::open_base(aead, enc, recipient.secret, recipient.public_value, info, aad, ct, out)
            .ok());
    EXPECT_EQ(out, pt);
  }
}

TEST_P(single_shot, seal_base_then_open_base_round_trips_in_place) {
  const std::size_t size = GetParam();
  for (const hpke::aead_id aead : usable_aeads()) {
    SCOPED_TRACE("aead " + std::to_string(static_cast<int>(aead)));
    const test_key_pair recipient, ephemeral;
    const std::vector<byte> original = random_bytes(size);
    std::vector<byte> buffer = original;
    buffer.resize(size + hpke::tag_size);
    public_key enc;
    ASSERT_TRUE(hpke::seal_base(aead, recipient.public_value, info, {},
                                byte_view(buffer.data(), size),
                                {ephemeral.secret, ephemeral.public_value}, enc, buffer)
                    .ok());
    // Separately sealed ciphertext under the same ephemeral key must be identical.
    std::vector<byte> reference(size + hpke::tag_size);
    public_key enc2;
    ASSERT_TRUE(hpke::seal_base(aead, recipient.public_value, info, {}, original,
                                {ephemeral.secret, ephemeral.public_value}, enc2, reference)
                    .ok());
    EXPECT_EQ(buffer, reference);
    ASSERT_TRUE(hpke::open_base(aead, enc, recipient.secret, recipient.public_value, info, {},
                                buffer, mutable_byte_view(buffer.data(), size))
                    .ok());
    EXPECT_EQ(std::vector<byte>(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size)),
              original);
  }
}

INSTANTIATE_TEST_SUITE_P(crypto, single_shot,
                         ::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{1} << 20),
                         [](const ::testing::TestParamInfo<std::size_t>& param) {
                           return "size_" + std::to_string(param.param);
                         });

}  // namespace
}  // namespace cryptcom
