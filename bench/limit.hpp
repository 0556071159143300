// The "limit" rows: what libsodium alone does per message, with no sockets at all, for the same
// payload size and in the same run as the other rows, on one thread and on several at once.
// Thread-safe (no shared state between calls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "system.hpp"

namespace cryptcom::bench {

struct limit_sample {
  // Every thread's messages over the window, together: the sum of the threads' rates, each
  // from the common start to the end of its own last message.
  double msgs_per_s = 0;
  // The cryptography on the critical path of one REQ/REP round trip when keys are generated in
  // advance: twice (request, reply) a message's work without its two key generations. Mean over
  // every thread's messages; only a one-thread run gives it undisturbed by the others.
  double crypto_path_us = 0;
  // Messages each thread completed, one entry per thread.
  std::vector<std::uint64_t> messages_per_thread;
};

// Per message: two X25519 key generations (the receiver's one-time key and the sender's
// ephemeral key), two X25519 agreements (one per side), ChaCha20-Poly1305 IETF sealing and opening
// of the payload, and ten HMAC-SHA256 calls on 32 to 64 bytes (an HPKE key schedule's worth of
// HKDF). Both ends' work is counted.
//
// `threads` threads (at least 1) each run that loop on their own buffers, all released at the
// same instant after a warm-up message each, so that their windows coincide: with one thread per
// core this measures what the cores really do together (shared caches, memory bandwidth, a
// hypervisor's scheduling), which twice the one-thread figure would only project. Each thread
// stops after bounds.window or bounds.max_messages messages, whichever comes first. Throws
// std::invalid_argument when threads < 1, std::runtime_error when a thread's work failed.
[[nodiscard]] limit_sample measure_limit(std::size_t size, const run_bounds& bounds,
                                         int threads = 1);

}  // namespace cryptcom::bench
