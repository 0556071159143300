// Fail closed: any change to what was sealed, or the wrong key, makes open fail and leaves the
// output all zeros, so no caller can ever see unauthenticated plaintext.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "crypto/hpke.hpp"

namespace cryptcom {
namespace {

using test::test_key_pair;

constexpr byte marker = 0xCC;

bool all_zero(byte_view v) {
  return std::all_of(v.begin(), v.end(), [](byte b) { return b == 0; });
}

std::vector<byte> pattern(std::size_t n, byte seed) {
  std::vector<byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<byte>(seed + i * 31);
  return out;
}

// One sealed message and everything needed to open it.
struct sealed_message {
  test_key_pair recipient;
  test_key_pair ephemeral;
  std::vector<byte> info = pattern(24, 1);
  std::vector<byte> aad = pattern(20, 2);
  std::vector<byte> plaintext = pattern(100, 3);
  public_key enc;
  std::vector<byte> ciphertext;

  explicit sealed_message(hpke::aead_id aead = hpke::aead_id::chacha20_poly1305) {
    ciphertext.resize(plaintext.size() + hpke::tag_size);
    const hpke::ephemeral_key eph{ephemeral.secret, ephemeral.public_value};
    const status st =
        hpke::seal_base(aead, recipient.public_value, info, aad, plaintext, eph, enc, ciphertext);
    if (!st.ok()) throw std::runtime_error(st.to_string());
  }

  // Opens with the given (possibly altered) pieces into a marker-filled buffer.
  status open(const public_key& e, byte_view a, byte_view ct, std::vector<byte>& out,
              hpke::aead_id aead = hpke::aead_id::chacha20_poly1305) const {
    out.assign(ct.size() >= hpke::tag_size ? ct.size() - hpke::tag_size : plaintext.size(), marker);
    return hpke::open_base(aead, e, recipient.secret, recipient.public_value, info, a, ct, out);
  }
};

TEST(crypto, the_untouched_message_opens_so_the_failures_below_mean_something) {
  const sealed_message msg;
  std::vector<byte> out;
  ASSERT_TRUE(msg.open(msg.enc, msg.aad, msg.ciphertext, out).ok());
  EXPECT_EQ(out, msg.plaintext);
}

TEST(crypto, a_flipped_bit_anywhere_in_enc_fails_open_and_leaves_zeros) {
  const sealed_message msg;
  std::size_t checked = 0;
  for (std::size_t bit = 0; bit < 8 * public_key_size; ++bit) {
    public_key enc = msg.enc;
    enc.bytes[bit / 8] ^= static_cast<byte>(1u << (bit % 8));
    std::vector<byte> out;
    const status st = msg.open(enc, msg.aad, msg.ciphertext, out);
    EXPECT_FALSE(st.ok()) << "bit " << bit;
    EXPECT_TRUE(all_zero(out)) << "bit " << bit;
    ++checked;
  }
  EXPECT_EQ(checked, 256u);
}

TEST(crypto, a_flipped_bit_anywhere_in_ciphertext_or_tag_fails_open_and_leaves_zeros) {
  const sealed_message msg;
  std::size_t checked = 0;
  for (std::size_t bit = 0; bit < 8 * msg.ciphertext.size(); ++bit) {
    std::vector<byte> ct = msg.ciphertext;
    ct[bit / 8] ^= static_cast<byte>(1u << (bit % 8));
    std::vector<byte> out;
    EXPECT_EQ(msg.open(msg.enc, msg.aad, ct, out).code(), errc::authentication_failed)
        << "bit " << bit;
    EXPECT_TRUE(all_zero(out)) << "bit " << bit;
    ++checked;
  }
  EXPECT_EQ(checked, 8 * (100 + hpke::tag_size));
}

TEST(crypto, a_flipped_bit_anywhere_in_aad_fails_open_and_leaves_zeros) {
  const sealed_message msg;
  std::size_t checked = 0;
  for (std::size_t bit = 0; bit < 8 * msg.aad.size(); ++bit) {
    std::vector<byte> aad = msg.aad;
    aad[bit / 8] ^= static_cast<byte>(1u << (bit % 8));
    std::vector<byte> out;
    EXPECT_EQ(msg.open(msg.enc, aad, msg.ciphertext, out).code(), errc::authentication_failed)
        << "bit " << bit;
    EXPECT_TRUE(all_zero(out)) << "bit " << bit;
    ++checked;
  }
  EXPECT_EQ(checked, 8 * 20u);
}

TEST(crypto, a_truncated_or_extended_ciphertext_fails_open_and_leaves_zeros) {
  const sealed_message msg;
  std::vector<byte> out;
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, hpke::tag_size - 1, hpke::tag_size,
                          msg.ciphertext.size() - 1}) {
    const byte_view ct(msg.ciphertext.data(), len);
    EXPECT_FALSE(msg.open(msg.enc, msg.aad, ct, out).ok()) << "length " << len;
    EXPECT_TRUE(all_zero(out)) << "length " << len;
  }
  std::vector<byte> longer = msg.ciphertext;
  longer.push_back(0);
  EXPECT_EQ(msg.open(msg.enc, msg.aad, longer, out).code(), errc::authentication_failed);
  EXPECT_TRUE(all_zero(out));
}

TEST(crypto, the_wrong_recipient_key_fails_open_and_leaves_zeros) {
  const sealed_message msg;
  const test_key_pair other;
  std::vector<byte> out(msg.plaintext.size(), marker);
  const status st = hpke::open_base(hpke::aead_id::chacha20_poly1305, msg.enc, other.secret,
                                    other.public_value, msg.info, msg.aad, msg.ciphertext, out);
  EXPECT_EQ(st.code(), errc::authentication_failed);
  EXPECT_TRUE(all_zero(out));

  // The right private key with a wrong public key changes the KEM context: also refused.
  out.assign(msg.plaintext.size(), marker);
  const status st2 =
      hpke::open_base(hpke::aead_id::chacha20_poly1305, msg.enc, msg.recipient.secret,
                      other.public_value, msg.info, msg.aad, msg.ciphertext, out);
  EXPECT_EQ(st2.code(), errc::authentication_failed);
  EXPECT_TRUE(all_zero(out));
}

TEST(crypto, a_different_info_string_fails_open_and_leaves_zeros) {
  const sealed_message msg;
  std::vector<byte> info = msg.info;
  info.back() ^= 1;
  std::vector<byte> out(msg.plaintext.size(), marker);
  const status st = hpke::open_base(hpke::aead_id::chacha20_poly1305, msg.enc, msg.recipient.secret,
                                    msg.recipient.public_value, info, msg.aad, msg.ciphertext, out);
  EXPECT_EQ(st.code(), errc::authentication_failed);
  EXPECT_TRUE(all_zero(out));
}

TEST(crypto, a_failed_open_in_place_leaves_the_whole_buffer_zero) {
  const sealed_message msg;
  std::vector<byte> buffer = msg.ciphertext;
  buffer[5] ^= 0x10;
  const status st = hpke::open_base(
      hpke::aead_id::chacha20_poly1305, msg.enc, msg.recipient.secret, msg.recipient.public_value,
      msg.info, msg.aad, buffer, mutable_byte_view(buffer.data(), buffer.size() - hpke::tag_size));
  EXPECT_EQ(st.code(), errc::authentication_failed);
  EXPECT_TRUE(all_zero(byte_view(buffer.data(), buffer.size() - hpke::tag_size)));
}

TEST(crypto, a_low_order_enc_is_refused_as_low_order_and_leaves_zeros) {
  const sealed_message msg;
  public_key zero_point;  // u = 0: a low-order point, X25519 with it gives all zeros
  std::vector<byte> out;
  EXPECT_EQ(msg.open(zero_point, msg.aad, msg.ciphertext, out).code(), errc::low_order_point);
  EXPECT_TRUE(all_zero(out));
}

TEST(crypto, sealing_to_a_low_order_recipient_key_is_refused) {
  const test_key_pair ephemeral;
  public_key low_order;
  low_order.bytes[0] = 1;  // u = 1: a low-order point, X25519 with it gives all zeros
  public_key enc;
  std::array<byte, 4 + hpke::tag_size> ct{};
  const std::array<byte, 4> pt{1, 2, 3, 4};
  const status st = hpke::seal_base(hpke::aead_id::chacha20_poly1305, low_order, {}, {}, pt,
                                    {ephemeral.secret, ephemeral.public_value}, enc, ct);
  EXPECT_EQ(st.code(), errc::low_order_point);
}

TEST(crypto, encapsulating_ahead_to_a_low_order_key_is_refused_and_leaves_no_secret) {
  const test_key_pair ephemeral;
  public_key low_order;
  low_order.bytes[0] = 1;
  std::array<byte, hpke::secret_size> shared;
  shared.fill(0xAA);
  public_key enc;
  const status st =
      hpke::encap_base(low_order, {ephemeral.secret, ephemeral.public_value}, shared, enc);
  EXPECT_EQ(st.code(), errc::low_order_point);
  EXPECT_TRUE(all_zero(shared));
}

TEST(crypto, auth_mode_refuses_a_message_checked_against_the_wrong_sender) {
  const test_key_pair recipient, ephemeral, sender, impostor;
  const std::vector<byte> info = pattern(8, 9), aad = pattern(8, 10), pt = pattern(40, 11);
  public_key enc;
  result<hpke::context> s = hpke::setup_auth_sender(
      hpke::aead_id::chacha20_poly1305, recipient.public_value, info,
      {ephemeral.secret, ephemeral.public_value}, sender.secret, sender.public_value, enc);
  ASSERT_TRUE(s.ok());
  std::vector<byte> ct(pt.size() + hpke::tag_size);
  ASSERT_TRUE(s->seal(aad, pt, ct).ok());

  result<hpke::context> wrong =
      hpke::setup_auth_recipient(hpke::aead_id::chacha20_poly1305, enc, recipient.secret,
                                 recipient.public_value, info, impostor.public_value);
  ASSERT_TRUE(wrong.ok());
  std::vector<byte> out(pt.size(), marker);
  EXPECT_EQ(wrong->open(aad, ct, out).code(), errc::authentication_failed);
  EXPECT_TRUE(all_zero(out));

  result<hpke::context> right =
      hpke::setup_auth_recipient(hpke::aead_id::chacha20_poly1305, enc, recipient.secret,
                                 recipient.public_value, info, sender.public_value);
  ASSERT_TRUE(right.ok());
  ASSERT_TRUE(right->open(aad, ct, out).ok());
  EXPECT_EQ(out, pt);
}

TEST(crypto, a_failed_open_does_not_advance_the_sequence_so_the_genuine_message_still_opens) {
  const test_key_pair recipient, ephemeral;
  public_key enc;
  result<hpke::context> s =
      hpke::setup_base_sender(hpke::aead_id::chacha20_poly1305, recipient.public_value, {},
                              {ephemeral.secret, ephemeral.public_value}, enc);
  ASSERT_TRUE(s.ok());
  result<hpke::context> r = hpke::setup_base_recipient(
      hpke::aead_id::chacha20_poly1305, enc, recipient.secret, recipient.public_value, {});
  ASSERT_TRUE(r.ok());
  const std::vector<byte> pt = pattern(33, 4);
  std::vector<byte> ct(pt.size() + hpke::tag_size);
  ASSERT_TRUE(s->seal({}, pt, ct).ok());
  std::vector<byte> tampered = ct;
  tampered.back() ^= 0x80;
  std::vector<byte> out(pt.size(), marker);
  EXPECT_FALSE(r->open({}, tampered, out).ok());
  EXPECT_EQ(r->sequence(), 0u);
  ASSERT_TRUE(r->open({}, ct, out).ok());
  EXPECT_EQ(out, pt);
  EXPECT_EQ(r->sequence(), 1u);
}

}  // namespace
}  // namespace cryptcom
