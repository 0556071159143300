#include "crypto/aead.hpp"

#include <sodium.h>

#include <cstdint>

#include "crypto/sodium_ready.hpp"

namespace cryptcom::hpke {

static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == key_size);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == nonce_size);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == tag_size);
static_assert(crypto_aead_aes256gcm_KEYBYTES == key_size);
static_assert(crypto_aead_aes256gcm_NPUBBYTES == nonce_size);
static_assert(crypto_aead_aes256gcm_ABYTES == tag_size);

bool aead_available(aead_id aead) noexcept {
  detail::ensure_sodium();
  switch (aead) {
    case aead_id::chacha20_poly1305:
      return true;
    case aead_id::aes_256_gcm:
      return crypto_aead_aes256gcm_is_available() == 1;
    case aead_id::export_only:
      return true;
  }
  return false;
}

namespace detail {
namespace {

// libsodium accepts NULL for empty inputs, but a real address keeps sanitizers quiet about
// null pointers handed to memcpy-like code paths.
const byte* nonnull(byte_view v) noexcept {
  static constexpr byte empty = 0;
  return v.empty() ? &empty : v.data();
}

status check_sealable(aead_id aead) {
  switch (aead) {
    case aead_id::chacha20_poly1305:
      return status::success();
    case aead_id::aes_256_gcm:
      if (aead_available(aead)) return status::success();
      return {errc::unavailable, "AES-256-GCM needs AES-NI and PCLMUL, which this CPU lacks"};
    case aead_id::export_only:
      return {errc::invalid_argument, "an export-only HPKE context cannot seal or open"};
  }
  return {errc::invalid_argument, "unknown AEAD id"};
}

std::size_t max_message_size(aead_id aead) noexcept {
  return aead == aead_id::aes_256_gcm ? crypto_aead_aes256gcm_messagebytes_max()
                                      : crypto_aead_chacha20poly1305_ietf_messagebytes_max();
}

}  // namespace

bool overlaps_partially(byte_view a, byte_view b) noexcept {
  if (a.empty() || b.empty()) return false;
  // Integer addresses: comparing pointers into unrelated objects is unspecified.
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.data());
  const auto b0 = reinterpret_cast<std::uintptr_t>(b.data());
  if (a0 == b0) return false;
  return a0 < b0 + b.size() && b0 < a0 + a.size();
}

status aead_seal(aead_id aead, aead_key_view key, aead_nonce_view nonce, byte_view aad,
                 byte_view plaintext, mutable_byte_view ciphertext_out) {
  if (status st = check_sealable(aead); !st.ok()) return st;
  if (plaintext.size() > max_message_size(aead)) {
    return {errc::message_too_large, "plaintext above the AEAD's message limit"};
  }
  if (ciphertext_out.size() < plaintext.size() + tag_size) {
    return {errc::invalid_argument, "seal: ciphertext buffer smaller than plaintext + tag"};
  }
  if (overlaps_partially(plaintext, ciphertext_out)) {
    return {errc::invalid_argument, "seal: plaintext and ciphertext overlap but are not in place"};
  }
  unsigned long long ct_len = 0;
  int rc = -1;
  if (aead == aead_id::chacha20_poly1305) {
    rc = crypto_aead_chacha20poly1305_ietf_encrypt(
        ciphertext_out.data(), &ct_len, nonnull(plaintext), plaintext.size(), nonnull(aad),
        aad.size(), nullptr, nonce.data(), key.data());
  } else {
    rc = crypto_aead_aes256gcm_encrypt(ciphertext_out.data(), &ct_len, nonnull(plaintext),
                                       plaintext.size(), nonnull(aad), aad.size(), nullptr,
                                       nonce.data(), key.data());
  }
  if (rc != 0 || ct_len != plaintext.size() + tag_size) {
    sodium_memzero(ciphertext_out.data(), ciphertext_out.size());
    return {errc::internal, "AEAD encryption failed"};
  }
  return status::success();
}

status aead_open(aead_id aead, aead_key_view key, aead_nonce_view nonce, byte_view aad,
                 byte_view ciphertext, mutable_byte_view plaintext_out) {
  status st = check_sealable(aead);
  if (st.ok() && ciphertext.size() < tag_size) {
    st = status(errc::authentication_failed, "open: ciphertext shorter than the tag");
  }
  if (st.ok() && plaintext_out.size() < ciphertext.size() - tag_size) {
    st = status(errc::invalid_argument, "open: plaintext buffer smaller than ciphertext - tag");
  }
  if (st.ok() && overlaps_partially(ciphertext, plaintext_out)) {
    st = status(errc::invalid_argument, "open: ciphertext and plaintext overlap but not in place");
  }
  if (st.ok()) {
    unsigned long long pt_len = 0;
    int rc = -1;
    byte empty_out = 0;
    byte* const pt = plaintext_out.empty() ? &empty_out : plaintext_out.data();
    // libsodium verifies the tag before it writes any plaintext.
    if (aead == aead_id::chacha20_poly1305) {
      rc = crypto_aead_chacha20poly1305_ietf_decrypt(pt, &pt_len, nullptr, ciphertext.data(),
                                                     ciphertext.size(), nonnull(aad), aad.size(),
                                                     nonce.data(), key.data());
    } else {
      rc = crypto_aead_aes256gcm_decrypt(pt, &pt_len, nullptr, ciphertext.data(), ciphertext.size(),
                                         nonnull(aad), aad.size(), nonce.data(), key.data());
    }
    if (rc != 0 || pt_len != ciphertext.size() - tag_size) {
      st = status(errc::authentication_failed, "AEAD tag mismatch: tampered or wrong key");
    }
  }
  if (!st.ok()) sodium_memzero(plaintext_out.data(), plaintext_out.size());
  return st;
}

}  // namespace detail
}  // namespace cryptcom::hpke
