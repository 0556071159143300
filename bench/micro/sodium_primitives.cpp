// The libsodium operations a cryptcom message pays for, one at a time: the floor under the
// engine's own figures. Secrets are wiped after each benchmark, as real code must.

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <vector>

namespace {

using bytes32 = std::array<unsigned char, 32>;

// One X25519 key pair, as HPKE's GenerateKeyPair makes it.
void x25519_keygen(benchmark::State& state) {
  bytes32 secret{};
  bytes32 public_key{};
  for (auto _ : state) {
    randombytes_buf(secret.data(), secret.size());
    crypto_scalarmult_base(public_key.data(), secret.data());
    benchmark::DoNotOptimize(public_key.data());
  }
  sodium_memzero(secret.data(), secret.size());
}
BENCHMARK(x25519_keygen);

void x25519_agreement(benchmark::State& state) {
  bytes32 secret{};
  bytes32 peer_secret{};
  bytes32 peer_public{};
  bytes32 shared{};
  randombytes_buf(secret.data(), secret.size());
  randombytes_buf(peer_secret.data(), peer_secret.size());
  crypto_scalarmult_base(peer_public.data(), peer_secret.data());
  for (auto _ : state) {
    if (crypto_scalarmult(shared.data(), secret.data(), peer_public.data()) != 0) {
      state.SkipWithError("X25519 gave the all-zero point");
      break;
    }
    benchmark::DoNotOptimize(shared.data());
  }
  sodium_memzero(secret.data(), secret.size());
  sodium_memzero(peer_secret.data(), peer_secret.size());
  sodium_memzero(shared.data(), shared.size());
}
BENCHMARK(x25519_agreement);

// Sealing `state.range(0)` bytes with ChaCha20-Poly1305 IETF and a 24-byte header as AD.
void chacha20poly1305_seal(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<unsigned char> plaintext(size);
  std::vector<unsigned char> sealed(size + crypto_aead_chacha20poly1305_ietf_ABYTES);
  std::array<unsigned char, 24> header{};
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_KEYBYTES> key{};
  // One nonce for every seal is only acceptable because this key protects nothing.
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  randombytes_buf(plaintext.data(), plaintext.size());
  randombytes_buf(header.data(), header.size());
  crypto_aead_chacha20poly1305_ietf_keygen(key.data());
  unsigned long long sealed_length = 0;
  for (auto _ : state) {
    crypto_aead_chacha20poly1305_ietf_encrypt(sealed.data(), &sealed_length, plaintext.data(),
                                              plaintext.size(), header.data(), header.size(),
                                              nullptr, nonce.data(), key.data());
    benchmark::DoNotOptimize(sealed.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
  sodium_memzero(key.data(), key.size());
}
BENCHMARK(chacha20poly1305_seal)->Arg(64)->Arg(64 * 1024);

}  // namespace
