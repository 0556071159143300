// ensure_sodium(): makes sure sodium_init() has run before a libsodium primitive is used.
//
// sodium_init() picks the fastest X25519/AES-GCM implementations for this CPU and sets up the
// CPU-feature flags that crypto_aead_aes256gcm_is_available() reads, so it must run first.
// Thread-safety: safe from any thread (a function-local static; sodium_init is idempotent).
#pragma once

#include <sodium.h>

#include <cstdlib>

namespace cryptcom::hpke::detail {

inline void ensure_sodium() noexcept {
  // libsodium cannot run without a working OS random generator; nothing sensible can follow.
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();
}

}  // namespace cryptcom::hpke::detail
