#include "crypto/hkdf.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace cryptcom::hpke::detail {
namespace {

static_assert(crypto_auth_hmacsha256_BYTES == hash_size);

constexpr std::string_view hpke_version_label = "HPKE-v1";

byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const byte*>(s.data()), s.size()};
}

// Wipes an HMAC state on scope exit: it holds the key's inner and outer pads.
struct hmac_state {
  crypto_auth_hmacsha256_state state{};
  hmac_state() = default;
  hmac_state(const hmac_state&) = delete;
  hmac_state& operator=(const hmac_state&) = delete;
  ~hmac_state() { sodium_memzero(&state, sizeof state); }

  void init(byte_view key) noexcept { crypto_auth_hmacsha256_init(&state, key.data(), key.size()); }
  void update(byte_view piece) noexcept {
    if (!piece.empty()) crypto_auth_hmacsha256_update(&state, piece.data(), piece.size());
  }
};

}  // namespace

void hkdf_extract(byte_view salt, std::initializer_list<byte_view> ikm_pieces,
                  prk_out_view prk_out) {
  static constexpr std::array<byte, hash_size> zero_salt{};
  hmac_state hmac;
  hmac.init(salt.empty() ? byte_view(zero_salt) : salt);
  for (const byte_view piece : ikm_pieces) hmac.update(piece);
  crypto_auth_hmacsha256_final(&hmac.state, prk_out.data());
}

status hkdf_expand(prk_view prk, std::initializer_list<byte_view> info_pieces,
                   mutable_byte_view out) {
  if (out.size() > max_expand_size) {
    sodium_memzero(out.data(), out.size());
    return {errc::invalid_argument, "HKDF-Expand: requested length above 255 * 32 bytes"};
  }
  std::array<byte, hash_size> block{};  // T(i)
  std::size_t done = 0;
  for (std::size_t i = 1; done < out.size(); ++i) {
    hmac_state hmac;
    hmac.init(prk);
    if (i > 1) hmac.update(block);
    for (const byte_view piece : info_pieces) hmac.update(piece);
    const byte counter = static_cast<byte>(i);
    hmac.update(byte_view(&counter, 1));
    crypto_auth_hmacsha256_final(&hmac.state, block.data());
    const std::size_t n = std::min(hash_size, out.size() - done);
    std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
  sodium_memzero(block.data(), block.size());
  return status::success();
}

void labeled_extract(byte_view suite_id, byte_view salt, std::string_view label, byte_view ikm,
                     prk_out_view prk_out) {
  hkdf_extract(salt, {as_bytes(hpke_version_label), suite_id, as_bytes(label), ikm}, prk_out);
}

status labeled_expand(byte_view suite_id, prk_view prk, std::string_view label, byte_view info,
                      mutable_byte_view out) {
  // I2OSP(L, 2) cannot represent more; the RFC 5869 bound (8160) is checked by hkdf_expand.
  if (out.size() > 0xFFFF) {
    sodium_memzero(out.data(), out.size());
    return {errc::invalid_argument, "LabeledExpand: requested length above 65535 bytes"};
  }
  const std::array<byte, 2> length = {static_cast<byte>(out.size() >> 8),
                                      static_cast<byte>(out.size() & 0xFF)};
  return hkdf_expand(prk, {length, as_bytes(hpke_version_label), suite_id, as_bytes(label), info},
                     out);
}

}  // namespace cryptcom::hpke::detail
