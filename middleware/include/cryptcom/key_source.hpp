// cryptcom::key_source: where the engine gets fresh X25519 key pairs.
//
// Key generation is the cost centre of one-time keys, so the engine never calls X25519 key
// generation itself: it asks a key_source. Production uses a key_pool that pre-generates pairs on
// background threads; tests use a deterministic source so simulations replay exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "cryptcom/types.hpp"

namespace cryptcom {

class key_source {
 public:
  virtual ~key_source() = default;
  // Writes a fresh private key into `secret_out` (which must be locked memory owned by the
  // caller) and returns its public key. The source keeps no copy: its own slot is zeroed.
  // Thread-safety: depends on the implementation (key_pool: any thread).
  virtual public_key next(mutable_secret_key_view secret_out) = 0;
};

struct key_pool_options {
  // Pairs kept ready. Default: 1024.
  std::size_t capacity = 1024;
  // Refill starts when fewer than this many pairs are ready. Default: 768.
  std::size_t low_watermark = 768;
  // Background threads generating keys; 0 means the caller's thread generates on demand.
  // Default: 1.
  std::size_t threads = 1;

  bool operator==(const key_pool_options&) const = default;
};

struct key_pool_stats {
  std::uint64_t generated = 0;         // pairs made by the background threads
  std::uint64_t generated_inline = 0;  // pairs made on the caller's thread because the pool was dry
  std::uint64_t taken = 0;             // pairs handed out
  std::size_t ready = 0;               // pairs ready right now
  bool fully_locked = true;  // false when RLIMIT_MEMLOCK kept the pool's memory from being locked
};

// A thread-safe, bounded pool of pre-generated pairs in locked memory. Destroying it stops and
// joins its threads and zeroes every unused private key.
class key_pool : public key_source {
 public:
  virtual key_pool_stats stats() const = 0;
};

std::unique_ptr<key_pool> make_key_pool(const key_pool_options& options);

// Derives pairs from a seed (RFC 9180 DeriveKeyPair over a counter). Tests and simulations only.
std::unique_ptr<key_source> make_deterministic_key_source(std::uint64_t seed);

}  // namespace cryptcom
