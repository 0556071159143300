#include "cryptcom/random.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace cryptcom {
namespace {

// Bulk draws from the OS generator: one randombytes_buf call serves 4 KiB of GUIDs.
class system_random final : public random_source {
 public:
  system_random() {
    if (sodium_init() < 0) abort();
  }
  ~system_random() override { sodium_memzero(buffer_.data(), buffer_.size()); }

  void fill(mutable_byte_view out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      if (used_ == buffer_.size()) {
        randombytes_buf(buffer_.data(), buffer_.size());
        used_ = 0;
      }
      const std::size_t n = std::min(out.size() - done, buffer_.size() - used_);
      std::memcpy(out.data() + done, buffer_.data() + used_, n);
      // Bytes handed out are not kept: each is given to exactly one caller.
      sodium_memzero(buffer_.data() + used_, n);
      used_ += n;
      done += n;
    }
  }

 private:
  std::array<byte, 4096> buffer_{};
  std::size_t used_ = buffer_.size();
};

// ChaCha20 keystream under a key made from the seed; reproducible across runs and machines.
class deterministic_random final : public random_source {
 public:
  explicit deterministic_random(std::uint64_t seed) {
    if (sodium_init() < 0) abort();
    for (std::size_t i = 0; i < 8; ++i) seed_[i] = static_cast<byte>(seed >> (8 * i));
  }

  void fill(mutable_byte_view out) override {
    if (out.empty()) return;
    std::array<byte, crypto_stream_chacha20_ietf_NONCEBYTES> nonce{};
    for (std::size_t i = 0; i < 8; ++i) nonce[i] = static_cast<byte>(counter_ >> (8 * i));
    ++counter_;
    crypto_stream_chacha20_ietf(out.data(), out.size(), nonce.data(), seed_.data());
  }

 private:
  std::array<byte, crypto_stream_chacha20_ietf_KEYBYTES> seed_{};
  std::uint64_t counter_ = 0;
};

}  // namespace

std::unique_ptr<random_source> make_system_random() { return std::make_unique<system_random>(); }

std::unique_ptr<random_source> make_deterministic_random(std::uint64_t seed) {
  return std::make_unique<deterministic_random>(seed);
}

}  // namespace cryptcom
