// The sealed data frame of docs/PROTOCOL.md §10, rebuilt from its stated inputs: the document and
// the code cannot drift apart, and the frame opens with the stated receiver key. (The HPKE
// underneath is checked against the RFC 9180 vectors in tests/core/crypto.)
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <string>
#include <vector>

#include "crypto/hpke.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

// The hex of the example, as docs/PROTOCOL.md shows it.
constexpr std::string_view documented_frame =
    "970102c410101112131415161718191a"
    "1b1c1d1e1fc420729d6561d2f278f4d7"
    "0a0410502f81249b75689a7b0dfeb4d4"
    "89aed6d481e362c0c0c4182d12bc523d"
    "caf5be7747024273307edcd5e5267516"
    "f6384b";

std::string hex(byte_view b) { return to_hex(b); }

TEST(protocol_example, the_documented_sealed_frame_is_what_the_code_produces_and_opens) {
  ASSERT_GE(sodium_init(), 0);
  std::array<byte, 32> ikm_r{}, ikm_e{};
  for (std::size_t i = 0; i < 32; ++i) {
    ikm_r[i] = static_cast<byte>(0xa0 + i);
    ikm_e[i] = static_cast<byte>(0xe0 + i);
  }
  std::array<byte, 32> sk_r{}, sk_e{};
  public_key pk_r, pk_e;
  ASSERT_TRUE(hpke::derive_key_pair(ikm_r, sk_r, pk_r).ok());
  ASSERT_TRUE(hpke::derive_key_pair(ikm_e, sk_e, pk_e).ok());
  guid key_id;
  for (std::size_t i = 0; i < 16; ++i) key_id.bytes[i] = static_cast<byte>(0x10 + i);

  const std::string text = "hello";
  const byte_view part(reinterpret_cast<const byte*>(text.data()), text.size());
  std::vector<byte> payload(wire::payload_size(std::span<const byte_view>(&part, 1)));
  wire::encode_payload(std::span<const byte_view>(&part, 1), payload);

  std::vector<byte> frame;
  const auto layout = wire::encode_data(key_id, pk_e, std::nullopt, nullptr,
                                        payload.size() + hpke::tag_size, frame);
  const std::string info = "cryptcom/1 one-time key";
  const byte_view info_view(reinterpret_cast<const byte*>(info.data()), info.size());
  public_key enc;
  ASSERT_TRUE(hpke::seal_base(hpke::aead_id::chacha20_poly1305, pk_r, info_view,
                              layout.associated_data, payload, {sk_e, pk_e}, enc, layout.ciphertext)
                  .ok());
  EXPECT_EQ(enc, pk_e);
  EXPECT_EQ(hex(frame), documented_frame) << "update docs/PROTOCOL.md §10 and this test together";
  std::printf("receiver pk %s\nframe %s\n", hex(pk_r.bytes).c_str(), hex(frame).c_str());

  // The frame, decoded as any peer would, opens with the receiver's key to the payload.
  auto decoded = wire::decode(frame, wire::decode_limits{});
  ASSERT_TRUE(decoded.ok());
  std::vector<byte> opened(decoded->data.ciphertext.size() - hpke::tag_size);
  ASSERT_TRUE(hpke::open_base(hpke::aead_id::chacha20_poly1305, decoded->data.enc, sk_r, pk_r,
                              info_view, decoded->data.associated_data, decoded->data.ciphertext,
                              opened)
                  .ok());
  std::vector<byte_view> parts;
  ASSERT_TRUE(wire::decode_payload(opened, wire::decode_limits{}, parts).ok());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(std::string(parts[0].begin(), parts[0].end()), "hello");
  sodium_memzero(sk_r.data(), sk_r.size());
  sodium_memzero(sk_e.data(), sk_e.size());
}

}  // namespace
}  // namespace cryptcom
