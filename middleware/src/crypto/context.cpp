// hpke::context: the per-message secrets of one HPKE context and its sequence number
// (RFC 9180 §5.2 encryption and §5.3 secret export).
#include <sodium.h>

#include <array>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "crypto/aead.hpp"
#include "crypto/hkdf.hpp"
#include "crypto/hpke.hpp"
#include "crypto/suite.hpp"

namespace cryptcom::hpke {

// result<context> moves contexts around; a throwing move could leave secrets in two places.
static_assert(std::is_nothrow_move_constructible_v<context>);
static_assert(std::is_nothrow_move_assignable_v<context>);
static_assert(!std::is_copy_constructible_v<context>);

namespace {

// ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn).
void compute_nonce(std::span<const byte, nonce_size> base_nonce, std::uint64_t seq,
                   std::span<byte, nonce_size> nonce_out) noexcept {
  for (std::size_t i = 0; i < nonce_size; ++i) nonce_out[i] = base_nonce[i];
  for (std::size_t i = 0; i < sizeof(seq); ++i) {
    nonce_out[nonce_size - 1 - i] ^= static_cast<byte>(seq >> (8 * i));
  }
}

status not_ready() {
  return {errc::invalid_argument, "HPKE context was not set up (default-constructed or moved)"};
}

}  // namespace

context::~context() { wipe(); }

void context::wipe() noexcept {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(base_nonce_.data(), base_nonce_.size());
  sodium_memzero(exporter_secret_.data(), exporter_secret_.size());
  seq_ = 0;
  ready_ = false;
}

context::context(context&& other) noexcept
    : aead_(other.aead_),
      key_(other.key_),
      base_nonce_(other.base_nonce_),
      exporter_secret_(other.exporter_secret_),
      seq_(other.seq_),
      ready_(other.ready_) {
  other.wipe();
}

context& context::operator=(context&& other) noexcept {
  if (this != &other) {
    aead_ = other.aead_;
    key_ = other.key_;
    base_nonce_ = other.base_nonce_;
    exporter_secret_ = other.exporter_secret_;
    seq_ = other.seq_;
    ready_ = other.ready_;
    other.wipe();
  }
  return *this;
}

status context::seal(byte_view aad, byte_view plaintext, mutable_byte_view ciphertext_out) {
  if (!ready_) return not_ready();
  // RFC 9180 bounds seq below 2^96 - 1; a 64-bit counter reaches its own limit first.
  if (seq_ == std::numeric_limits<std::uint64_t>::max()) {
    return {errc::limit_exceeded, "HPKE context: sequence number exhausted"};
  }
  std::array<byte, nonce_size> nonce{};
  compute_nonce(base_nonce_, seq_, nonce);
  status st = detail::aead_seal(aead_, key_, nonce, aad, plaintext, ciphertext_out);
  sodium_memzero(nonce.data(), nonce.size());
  if (st.ok()) ++seq_;
  return st;
}

status context::open(byte_view aad, byte_view ciphertext, mutable_byte_view plaintext_out) {
  status st = status::success();
  if (!ready_) {
    st = not_ready();
  } else if (seq_ == std::numeric_limits<std::uint64_t>::max()) {
    st = status(errc::limit_exceeded, "HPKE context: sequence number exhausted");
  }
  if (!st.ok()) {
    sodium_memzero(plaintext_out.data(), plaintext_out.size());
    return st;
  }
  std::array<byte, nonce_size> nonce{};
  compute_nonce(base_nonce_, seq_, nonce);
  st = detail::aead_open(aead_, key_, nonce, aad, ciphertext, plaintext_out);
  sodium_memzero(nonce.data(), nonce.size());
  // A failed open leaves seq unchanged (RFC 9180 §5.2): the next genuine message still opens.
  if (st.ok()) ++seq_;
  return st;
}

status context::export_secret(byte_view exporter_context, mutable_byte_view out) const {
  if (!ready_) return not_ready();
  return detail::labeled_expand(detail::hpke_suite_id(aead_), exporter_secret_, "sec",
                                exporter_context, out);
}

}  // namespace cryptcom::hpke
