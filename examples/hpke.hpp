// hpke: single-shot HPKE base mode (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// ChaCha20-Poly1305) written from the RFC with libsodium's primitives, as anyone who reads
// docs/PROTOCOL.md §8 can. The malicious broker example uses it to open what a client sealed to
// keys the broker slipped in, and to seal it again to the worker's key: the point is that this
// takes no secret of cryptcom's, only the public specification.
//
// The keys handled here are the attacker's own one-time keys, in ordinary memory: this is the
// attacker's code, not a model for handling secrets (cryptcom's own keys live in locked memory).
// Thread-safety: free functions, reentrant.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace examples::hpke {

using key32 = std::array<unsigned char, 32>;

struct key_pair {
  key32 secret{};
  key32 public_key{};
};

inline key_pair random_key_pair() {
  key_pair k;
  randombytes_buf(k.secret.data(), k.secret.size());
  crypto_scalarmult_base(k.public_key.data(), k.secret.data());
  return k;
}

namespace detail {

inline std::string_view view(const key32& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

// HMAC-SHA256(key, data), which is also HKDF-Extract(salt = key, ikm = data) and, with a 0x01
// appended to the data, the first block of HKDF-Expand (enough: nothing here is above 32 bytes).
inline key32 hmac(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha256_state st;
  // libsodium declares the key non-null even when it is empty (an absent salt).
  static constexpr unsigned char no_key = 0;
  crypto_auth_hmacsha256_init(
      &st, key.empty() ? &no_key : reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  key32 out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

// RFC 9180 §4: LabeledExtract and LabeledExpand (length at most 32).
inline key32 labeled_extract(std::string_view salt, std::string_view suite, std::string_view label,
                             std::string_view ikm) {
  return hmac(salt, std::string("HPKE-v1").append(suite).append(label).append(ikm));
}
inline std::string labeled_expand(const key32& prk, std::string_view suite, std::string_view label,
                                  std::string_view info, std::size_t length) {
  std::string data{'\0', static_cast<char>(length)};  // I2OSP(length, 2)
  data.append("HPKE-v1").append(suite).append(label).append(info).push_back('\x01');
  return std::string(view(hmac(view(prk), data)).substr(0, length));
}

// The AEAD key and nonce of a single-shot context (base mode, sequence number 0), from the DH
// result of DHKEM(X25519) and enc || pkR.
struct context {
  std::string key;
  std::string nonce;
};
inline context key_schedule(const key32& dh, const key32& enc, const key32& pk_r,
                            std::string_view info) {
  using namespace std::string_view_literals;
  const auto kem = "KEM\x00\x20"sv;
  const auto suite = "HPKE\x00\x20\x00\x01\x00\x03"sv;
  const key32 eae_prk = labeled_extract("", kem, "eae_prk", view(dh));
  const std::string kem_context = std::string(view(enc)).append(view(pk_r));
  const std::string ss = labeled_expand(eae_prk, kem, "shared_secret", kem_context, 32);
  std::string ks_context(1, '\0');  // mode base
  ks_context.append(view(labeled_extract("", suite, "psk_id_hash", "")));
  ks_context.append(view(labeled_extract("", suite, "info_hash", info)));
  const key32 secret = labeled_extract(ss, suite, "secret", "");
  return {labeled_expand(secret, suite, "key", ks_context, 32),
          labeled_expand(secret, suite, "base_nonce", ks_context, 12)};
}

inline const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace detail

// Opens `ciphertext` (tag included) sealed to `mine`; nothing when it does not open.
inline std::optional<std::string> open(const key_pair& mine, const key32& enc,
                                       std::string_view info, std::string_view aad,
                                       std::string_view ciphertext) {
  key32 dh;
  if (ciphertext.size() < crypto_aead_chacha20poly1305_ietf_ABYTES ||
      crypto_scalarmult(dh.data(), mine.secret.data(), enc.data()) != 0) {
    return std::nullopt;
  }
  const auto c = detail::key_schedule(dh, enc, mine.public_key, info);
  std::string plain(ciphertext.size() - crypto_aead_chacha20poly1305_ietf_ABYTES, '\0');
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), nullptr, nullptr,
          detail::bytes(ciphertext), ciphertext.size(), detail::bytes(aad), aad.size(),
          detail::bytes(c.nonce), detail::bytes(c.key)) != 0) {
    return std::nullopt;
  }
  return plain;
}

// The encapsulated key a seal will use, and the seal itself: split so that a frame that carries
// `enc` inside its associated data can be written before it is sealed.
inline key_pair new_encapsulation() { return random_key_pair(); }
inline std::optional<std::string> seal(const key_pair& ephemeral, const key32& pk_r,
                                       std::string_view info, std::string_view aad,
                                       std::string_view plaintext) {
  key32 dh;
  if (crypto_scalarmult(dh.data(), ephemeral.secret.data(), pk_r.data()) != 0) return std::nullopt;
  const auto c = detail::key_schedule(dh, ephemeral.public_key, pk_r, info);
  std::string sealed(plaintext.size() + crypto_aead_chacha20poly1305_ietf_ABYTES, '\0');
  crypto_aead_chacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(sealed.data()),
                                            nullptr, detail::bytes(plaintext), plaintext.size(),
                                            detail::bytes(aad), aad.size(), nullptr,
                                            detail::bytes(c.nonce), detail::bytes(c.key));
  return sealed;
}

}  // namespace examples::hpke
