#include "limit.hpp"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
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

}  // namespace

limit_sample measure_limit(std::size_t size, const run_bounds& bounds) {
  std::vector<unsigned char> plaintext(size);
  randombytes_buf(plaintext.data(), plaintext.size());
  std::vector<unsigned char> sealed(size + crypto_aead_chacha20poly1305_ietf_ABYTES);
  std::vector<unsigned char> opened(size);
  std::array<unsigned char, k_header_bytes> header{};
  randombytes_buf(header.data(), header.size());

  one_message(plaintext, sealed, opened, header);  // warm caches and code paths
  const auto start = clock::now();
  auto now = start;
  std::uint64_t messages = 0;
  clock::duration after_keys{};
  // One message costs at least ~100 us, so reading the clock each time costs nothing measurable.
  while (messages < bounds.max_messages && now - start < bounds.window) {
    const auto keys_ready = one_message(plaintext, sealed, opened, header);
    ++messages;
    now = clock::now();
    after_keys += now - keys_ready;
  }
  if (opened != plaintext) throw std::runtime_error("limit: round trip changed the payload");
  const double seconds = std::chrono::duration<double>(now - start).count();
  if (messages == 0 || seconds <= 0) throw std::runtime_error("limit: empty measurement window");
  // A round trip seals and opens twice (request and reply).
  const double path_us = 2 * std::chrono::duration<double, std::micro>(after_keys).count() /
                         static_cast<double>(messages);
  return {static_cast<double>(messages) / seconds, path_us};
}

}  // namespace cryptcom::bench
