// make_deterministic_key_source(seed): key pairs from RFC 9180 DeriveKeyPair over
// ikm = I2OSP(seed, 8) || I2OSP(counter, 8), counter = 0, 1, 2, ... Every run with the same seed
// hands out the same pairs in the same order, so simulations replay exactly. The keys are
// predictable by anyone who knows the seed: tests and simulations only.
// Thread-safety: none; one engine (one thread) draws from it.
#include <array>
#include <cstdlib>
#include <memory>

#include <sodium.h>

#include "cryptcom/key_source.hpp"
#include "crypto/hpke.hpp"

namespace cryptcom {
namespace {

class deterministic_key_source final : public key_source {
 public:
  explicit deterministic_key_source(std::uint64_t seed) : seed_(seed) {}

  public_key next(mutable_secret_key_view secret_out) override {
    std::array<byte, 16> ikm{};
    for (std::size_t i = 0; i < 8; ++i) {
      ikm[7 - i] = static_cast<byte>(seed_ >> (8 * i));
      ikm[15 - i] = static_cast<byte>(counter_ >> (8 * i));
    }
    ++counter_;
    public_key pk;
    const status st = hpke::derive_key_pair(ikm, secret_out, pk);
    sodium_memzero(ikm.data(), ikm.size());
    // DeriveKeyPair for X25519 cannot fail on a 16-byte ikm; if it ever did, handing out a
    // zeroed key would be worse than stopping.
    if (!st.ok()) std::abort();
    return pk;
  }

 private:
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
};

}  // namespace

std::unique_ptr<key_source> make_deterministic_key_source(std::uint64_t seed) {
  return std::make_unique<deterministic_key_source>(seed);
}

}  // namespace cryptcom
