// The RFC 9180 §5.1 key schedule (base and auth modes; no PSK), which turns the KEM's shared
// secret and the application's `info` into a context: AEAD key, base nonce, exporter secret.
//
// key_schedule_access is the one door into a context's private state: the key schedule fills it,
// and tests use it to reach states that cannot be produced otherwise (a sequence number at its
// limit). Nothing else should use it.
// Thread-safety: pure functions, reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/hpke.hpp"

namespace cryptcom::hpke {

// mode || psk_id_hash || info_hash
inline constexpr std::size_t key_schedule_context_size = 1 + 2 * secret_size;

// The intermediates the RFC's test vectors list; they are secrets (`secret` above all), so the
// destructor wipes them. For the vector tests only.
struct key_schedule_intermediates {
  std::array<byte, key_schedule_context_size> key_schedule_context{};
  std::array<byte, secret_size> secret{};

  key_schedule_intermediates() = default;
  key_schedule_intermediates(const key_schedule_intermediates&) = delete;
  key_schedule_intermediates& operator=(const key_schedule_intermediates&) = delete;
  ~key_schedule_intermediates();
};

// Whether the key schedule derives the exporter secret. The single-shot seal_base/open_base never
// export, and skipping it saves an HMAC per message on each side.
enum class exporter : bool { skip = false, derive = true };

// KeySchedule(mode, shared_secret, info) with empty psk and psk_id. Errors: invalid_argument for
// an unknown mode or AEAD id, unavailable for AES-256-GCM on a CPU without AES-NI. When
// `intermediates` is not null it receives key_schedule_context and secret. With exporter::skip
// the context's exporter secret stays all zero: such a context must never be exported from (the
// single-shot functions keep theirs on the stack).
//
// psk_id_hash and info_hash are public and depend only on the suite and `info`, so each thread
// remembers the last ones it computed: the engine's constant info then costs two HMACs fewer per
// message on each side.
result<context> key_schedule(mode m, aead_id aead, std::span<const byte, secret_size> shared_secret,
                             byte_view info, key_schedule_intermediates* intermediates = nullptr,
                             exporter exp = exporter::derive);

struct key_schedule_access {
  static std::span<byte, key_size> key(context& c) noexcept { return c.key_; }
  static std::span<byte, nonce_size> base_nonce(context& c) noexcept { return c.base_nonce_; }
  static std::span<byte, secret_size> exporter_secret(context& c) noexcept {
    return c.exporter_secret_;
  }
  static void set_aead(context& c, aead_id aead) noexcept { c.aead_ = aead; }
  static void set_ready(context& c) noexcept { c.ready_ = true; }
  // Tests only: to reach the sequence-number limit without 2^64 seals.
  static void set_sequence(context& c, std::uint64_t seq) noexcept { c.seq_ = seq; }
};

}  // namespace cryptcom::hpke
