// The cryptography a publisher pays per published message for N matching subscribers, in the two
// designs issue 13 weighs (docs/PROTOCOL.md §11.8, "Why one copy per subscriber"):
//  (a) fan_out_seal_per_copy: what cryptcom does, one HPKE single-shot seal of the whole payload
//      per subscriber, to that subscriber's one-time key (N X25519 agreements, N key schedules,
//      N AEADs over the payload);
//  (b) fan_out_seal_content_key: the payload sealed once (ChaCha20-Poly1305 under a fresh random
//      32-byte content key, used for that one message, so a zero nonce), and the content key
//      wrapped by one HPKE single-shot seal per subscriber (N X25519 agreements, N key schedules,
//      N AEADs over 32 bytes, one over the payload).
// Each HPKE seal takes a fresh ephemeral key pair, generated beforehand as the key pool does
// (refilled with the timer paused): both designs pay N key generations on top, in the pool's
// threads (see `keygen`). The subscriber's side is fan_out_open_copy (a) against
// fan_out_open_wrapped (b): one open per subscriber either way.
//
// The seal benchmarks then open the last message at its first and last subscriber, untimed, so
// that what was timed is known to be working seals. Secrets live in sodium_malloc'd memory and are
// wiped at the end.

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cryptcom/types.hpp"
#include "crypto/hpke.hpp"
#include "micro_keys.hpp"

namespace cryptcom::micro {
namespace {

constexpr auto k_aead = hpke::aead_id::chacha20_poly1305;
constexpr std::size_t k_content_key_size = crypto_aead_chacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t k_wrapped_size = k_content_key_size + hpke::tag_size;
constexpr std::size_t k_aad_size = 40;  // about what the engine authenticates with each frame

// N subscribers' one-time keys and a batch of ephemeral pairs (each used for one seal, a whole
// message's worth at a time), the payload, and the outputs of both designs.
class fan_out_fixture {
 public:
  fan_out_fixture(std::size_t size, std::size_t subscribers)
      : subscribers_(subscribers),
        batch_(std::max<std::size_t>(1024 / subscribers, 4) * subscribers),
        recipient_secrets_(subscribers),
        ephemeral_secrets_(batch_),
        content_key_(1),
        recipients_(subscribers),
        ephemeral_publics_(batch_),
        encs_(subscribers),
        payload_(size),
        aad_(k_aad_size),
        copies_(subscribers, std::vector<byte>(size + hpke::tag_size)),
        sealed_payload_(size + crypto_aead_chacha20poly1305_ietf_ABYTES),
        wrapped_(subscribers) {
    for (std::size_t i = 0; i < subscribers; ++i)
      recipients_[i] = generate(recipient_secrets_.at(i));
    randombytes_buf(payload_.data(), payload_.size());
    randombytes_buf(aad_.data(), aad_.size());
    refill();
  }

  // Fresh ephemeral pairs for the next messages; run with the timer paused.
  void refill() {
    for (std::size_t i = 0; i < batch_; ++i)
      ephemeral_publics_[i] = generate(ephemeral_secrets_.at(i));
    next_ = 0;
  }
  [[nodiscard]] bool spent() const { return next_ + subscribers_ > batch_; }

  // (a) One sealed copy of the payload per subscriber.
  bool seal_copies() {
    for (std::size_t i = 0; i < subscribers_; ++i) {
      if (!hpke::seal_base(k_aead, recipients_[i], info_bytes(), aad_, payload_, ephemeral(),
                           encs_[i], copies_[i])
               .ok()) {
        return false;
      }
    }
    return true;
  }

  // (b) The payload sealed once under a fresh content key, the key wrapped per subscriber.
  bool seal_once_and_wrap() {
    auto key = content_key_.at(0);  // 32 bytes of locked memory, as a secret key slot
    randombytes_buf(key.data(), key.size());
    const std::array<byte, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
    unsigned long long sealed_size = 0;
    if (crypto_aead_chacha20poly1305_ietf_encrypt(
            sealed_payload_.data(), &sealed_size, payload_.data(), payload_.size(), aad_.data(),
            aad_.size(), nullptr, nonce.data(), key.data()) != 0) {
      return false;
    }
    for (std::size_t i = 0; i < subscribers_; ++i) {
      if (!hpke::seal_base(k_aead, recipients_[i], info_bytes(), aad_, key, ephemeral(), encs_[i],
                           wrapped_[i])
               .ok()) {
        return false;
      }
    }
    return true;
  }

  // (a) at subscriber `i`: its copy opened with its one-time key.
  bool open_copy(std::size_t i, std::vector<byte>& plaintext) {
    plaintext.resize(payload_.size());
    return hpke::open_base(k_aead, encs_[i], recipient_secrets_.at(i), recipients_[i], info_bytes(),
                           aad_, copies_[i], plaintext)
               .ok() &&
           plaintext == payload_;
  }

  // (b) at subscriber `i`: the content key unwrapped with its one-time key, then the payload
  // opened with the content key.
  bool open_wrapped(std::size_t i, secret_block& key_out, std::vector<byte>& plaintext) {
    auto key = key_out.at(0);
    if (!hpke::open_base(k_aead, encs_[i], recipient_secrets_.at(i), recipients_[i], info_bytes(),
                         aad_, wrapped_[i], key)
             .ok()) {
      return false;
    }
    plaintext.resize(payload_.size());
    const std::array<byte, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
    unsigned long long opened = 0;
    return crypto_aead_chacha20poly1305_ietf_decrypt(
               plaintext.data(), &opened, nullptr, sealed_payload_.data(), sealed_payload_.size(),
               aad_.data(), aad_.size(), nonce.data(), key.data()) == 0 &&
           plaintext == payload_;
  }

 private:
  hpke::ephemeral_key ephemeral() {
    const hpke::ephemeral_key eph{ephemeral_secrets_.at(next_), ephemeral_publics_[next_]};
    ++next_;
    return eph;
  }

  std::size_t subscribers_;
  std::size_t batch_;
  secret_block recipient_secrets_;  // the subscribers' one-time keys (to open with)
  secret_block ephemeral_secrets_;
  secret_block content_key_;  // design (b)'s one key, in a 32-byte secret slot
  std::vector<public_key> recipients_;
  std::vector<public_key> ephemeral_publics_;
  std::size_t next_ = 0;
  std::vector<public_key> encs_;  // the last message's encapsulated keys, one per subscriber
  std::vector<byte> payload_;
  std::vector<byte> aad_;
  std::vector<std::vector<byte>> copies_;                  // (a): one sealed copy per subscriber
  std::vector<byte> sealed_payload_;                       // (b): the payload, sealed once
  std::vector<std::array<byte, k_wrapped_size>> wrapped_;  // (b): the content key per subscriber
};

// One published message per iteration: `seal` for every subscriber, ephemeral keys refilled
// with the timer paused; then `opens` on the last message, untimed. Items: copies (one per
// subscriber); bytes: the payload published.
template <class Seal, class Opens>
void run_fan_out(benchmark::State& state, Seal seal, Opens opens) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto subscribers = static_cast<std::size_t>(state.range(1));
  fan_out_fixture f(size, subscribers);
  for (auto _ : state) {
    if (f.spent()) {
      state.PauseTiming();
      f.refill();
      state.ResumeTiming();
    }
    if (!seal(f)) return state.SkipWithError("a seal failed");
  }
  // The first and the last subscriber open what was sealed for them.
  if (!opens(f, 0) || !opens(f, subscribers - 1)) {
    return state.SkipWithError("what was sealed did not open at its subscriber");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(subscribers));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}

void fan_out_seal_per_copy(benchmark::State& state) {
  std::vector<byte> plaintext;
  run_fan_out(
      state, [](fan_out_fixture& f) { return f.seal_copies(); },
      [&](fan_out_fixture& f, std::size_t i) { return f.open_copy(i, plaintext); });
}

void fan_out_seal_content_key(benchmark::State& state) {
  secret_block key(1);
  std::vector<byte> plaintext;
  run_fan_out(
      state, [](fan_out_fixture& f) { return f.seal_once_and_wrap(); },
      [&](fan_out_fixture& f, std::size_t i) { return f.open_wrapped(i, key, plaintext); });
}

// Per subscriber and message: (a) open the copy; (b) unwrap the content key, open the payload.
// The same sealed message opened again and again: opening keeps no state.
void fan_out_open_copy(benchmark::State& state) {
  fan_out_fixture f(static_cast<std::size_t>(state.range(0)), 1);
  std::vector<byte> plaintext;
  if (!f.seal_copies()) return state.SkipWithError("seal failed");
  for (auto _ : state) {
    if (!f.open_copy(0, plaintext)) return state.SkipWithError("open failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void fan_out_open_wrapped(benchmark::State& state) {
  fan_out_fixture f(static_cast<std::size_t>(state.range(0)), 1);
  secret_block key(1);
  std::vector<byte> plaintext;
  if (!f.seal_once_and_wrap()) return state.SkipWithError("seal failed");
  for (auto _ : state) {
    if (!f.open_wrapped(0, key, plaintext)) return state.SkipWithError("open failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(fan_out_seal_per_copy)
    ->ArgNames({"size", "subscribers"})
    ->ArgsProduct({{64, 64 * 1024}, {1, 10, 100}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(fan_out_seal_content_key)
    ->ArgNames({"size", "subscribers"})
    ->ArgsProduct({{64, 64 * 1024}, {1, 10, 100}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(fan_out_open_copy)->ArgName("size")->Arg(64)->Arg(64 * 1024);
BENCHMARK(fan_out_open_wrapped)->ArgName("size")->Arg(64)->Arg(64 * 1024);

}  // namespace
}  // namespace cryptcom::micro
