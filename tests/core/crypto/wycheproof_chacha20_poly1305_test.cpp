// Project Wycheproof ChaCha20-Poly1305 vectors (96-bit IV groups) against the AEAD layer HPKE
// uses: valid cases seal to ct || tag and open back; invalid ones never open.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "crypto/aead.hpp"

namespace cryptcom {
namespace {

using test::hex_array;
using test::hex_field;

constexpr std::size_t wycheproof_iv96_valid = 256;
constexpr std::size_t wycheproof_iv96_invalid = 60;

TEST(crypto, chacha20_poly1305_agrees_with_wycheproof_and_refuses_every_invalid_case) {
  CRYPTCOM_LOAD_VECTORS(vectors, "wycheproof/chacha20_poly1305_test.json");
  std::size_t valid = 0;
  std::size_t invalid = 0;
  for (const nlohmann::json& group : vectors.at("testGroups")) {
    // libsodium's IETF construction takes exactly a 96-bit nonce; other sizes are not expressible.
    if (group.at("ivSize") != 96) continue;
    ASSERT_EQ(group.at("keySize"), 256);
    ASSERT_EQ(group.at("tagSize"), 128);
    for (const nlohmann::json& tc : group.at("tests")) {
      SCOPED_TRACE("tcId " + std::to_string(tc.at("tcId").get<int>()));
      const auto key = hex_array<hpke::key_size>(tc, "key");
      const auto iv = hex_array<hpke::nonce_size>(tc, "iv");
      const std::vector<byte> aad = hex_field(tc, "aad");
      const std::vector<byte> msg = hex_field(tc, "msg");
      std::vector<byte> ct_tag = hex_field(tc, "ct");
      const std::vector<byte> tag = hex_field(tc, "tag");
      ct_tag.insert(ct_tag.end(), tag.begin(), tag.end());

      const std::string result = tc.at("result").get<std::string>();
      std::vector<byte> opened(ct_tag.size() >= hpke::tag_size ? ct_tag.size() - hpke::tag_size : 0,
                               0x5A);
      const status open_st =
          hpke::detail::aead_open(hpke::aead_id::chacha20_poly1305, key, iv, aad, ct_tag, opened);
      if (result == "valid") {
        std::vector<byte> sealed(msg.size() + hpke::tag_size);
        ASSERT_TRUE(
            hpke::detail::aead_seal(hpke::aead_id::chacha20_poly1305, key, iv, aad, msg, sealed)
                .ok());
        EXPECT_EQ(sealed, ct_tag);
        ASSERT_TRUE(open_st.ok()) << open_st.to_string();
        EXPECT_EQ(opened, msg);
        ++valid;
      } else {
        ASSERT_EQ(result, "invalid");
        EXPECT_EQ(open_st.code(), errc::authentication_failed);
        EXPECT_EQ(opened, std::vector<byte>(opened.size(), 0)) << "output not wiped on failure";
        ++invalid;
      }
    }
  }
  EXPECT_EQ(valid, wycheproof_iv96_valid);
  EXPECT_EQ(invalid, wycheproof_iv96_invalid);
}

}  // namespace
}  // namespace cryptcom
