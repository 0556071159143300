// cryptcom::random_source: the one place the core gets randomness from.
//
// Injected into the engine so tests can be deterministic (deterministic_random) while production
// uses the operating system's generator through libsodium, drawn in bulk (system_random).
// Thread-safety: an instance is used by one thread at a time unless stated otherwise.
#pragma once

#include <cstdint>
#include <memory>

#include "cryptcom/types.hpp"

namespace cryptcom {

class random_source {
 public:
  virtual ~random_source() = default;
  // Fills `out` with random bytes. Never fails (libsodium aborts if the OS cannot deliver).
  virtual void fill(mutable_byte_view out) = 0;

  guid next_guid() {
    guid g;
    fill(g.bytes);
    return g;
  }
};

// libsodium's randombytes_buf, drawn 4 KiB at a time so a GUID costs no system call. The buffer
// holds only non-secret randomness (GUIDs, jitter); secret keys are drawn by libsodium directly.
std::unique_ptr<random_source> make_system_random();

// A reproducible stream from a 64-bit seed (ChaCha20 keystream). For tests and simulations only:
// keys made from it are predictable.
std::unique_ptr<random_source> make_deterministic_random(std::uint64_t seed);

}  // namespace cryptcom
