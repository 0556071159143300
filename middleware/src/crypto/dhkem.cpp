#include "crypto/dhkem.hpp"

#include <sodium.h>

#include <array>

#include "crypto/hkdf.hpp"
#include "crypto/sodium_ready.hpp"
#include "crypto/suite.hpp"

namespace cryptcom::hpke {
namespace detail {
namespace {

constexpr std::size_t dh_size = 32;

// ExtractAndExpand(dh, kem_context) with kem_context = enc || pkRm [|| pkSm].
status extract_and_expand(byte_view dh, byte_view kem_context,
                          shared_secret_out_view shared_secret_out) {
  std::array<byte, hash_size> eae_prk{};
  labeled_extract(kem_suite_id, {}, "eae_prk", dh, eae_prk);
  status st =
      labeled_expand(kem_suite_id, eae_prk, "shared_secret", kem_context, shared_secret_out);
  sodium_memzero(eae_prk.data(), eae_prk.size());
  return st;
}

// dh = DH(sk1, pk1) [|| DH(sk2, pk2)], then ExtractAndExpand. The two-DH form is auth mode.
// kem_context is public (three public keys), the dh buffer is wiped on every path.
status kem_derive(secret_key_view sk1, const public_key& pk1, const secret_key_view* sk2,
                  const public_key* pk2, byte_view kem_context,
                  shared_secret_out_view shared_secret_out) {
  std::array<byte, 2 * dh_size> dh{};
  const std::size_t dh_len = sk2 == nullptr ? dh_size : 2 * dh_size;
  status st = x25519(sk1, pk1, std::span<byte, dh_size>(dh.data(), dh_size));
  if (st.ok() && sk2 != nullptr) {
    st = x25519(*sk2, *pk2, std::span<byte, dh_size>(dh.data() + dh_size, dh_size));
  }
  if (st.ok())
    st = extract_and_expand(byte_view(dh.data(), dh_len), kem_context, shared_secret_out);
  sodium_memzero(dh.data(), dh.size());
  if (!st.ok()) sodium_memzero(shared_secret_out.data(), shared_secret_out.size());
  return st;
}

using kem_context_base = std::array<byte, 2 * public_key_size>;
using kem_context_auth = std::array<byte, 3 * public_key_size>;

template <std::size_t N>
std::array<byte, N * public_key_size> concat_keys(const std::array<const public_key*, N>& keys) {
  std::array<byte, N * public_key_size> out{};
  for (std::size_t i = 0; i < N; ++i) {
    std::copy(keys[i]->bytes.begin(), keys[i]->bytes.end(),
              out.begin() + static_cast<std::ptrdiff_t>(i * public_key_size));
  }
  return out;
}

}  // namespace

status encap(const public_key& recipient, const ephemeral_key& ephemeral,
             shared_secret_out_view shared_secret_out) {
  const auto kem_context = concat_keys<2>({&ephemeral.public_value, &recipient});
  return kem_derive(ephemeral.secret, recipient, nullptr, nullptr, kem_context, shared_secret_out);
}

status auth_encap(const public_key& recipient, const ephemeral_key& ephemeral,
                  secret_key_view sender_secret, const public_key& sender_public,
                  shared_secret_out_view shared_secret_out) {
  const auto kem_context = concat_keys<3>({&ephemeral.public_value, &recipient, &sender_public});
  return kem_derive(ephemeral.secret, recipient, &sender_secret, &recipient, kem_context,
                    shared_secret_out);
}

status decap(const public_key& enc, secret_key_view recipient_secret,
             const public_key& recipient_public, shared_secret_out_view shared_secret_out) {
  const auto kem_context = concat_keys<2>({&enc, &recipient_public});
  return kem_derive(recipient_secret, enc, nullptr, nullptr, kem_context, shared_secret_out);
}

status auth_decap(const public_key& enc, secret_key_view recipient_secret,
                  const public_key& recipient_public, const public_key& sender_public,
                  shared_secret_out_view shared_secret_out) {
  const auto kem_context = concat_keys<3>({&enc, &recipient_public, &sender_public});
  return kem_derive(recipient_secret, enc, &recipient_secret, &sender_public, kem_context,
                    shared_secret_out);
}

}  // namespace detail

// RFC 9180 §7.1.3 for X25519: sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", 32)
// and pk = X25519(sk, 9). libsodium clamps the scalar itself, so sk is kept as derived.
status derive_key_pair(byte_view ikm, mutable_secret_key_view secret_out, public_key& public_out) {
  detail::ensure_sodium();
  std::array<byte, detail::hash_size> dkp_prk{};
  detail::labeled_extract(detail::kem_suite_id, {}, "dkp_prk", ikm, dkp_prk);
  status st = detail::labeled_expand(detail::kem_suite_id, dkp_prk, "sk", {}, secret_out);
  sodium_memzero(dkp_prk.data(), dkp_prk.size());
  if (st.ok() && crypto_scalarmult_base(public_out.bytes.data(), secret_out.data()) != 0) {
    st = status(errc::internal, "DeriveKeyPair: X25519 base-point multiplication failed");
  }
  if (!st.ok()) sodium_memzero(secret_out.data(), secret_out.size());
  return st;
}

}  // namespace cryptcom::hpke
