// hpke::context behaviour that the vectors do not reach: misuse is refused, the sequence number
// has a hard limit, the nonce is base_nonce XOR seq at large sequence numbers, the exporter's
// length bound, and in-place sealing on a multi-message context.
#include <gtest/gtest.h>

#include <limits>
#include <utility>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "crypto/hpke.hpp"
#include "crypto/key_schedule.hpp"

namespace cryptcom {
namespace {

using test::test_key_pair;

struct context_pair {
  test_key_pair recipient, ephemeral;
  public_key enc;
  result<hpke::context> sender = status(errc::internal, "not set up");
  result<hpke::context> receiver = status(errc::internal, "not set up");

  explicit context_pair(hpke::aead_id aead) {
    const std::array<byte, 3> info{'c', 'c', '1'};
    sender = hpke::setup_base_sender(aead, recipient.public_value, info,
                                     {ephemeral.secret, ephemeral.public_value}, enc);
    receiver =
        hpke::setup_base_recipient(aead, enc, recipient.secret, recipient.public_value, info);
  }
};

std::vector<hpke::aead_id> usable_aeads() {
  std::vector<hpke::aead_id> out{hpke::aead_id::chacha20_poly1305};
  if (hpke::aead_available(hpke::aead_id::aes_256_gcm)) out.push_back(hpke::aead_id::aes_256_gcm);
  return out;
}

TEST(crypto, a_context_that_was_never_set_up_refuses_everything_and_zeroes_open_output) {
  hpke::context ctx;
  const std::array<byte, 4> pt{1, 2, 3, 4};
  std::array<byte, 4 + hpke::tag_size> ct{};
  EXPECT_EQ(ctx.seal({}, pt, ct).code(), errc::invalid_argument);
  std::array<byte, 4> out{9, 9, 9, 9};
  EXPECT_EQ(ctx.open({}, ct, out).code(), errc::invalid_argument);
  EXPECT_EQ(out, (std::array<byte, 4>{}));
  std::array<byte, 32> exported{};
  EXPECT_EQ(ctx.export_secret({}, exported).code(), errc::invalid_argument);
}

TEST(crypto, a_moved_from_context_is_wiped_and_the_moved_to_one_works) {
  context_pair p(hpke::aead_id::chacha20_poly1305);
  ASSERT_TRUE(p.sender.ok() && p.receiver.ok());
  hpke::context moved = std::move(*p.sender);
  const std::vector<byte> zeros(32, 0);
  EXPECT_EQ(test::to_vector(p.sender->key()), zeros);
  EXPECT_EQ(test::to_vector(p.sender->exporter_secret()), zeros);
  const std::array<byte, 4> pt{1, 2, 3, 4};
  std::array<byte, 4 + hpke::tag_size> ct{};
  EXPECT_EQ(p.sender->seal({}, pt, ct).code(), errc::invalid_argument);
  ASSERT_TRUE(moved.seal({}, pt, ct).ok());
  std::array<byte, 4> out{};
  ASSERT_TRUE(p.receiver->open({}, ct, out).ok());
  EXPECT_EQ(out, pt);
}

TEST(crypto, the_sequence_number_limit_is_an_error_not_a_wraparound) {
  context_pair p(hpke::aead_id::chacha20_poly1305);
  ASSERT_TRUE(p.sender.ok() && p.receiver.ok());
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  hpke::key_schedule_access::set_sequence(*p.sender, max - 1);
  hpke::key_schedule_access::set_sequence(*p.receiver, max - 1);
  const std::array<byte, 4> pt{1, 2, 3, 4};
  std::array<byte, 4 + hpke::tag_size> ct{};
  ASSERT_TRUE(p.sender->seal({}, pt, ct).ok());
  EXPECT_EQ(p.sender->sequence(), max);
  EXPECT_EQ(p.sender->seal({}, pt, ct).code(), errc::limit_exceeded);
  EXPECT_EQ(p.sender->sequence(), max);

  std::array<byte, 4> out{};
  ASSERT_TRUE(p.receiver->open({}, ct, out).ok());
  EXPECT_EQ(out, pt);
  out.fill(7);
  EXPECT_EQ(p.receiver->open({}, ct, out).code(), errc::limit_exceeded);
  EXPECT_EQ(out, (std::array<byte, 4>{}));
}

TEST(crypto, the_nonce_at_a_large_sequence_number_is_base_nonce_xor_the_big_endian_counter) {
  for (const hpke::aead_id aead : usable_aeads()) {
    context_pair p(aead);
    ASSERT_TRUE(p.sender.ok());
    const std::uint64_t seq = 0x0102030405060708ULL;
    hpke::key_schedule_access::set_sequence(*p.sender, seq);
    const std::array<byte, 5> pt{'h', 'e', 'l', 'l', 'o'};
    const std::array<byte, 2> aad{'a', 'd'};
    std::array<byte, pt.size() + hpke::tag_size> ct{}, expected{};
    ASSERT_TRUE(p.sender->seal(aad, pt, ct).ok());

    // RFC 9180 §5.2, computed here and handed to libsodium directly.
    std::array<byte, hpke::nonce_size> nonce{};
    std::copy(p.sender->base_nonce().begin(), p.sender->base_nonce().end(), nonce.begin());
    for (std::size_t i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<byte>(seq >> (8 * i));
    unsigned long long len = 0;
    if (aead == hpke::aead_id::chacha20_poly1305) {
      crypto_aead_chacha20poly1305_ietf_encrypt(expected.data(), &len, pt.data(), pt.size(),
                                                aad.data(), aad.size(), nullptr, nonce.data(),
                                                p.sender->key().data());
    } else {
      crypto_aead_aes256gcm_encrypt(expected.data(), &len, pt.data(), pt.size(), aad.data(),
                                    aad.size(), nullptr, nonce.data(), p.sender->key().data());
    }
    EXPECT_EQ(ct, expected) << "aead " << static_cast<int>(aead);
  }
}

TEST(crypto, export_accepts_up_to_255_hash_lengths_and_refuses_more) {
  context_pair p(hpke::aead_id::chacha20_poly1305);
  ASSERT_TRUE(p.sender.ok() && p.receiver.ok());
  std::vector<byte> a(255 * 32), b(255 * 32);
  ASSERT_TRUE(p.sender->export_secret({}, a).ok());
  ASSERT_TRUE(p.receiver->export_secret({}, b).ok());
  EXPECT_EQ(a, b);
  // The first 32 bytes of a longer export equal a 32-byte export only if L is not bound in:
  // RFC 9180 binds L (I2OSP(L, 2) in LabeledExpand), so they must differ.
  std::vector<byte> short_export(32);
  ASSERT_TRUE(p.sender->export_secret({}, short_export).ok());
  EXPECT_NE(short_export, std::vector<byte>(a.begin(), a.begin() + 32));
  std::vector<byte> too_long(255 * 32 + 1);
  EXPECT_EQ(p.sender->export_secret({}, too_long).code(), errc::invalid_argument);
}

TEST(crypto, many_messages_sealed_and_opened_in_place_on_one_context_round_trip) {
  for (const hpke::aead_id aead : usable_aeads()) {
    context_pair p(aead);
    ASSERT_TRUE(p.sender.ok() && p.receiver.ok());
    for (std::size_t n = 0; n < 40; ++n) {
      std::vector<byte> original(n * 7);
      for (std::size_t i = 0; i < original.size(); ++i) original[i] = static_cast<byte>(i ^ n);
      std::vector<byte> buffer = original;
      buffer.resize(original.size() + hpke::tag_size);
      const std::array<byte, 1> aad{static_cast<byte>(n)};
      ASSERT_TRUE(p.sender->seal(aad, byte_view(buffer.data(), original.size()), buffer).ok());
      ASSERT_TRUE(
          p.receiver->open(aad, buffer, mutable_byte_view(buffer.data(), original.size())).ok());
      EXPECT_EQ(std::vector<byte>(buffer.begin(), buffer.begin() + original.size()), original);
    }
    EXPECT_EQ(p.sender->sequence(), 40u);
    EXPECT_EQ(p.receiver->sequence(), 40u);
  }
}

TEST(crypto, caller_misuse_of_buffers_is_invalid_argument) {
  context_pair p(hpke::aead_id::chacha20_poly1305);
  ASSERT_TRUE(p.sender.ok() && p.receiver.ok());
  std::vector<byte> buffer(64 + hpke::tag_size, 1);
  // Output too small for plaintext + tag.
  EXPECT_EQ(p.sender
                ->seal({}, byte_view(buffer.data(), 64),
                       mutable_byte_view(buffer.data() + 64, hpke::tag_size - 1))
                .code(),
            errc::invalid_argument);
  // Overlapping but not in place.
  EXPECT_EQ(p.sender
                ->seal({}, byte_view(buffer.data(), 32),
                       mutable_byte_view(buffer.data() + 1, 32 + hpke::tag_size))
                .code(),
            errc::invalid_argument);
  EXPECT_EQ(p.sender->sequence(), 0u);
  // Wrong-sized shared-secret output.
  std::array<byte, 31> short_secret{};
  public_key enc;
  result<hpke::context> r =
      hpke::setup_base_sender(hpke::aead_id::chacha20_poly1305, p.recipient.public_value, {},
                              {p.ephemeral.secret, p.ephemeral.public_value}, enc, short_secret);
  EXPECT_EQ(r.error().code(), errc::invalid_argument);
  // Plaintext output too small for open: refused, and what is there is zeroed.
  std::array<byte, 3> small{7, 7, 7};
  EXPECT_EQ(p.receiver->open({}, buffer, small).code(), errc::invalid_argument);
  EXPECT_EQ(small, (std::array<byte, 3>{}));
}

TEST(crypto, an_unknown_aead_id_is_invalid_argument) {
  const test_key_pair recipient, ephemeral;
  public_key enc;
  result<hpke::context> r =
      hpke::setup_base_sender(static_cast<hpke::aead_id>(0x0001), recipient.public_value, {},
                              {ephemeral.secret, ephemeral.public_value}, enc);
  EXPECT_EQ(r.error().code(), errc::invalid_argument);
}

}  // namespace
}  // namespace cryptcom
