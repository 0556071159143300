// The "limit" row: what libsodium alone does per message, with no sockets at all, for the same
// payload size and in the same run as the other rows. Thread-safe (no shared state).
#pragma once

#include <cstddef>

#include "system.hpp"

namespace cryptcom::bench {

struct limit_sample {
  double msgs_per_s = 0;  // on the calling thread, i.e. one core
  // The cryptography on the critical path of one REQ/REP round trip when keys are generated in
  // advance: twice (request, reply) a message's work without its two key generations.
  double crypto_path_us = 0;
};

// Per message: two X25519 key generations (the receiver's one-time key and the sender's
// ephemeral key), two X25519 agreements (one per side), ChaCha20-Poly1305 IETF sealing and opening
// of the payload, and ten HMAC-SHA256 calls on 32 to 64 bytes (an HPKE key schedule's worth of
// HKDF). Both ends' work is counted, so a two-core projection is twice this figure. Runs for
// bounds.window or bounds.max_messages messages, whichever comes first.
[[nodiscard]] limit_sample measure_limit(std::size_t size, const run_bounds& bounds);

}  // namespace cryptcom::bench
