// The RFC 9180 suite identifiers that domain-separate every labeled HKDF call.
// KEM operations use "KEM" || kem_id; the key schedule and exporter use
// "HPKE" || kem_id || kdf_id || aead_id (RFC 9180 §4.1 and §5.1).
// Thread-safety: constants and a pure function.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/hpke.hpp"

namespace cryptcom::hpke::detail {

inline constexpr std::array<byte, 5> kem_suite_id = {'K', 'E', 'M',
                                                     static_cast<byte>(kem_x25519_sha256 >> 8),
                                                     static_cast<byte>(kem_x25519_sha256 & 0xFF)};

using hpke_suite_id_bytes = std::array<byte, 10>;

constexpr hpke_suite_id_bytes hpke_suite_id(aead_id aead) noexcept {
  const auto aead_value = static_cast<std::uint16_t>(aead);
  return {'H',
          'P',
          'K',
          'E',
          static_cast<byte>(kem_x25519_sha256 >> 8),
          static_cast<byte>(kem_x25519_sha256 & 0xFF),
          static_cast<byte>(kdf_hkdf_sha256 >> 8),
          static_cast<byte>(kdf_hkdf_sha256 & 0xFF),
          static_cast<byte>(aead_value >> 8),
          static_cast<byte>(aead_value & 0xFF)};
}

}  // namespace cryptcom::hpke::detail
