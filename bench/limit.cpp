#include "limit.hpp"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <latch>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace cryptcom::bench {
namespace {

using clock = std::chrono::steady_clock;
using bytes32 = std::array<unsigned char, 32>;

constexpr int k_hmac_calls = 10;
constexpr std::size_t k_header_bytes = 24;  // stands in for the envelope header used as AD

void x25519_keypair(bytes32& secret, bytes32& public_key) {
  randombytes_buf(secret.data(), secret.size());
  crypto_scalarmult_base(public_key.data(), secret.data());
}

void agree(bytes32& shared, const bytes32& secret, const bytes32& peer_public) {
  if (crypto_scalarmult(shared.data(), secret.data(), peer_public.data()) != 0) {
    throw std::runtime_error("X25519 agreement gave the all-zero point");
  }
}

// Work stays on stack temporaries that are wiped each message, as real code must do.
struct per_message_secrets {
  bytes32 receiver_secret{}, receiver_public{};
  bytes32 sender_secret{}, sender_public{};
  bytes32 sender_shared{}, receiver_shared{};
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> chain{};
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> next{};
  std::array<unsigned char, 64> schedule_input{};

  ~per_message_secrets() { sodium_memzero(this, sizeof *this); }
};

// Returns when the key generations were done, so that the caller can time the rest: the part
// of a message that remains on the critical path when keys are generated in advance.
clock::time_point one_message(const std::vector<unsigned char>& plaintext,
                              std::vector<unsigned char>& sealed,
                              std::vector<unsigned char>& opened,
                              const std::array<unsigned char, k_header_bytes>& header) {
  per_message_secrets s;
  x25519_keypair(s.receiver_secret, s.receiver_public);
  x25519_keypair(s.sender_secret, s.sender_public);
  const auto keys_ready = clock::now();
  agree(s.sender_shared, s.sender_secret, s.receiver_public);
  agree(s.receiver_shared, s.receiver_secret, s.sender_public);

  // A chain of HMACs on 32 to 64 byte inputs, each keyed by the previous output, ending in the
  // AEAD key: the shape, though not the labels, of HKDF-Extract/Expand in an HPKE key schedule.
  s.chain = s.sender_shared;
  for (int i = 0; i < k_hmac_calls; ++i) {
    const std::size_t input_length = 32 + static_cast<std::size_t>(i % 2) * 32;
    s.schedule_input[0] = static_cast<unsigned char>(i);
    std::copy(s.receiver_shared.begin(), s.receiver_shared.end(), s.schedule_input.begin() + 1);
    crypto_auth_hmacsha256(s.next.data(), s.schedule_input.data(), input_length, s.chain.data());
    s.chain = s.next;
  }
  static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES <= crypto_auth_hmacsha256_BYTES);
  // HPKE's nonce for the first message of a context is the base nonce; any fixed value will do
  // here.
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};

  unsigned long long sealed_length = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(sealed.data(), &sealed_length, plaintext.data(),
                                            plaintext.size(), header.data(), header.size(), nullptr,
                                            nonce.data(), s.chain.data());
  unsigned long long opened_length = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(opened.data(), &opened_length, nullptr,
                                                sealed.data(), sealed_length, header.data(),
                                                header.size(), nonce.data(), s.chain.data()) != 0 ||
      opened_length != plaintext.size()) {
    throw std::runtime_error("limit: opening our own ciphertext failed");
  }
  return keys_ready;
}

// One thread's buffers: nothing the threads touch per message is shared.
struct message_buffers {
  explicit message_buffers(std::size_t size)
      : plaintext(size), sealed(size + crypto_aead_chacha20poly1305_ietf_ABYTES), opened(size) {
    randombytes_buf(plaintext.data(), plaintext.size());
    randombytes_buf(header.data(), header.size());
  }

  std::vector<unsigned char> plaintext;
  std::vector<unsigned char> sealed;
  std::vector<unsigned char> opened;
  std::array<unsigned char, k_header_bytes> header{};
};

// What one thread did; written by that thread only, read by the caller after joining it.
struct thread_tally {
  std::uint64_t messages = 0;
  clock::duration elapsed{};     // from the common start to the end of its last message
  clock::duration after_keys{};  // summed over its messages
  std::exception_ptr error;
};

// The common start: written by the caller before it opens `go`, read by the threads after it
// opened, so the latch orders the write before every read.
struct start_line {
  std::latch ready;  // every thread has its buffers and one message behind it
  std::latch go{1};  // opened once, by the caller
  clock::time_point start{};
  bool abandoned = false;  // the caller could not start every thread: nobody measures

  explicit start_line(int threads) : ready(threads) {}
};

void run_thread(std::size_t size, const run_bounds& bounds, start_line& line, thread_tally& tally) {
  std::optional<message_buffers> buffers;
  try {
    buffers.emplace(size);
    // Warms caches and code paths, and faults in this thread's buffers, before the window.
    one_message(buffers->plaintext, buffers->sealed, buffers->opened, buffers->header);
  } catch (...) {
    tally.error = std::current_exception();
  }
  line.ready.count_down();
  line.go.wait();
  if (tally.error || line.abandoned) return;
  try {
    const auto start = line.start;
    const auto deadline = start + bounds.window;
    auto now = clock::now();
    // One message costs at least ~100 us, so reading the clock each time costs nothing
    // measurable.
    while (tally.messages < bounds.max_messages && now < deadline) {
      const auto keys_ready =
          one_message(buffers->plaintext, buffers->sealed, buffers->opened, buffers->header);
      ++tally.messages;
      now = clock::now();
      tally.after_keys += now - keys_ready;
    }
    tally.elapsed = now - start;
    if (buffers->opened != buffers->plaintext) {
      throw std::runtime_error("limit: round trip changed the payload");
    }
  } catch (...) {
    tally.error = std::current_exception();
  }
}

}  // namespace

limit_sample measure_limit(std::size_t size, const run_bounds& bounds, int threads) {
  if (threads < 1) throw std::invalid_argument("limit: needs at least one thread");
  const auto count = static_cast<std::size_t>(threads);
  std::vector<thread_tally> tallies(count);
  start_line line(threads);
  {
    std::vector<std::jthread> workers;
    workers.reserve(count);
    try {
      for (auto& tally : tallies) {
        workers.emplace_back(
            [size, &bounds, &line, &tally] { run_thread(size, bounds, line, tally); });
      }
    } catch (const std::system_error&) {
      // The threads already running wait at `go`: release them with nothing to do, join them
      // (the jthreads' destructors), and report.
      line.abandoned = true;
      line.go.count_down();
      throw;
    }
    line.ready.wait();
    line.start = clock::now();
    line.go.count_down();
  }  // joins every thread

  limit_sample sample;
  std::uint64_t messages = 0;
  clock::duration after_keys{};
  for (const auto& tally : tallies) {
    if (tally.error) std::rethrow_exception(tally.error);
    sample.messages_per_thread.push_back(tally.messages);
    messages += tally.messages;
    after_keys += tally.after_keys;
    // Each thread's rate over its own span: a thread that finished its last message early is
    // not charged for the time it then waited for the slowest one to finish a 1 MiB message.
    const double seconds = std::chrono::duration<double>(tally.elapsed).count();
    if (tally.messages > 0 && seconds > 0) {
      sample.msgs_per_s += static_cast<double>(tally.messages) / seconds;
    }
  }
  if (messages == 0 || sample.msgs_per_s <= 0) {
    throw std::runtime_error("limit: empty measurement window");
  }
  // A round trip seals and opens twice (request and reply).
  sample.crypto_path_us = 2 * std::chrono::duration<double, std::micro>(after_keys).count() /
                          static_cast<double>(messages);
  return sample;
}

}  // namespace cryptcom::bench
