// RFC 9180 Appendix A test vectors (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256), read from the
// shared vectors folder: every key-schedule value, all 257 encryptions and all exports.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "crypto/hpke.hpp"
#include "crypto/key_schedule.hpp"

namespace cryptcom {
namespace {

using test::hex_array;
using test::hex_field;
using test::to_vector;

constexpr int kem_id = 32;
constexpr int kdf_id = 1;
constexpr std::size_t encryptions_per_entry = 257;  // sequence numbers 0..256
constexpr std::size_t exports_per_entry = 3;

struct entry_counts {
  std::size_t entries = 0;
  std::size_t key_pairs = 0;
  std::size_t encryptions = 0;
  std::size_t exports = 0;
};

struct derived_pair {
  std::array<byte, secret_key_size> secret{};
  public_key public_value;
};

void derive_and_check(const nlohmann::json& entry, const char* ikm, const char* sk, const char* pk,
                      derived_pair& out, entry_counts& counts) {
  SCOPED_TRACE(ikm);
  ASSERT_TRUE(hpke::derive_key_pair(hex_field(entry, ikm), out.secret, out.public_value).ok());
  EXPECT_EQ(to_vector(out.secret), hex_field(entry, sk));
  EXPECT_EQ(to_vector(out.public_value.bytes), hex_field(entry, pk));
  ++counts.key_pairs;
}

void check_entry(const nlohmann::json& entry, entry_counts& counts) {
  const auto m = static_cast<hpke::mode>(entry.at("mode").get<int>());
  const auto aead = static_cast<hpke::aead_id>(entry.at("aead_id").get<int>());
  const bool auth = m == hpke::mode::auth;
  const std::vector<byte> info = hex_field(entry, "info");

  derived_pair e, r, s;
  ASSERT_NO_FATAL_FAILURE(derive_and_check(entry, "ikmE", "skEm", "pkEm", e, counts));
  ASSERT_NO_FATAL_FAILURE(derive_and_check(entry, "ikmR", "skRm", "pkRm", r, counts));
  if (auth) {
    ASSERT_NO_FATAL_FAILURE(derive_and_check(entry, "ikmS", "skSm", "pkSm", s, counts));
  }

  const hpke::ephemeral_key ephemeral{e.secret, e.public_value};
  public_key enc;
  std::array<byte, hpke::secret_size> sender_shared{};
  std::array<byte, hpke::secret_size> recipient_shared{};
  result<hpke::context> sender =
      auth ? hpke::setup_auth_sender(aead, r.public_value, info, ephemeral, s.secret,
                                     s.public_value, enc, sender_shared)
           : hpke::setup_base_sender(aead, r.public_value, info, ephemeral, enc, sender_shared);
  ASSERT_TRUE(sender.ok()) << sender.error().to_string();
  public_key vector_enc;
  vector_enc.bytes = hex_array<32>(entry, "enc");
  result<hpke::context> recipient =
      auth ? hpke::setup_auth_recipient(aead, vector_enc, r.secret, r.public_value, info,
                                        s.public_value, recipient_shared)
           : hpke::setup_base_recipient(aead, vector_enc, r.secret, r.public_value, info,
                                        recipient_shared);
  ASSERT_TRUE(recipient.ok()) << recipient.error().to_string();

  EXPECT_EQ(to_vector(enc.bytes), hex_field(entry, "enc"));
  EXPECT_EQ(to_vector(sender_shared), hex_field(entry, "shared_secret"));
  EXPECT_EQ(to_vector(recipient_shared), hex_field(entry, "shared_secret"));

  // The key schedule on its own, from the vector's shared secret, exposes the intermediates.
  hpke::key_schedule_intermediates intermediates;
  const auto vector_shared = hex_array<hpke::secret_size>(entry, "shared_secret");
  result<hpke::context> scheduled =
      hpke::key_schedule(m, aead, vector_shared, info, &intermediates);
  ASSERT_TRUE(scheduled.ok()) << scheduled.error().to_string();
  EXPECT_EQ(to_vector(intermediates.key_schedule_context),
            hex_field(entry, "key_schedule_context"));
  EXPECT_EQ(to_vector(intermediates.secret), hex_field(entry, "secret"));

  for (const hpke::context* ctx : {&*sender, &*recipient, &*scheduled}) {
    EXPECT_EQ(to_vector(ctx->exporter_secret()), hex_field(entry, "exporter_secret"));
    if (aead == hpke::aead_id::export_only) {
      // The RFC lists empty key and base_nonce for export-only suites.
      EXPECT_TRUE(hex_field(entry, "key").empty());
      EXPECT_TRUE(hex_field(entry, "base_nonce").empty());
    } else {
      EXPECT_EQ(to_vector(ctx->key()), hex_field(entry, "key"));
      EXPECT_EQ(to_vector(ctx->base_nonce()), hex_field(entry, "base_nonce"));
    }
  }

  // All encryptions in order on one context per side: exercises ComputeNonce up to seq 256.
  for (const nlohmann::json& encryption : entry.at("encryptions")) {
    const std::vector<byte> aad = hex_field(encryption, "aad");
    const std::vector<byte> pt = hex_field(encryption, "pt");
    const std::vector<byte> ct = hex_field(encryption, "ct");
    ASSERT_EQ(sender->sequence(), counts.encryptions % encryptions_per_entry);
    std::vector<byte> sealed(pt.size() + hpke::tag_size);
    ASSERT_TRUE(sender->seal(aad, pt, sealed).ok());
    EXPECT_EQ(sealed, ct) << "seq " << sender->sequence() - 1;
    std::vector<byte> opened(ct.size() - hpke::tag_size);
    ASSERT_TRUE(recipient->open(aad, ct, opened).ok()) << "seq " << recipient->sequence();
    EXPECT_EQ(opened, pt);
    ++counts.encryptions;
  }
  if (aead == hpke::aead_id::export_only) {
    std::array<byte, 4 + hpke::tag_size> out{};
    const std::array<byte, 4> pt{1, 2, 3, 4};
    EXPECT_EQ(sender->seal({}, pt, out).code(), errc::invalid_argument);
  }

  for (const nlohmann::json& exp : entry.at("exports")) {
    const std::vector<byte> exporter_context = hex_field(exp, "exporter_context");
    const std::vector<byte> expected = hex_field(exp, "exported_value");
    const auto length = exp.at("L").get<std::size_t>();
    ASSERT_EQ(expected.size(), length);
    std::vector<byte> from_sender(length), from_recipient(length);
    ASSERT_TRUE(sender->export_secret(exporter_context, from_sender).ok());
    ASSERT_TRUE(recipient->export_secret(exporter_context, from_recipient).ok());
    EXPECT_EQ(from_sender, expected);
    EXPECT_EQ(from_recipient, expected);
    ++counts.exports;
  }
  ++counts.entries;
}

// Checks the one entry for (mode, aead) and returns what was checked.
entry_counts check_vectors(const nlohmann::json& vectors, int mode, int aead) {
  entry_counts counts;
  for (const nlohmann::json& entry : vectors) {
    if (entry.at("kem_id") != kem_id || entry.at("kdf_id") != kdf_id || entry.at("mode") != mode ||
        entry.at("aead_id") != aead) {
      continue;
    }
    SCOPED_TRACE("mode " + std::to_string(mode) + ", aead " + std::to_string(aead));
    check_entry(entry, counts);
  }
  return counts;
}

void expect_full_entry(const entry_counts& counts, bool auth, bool export_only) {
  EXPECT_EQ(counts.entries, 1u);
  EXPECT_EQ(counts.key_pairs, auth ? 3u : 2u);
  EXPECT_EQ(counts.encryptions, export_only ? 0u : encryptions_per_entry);
  EXPECT_EQ(counts.exports, exports_per_entry);
}

TEST(crypto, rfc9180_base_mode_chacha20_poly1305_vectors_all_match) {
  CRYPTCOM_LOAD_VECTORS(vectors, "hpke-x25519-sha256.json");
  expect_full_entry(check_vectors(vectors, 0, 3), false, false);
}

TEST(crypto, rfc9180_auth_mode_chacha20_poly1305_vectors_all_match) {
  CRYPTCOM_LOAD_VECTORS(vectors, "hpke-x25519-sha256.json");
  expect_full_entry(check_vectors(vectors, 2, 3), true, false);
}

TEST(crypto, rfc9180_base_mode_aes_256_gcm_vectors_all_match) {
  if (!hpke::aead_available(hpke::aead_id::aes_256_gcm)) {
    GTEST_SKIP() << "AES-256-GCM is not available on this CPU (libsodium needs AES-NI + PCLMUL)";
  }
  CRYPTCOM_LOAD_VECTORS(vectors, "hpke-x25519-sha256.json");
  expect_full_entry(check_vectors(vectors, 0, 2), false, false);
}

TEST(crypto, rfc9180_auth_mode_aes_256_gcm_vectors_all_match) {
  if (!hpke::aead_available(hpke::aead_id::aes_256_gcm)) {
    GTEST_SKIP() << "AES-256-GCM is not available on this CPU (libsodium needs AES-NI + PCLMUL)";
  }
  CRYPTCOM_LOAD_VECTORS(vectors, "hpke-x25519-sha256.json");
  expect_full_entry(check_vectors(vectors, 2, 2), true, false);
}

TEST(crypto, rfc9180_base_mode_export_only_vectors_all_match) {
  CRYPTCOM_LOAD_VECTORS(vectors, "hpke-x25519-sha256.json");
  expect_full_entry(check_vectors(vectors, 0, 65535), false, true);
}

TEST(crypto, rfc9180_auth_mode_export_only_vectors_all_match) {
  CRYPTCOM_LOAD_VECTORS(vectors, "hpke-x25519-sha256.json");
  expect_full_entry(check_vectors(vectors, 2, 65535), true, true);
}

}  // namespace
}  // namespace cryptcom
