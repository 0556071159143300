// Vocabulary types shared by every layer: byte views, GUIDs, public keys, time.
// Thread-safety: plain values.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace cryptcom {

using byte = std::uint8_t;
// A borrowed read-only byte range; the owner keeps it alive for the duration of the call.
using byte_view = std::span<const byte>;
using mutable_byte_view = std::span<byte>;

// Time is always passed in (sans-I/O). Any steady clock origin works; tests use a virtual one.
using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

inline constexpr std::size_t guid_size = 16;
inline constexpr std::size_t public_key_size = 32;
inline constexpr std::size_t secret_key_size = 32;

// A 128-bit random identifier: names one one-time key, or one endpoint instance.
// Not secret: compared with ==, printed in hex.
struct guid {
  std::array<byte, guid_size> bytes{};

  friend bool operator==(const guid&, const guid&) = default;
  bool is_zero() const noexcept;
  std::string hex() const;        // 32 lowercase hex digits
  std::string short_hex() const;  // first 8 hex digits, for log lines
};

// An X25519 public key (not secret).
struct public_key {
  std::array<byte, public_key_size> bytes{};

  friend bool operator==(const public_key&, const public_key&) = default;
};

// A view of a 32-byte X25519 private key that lives in locked memory owned by someone else
// (a key store slot, a key pool slot). Never copy its bytes anywhere but another locked slot.
using secret_key_view = std::span<const byte, secret_key_size>;
using mutable_secret_key_view = std::span<byte, secret_key_size>;

// Lowercase hex of any byte range (for GUIDs and public data only, never secrets).
std::string to_hex(byte_view bytes);

}  // namespace cryptcom

template <>
struct std::hash<cryptcom::guid> {
  std::size_t operator()(const cryptcom::guid& g) const noexcept {
    // GUIDs are uniformly random, so their first bytes are already a good hash. Peers choose
    // GUIDs they send us, so tables keyed by a *peer's* GUID must not rely on this alone.
    std::size_t h = 0;
    for (std::size_t i = 0; i < sizeof(h); ++i) h = (h << 8) | g.bytes[i];
    return h;
  }
};
