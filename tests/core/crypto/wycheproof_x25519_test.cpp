// Project Wycheproof X25519 vectors against hpke::x25519: every valid/acceptable case gives the
// expected shared secret, except the all-zero ones, which must be refused as low-order.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "crypto/hpke.hpp"

namespace cryptcom {
namespace {

using test::hex_array;
using test::hex_field;
using test::to_vector;

constexpr std::size_t wycheproof_x25519_tests = 518;
constexpr std::size_t wycheproof_all_zero_shared = 31;

TEST(crypto, x25519_agrees_with_wycheproof_and_rejects_every_all_zero_shared_secret) {
  CRYPTCOM_LOAD_VECTORS(vectors, "wycheproof/x25519_test.json");
  std::size_t agreed = 0;
  std::size_t rejected_low_order = 0;
  std::size_t total = 0;
  for (const nlohmann::json& group : vectors.at("testGroups")) {
    ASSERT_EQ(group.at("curve"), "curve25519");
    for (const nlohmann::json& tc : group.at("tests")) {
      ++total;
      SCOPED_TRACE("tcId " + std::to_string(tc.at("tcId").get<int>()));
      const std::string result = tc.at("result").get<std::string>();
      ASSERT_TRUE(result == "valid" || result == "acceptable") << result;
      public_key peer;
      peer.bytes = hex_array<32>(tc, "public");
      const auto secret = hex_array<secret_key_size>(tc, "private");
      const std::vector<byte> expected = hex_field(tc, "shared");
      std::array<byte, 32> shared;
      shared.fill(0xAA);
      const status st = hpke::x25519(secret, peer, shared);
      if (std::all_of(expected.begin(), expected.end(), [](byte b) { return b == 0; })) {
        EXPECT_EQ(st.code(), errc::low_order_point);
        EXPECT_EQ(to_vector(shared), std::vector<byte>(32, 0)) << "output not wiped on failure";
        ++rejected_low_order;
      } else {
        ASSERT_TRUE(st.ok()) << st.to_string();
        EXPECT_EQ(to_vector(shared), expected);
        ++agreed;
      }
    }
  }
  EXPECT_EQ(total, wycheproof_x25519_tests);
  EXPECT_EQ(rejected_low_order, wycheproof_all_zero_shared);
  EXPECT_EQ(agreed, wycheproof_x25519_tests - wycheproof_all_zero_shared);
}

}  // namespace
}  // namespace cryptcom
