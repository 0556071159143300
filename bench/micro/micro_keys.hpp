// What the HPKE micro-benchmarks share: X25519 key pairs (secret keys in guarded, locked memory,
// wiped and freed with their block; public keys made as HPKE's GenerateKeyPair makes them) and
// the HPKE info string.
// Not thread-safe: each benchmark owns its blocks.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string_view>

#include "cryptcom/types.hpp"

namespace cryptcom::micro {

// The `info` of every HPKE context the micro-benchmarks set up.
inline byte_view info_bytes() {
  constexpr std::string_view info = "cryptcom/bench one-time key";
  return {reinterpret_cast<const byte*>(info.data()), info.size()};
}

// `count` X25519 secret keys in guarded, locked memory; wiped and freed on destruction.
class secret_block {
 public:
  explicit secret_block(std::size_t count)
      : count_(count), bytes_(static_cast<byte*>(sodium_malloc(count * secret_key_size))) {
    if (bytes_ == nullptr) throw std::bad_alloc();
  }
  ~secret_block() { sodium_free(bytes_); }  // zeroes before freeing
  secret_block(const secret_block&) = delete;
  secret_block& operator=(const secret_block&) = delete;

  mutable_secret_key_view at(std::size_t i) {
    return mutable_secret_key_view(bytes_ + i * secret_key_size, secret_key_size);
  }
  [[nodiscard]] std::size_t count() const { return count_; }

 private:
  std::size_t count_;
  byte* bytes_;
};

// A fresh pair: 32 random bytes into `secret` and its public key.
inline public_key generate(mutable_secret_key_view secret) {
  public_key pub;
  randombytes_buf(secret.data(), secret.size());
  if (crypto_scalarmult_base(pub.bytes.data(), secret.data()) != 0) {
    throw std::runtime_error("X25519 base-point multiplication failed");
  }
  return pub;
}

}  // namespace cryptcom::micro
