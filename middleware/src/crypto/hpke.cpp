// HPKE setup (RFC 9180 §5.1.1 base mode, §5.1.3 auth mode) and the single-shot base-mode API.
#include "crypto/hpke.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "crypto/dhkem.hpp"
#include "crypto/key_schedule.hpp"

namespace cryptcom::hpke {
namespace {

status check_shared_secret_out(std::span<byte> out) {
  if (out.empty() || out.size() == secret_size) return status::success();
  return {errc::invalid_argument, "shared_secret_out must be empty or 32 bytes"};
}

// Runs the KEM into a wiped stack buffer, then the key schedule; copies the shared secret out
// only when the vector tests ask for it.
template <class Kem>
result<context> setup(mode m, aead_id aead, byte_view info, std::span<byte> shared_secret_out,
                      Kem&& kem, exporter exp = exporter::derive) {
  if (status st = check_shared_secret_out(shared_secret_out); !st.ok()) return st;
  std::array<byte, secret_size> shared_secret{};
  status st = kem(std::span<byte, secret_size>(shared_secret));
  if (!st.ok()) {
    sodium_memzero(shared_secret.data(), shared_secret.size());
    return st;
  }
  result<context> ctx = key_schedule(m, aead, shared_secret, info, nullptr, exp);
  if (ctx.ok() && !shared_secret_out.empty()) {
    std::copy(shared_secret.begin(), shared_secret.end(), shared_secret_out.begin());
  }
  sodium_memzero(shared_secret.data(), shared_secret.size());
  return ctx;
}

}  // namespace

result<context> setup_base_sender(aead_id aead, const public_key& recipient, byte_view info,
                                  const ephemeral_key& ephemeral, public_key& enc_out,
                                  std::span<byte> shared_secret_out) {
  result<context> ctx = setup(
      mode::base, aead, info, shared_secret_out,
      [&](detail::shared_secret_out_view ss) { return detail::encap(recipient, ephemeral, ss); });
  if (ctx.ok()) enc_out = ephemeral.public_value;
  return ctx;
}

result<context> setup_auth_sender(aead_id aead, const public_key& recipient, byte_view info,
                                  const ephemeral_key& ephemeral, secret_key_view sender_secret,
                                  const public_key& sender_public, public_key& enc_out,
                                  std::span<byte> shared_secret_out) {
  result<context> ctx =
      setup(mode::auth, aead, info, shared_secret_out, [&](detail::shared_secret_out_view ss) {
        return detail::auth_encap(recipient, ephemeral, sender_secret, sender_public, ss);
      });
  if (ctx.ok()) enc_out = ephemeral.public_value;
  return ctx;
}

result<context> setup_base_recipient(aead_id aead, const public_key& enc,
                                     secret_key_view recipient_secret,
                                     const public_key& recipient_public, byte_view info,
                                     std::span<byte> shared_secret_out) {
  return setup(mode::base, aead, info, shared_secret_out, [&](detail::shared_secret_out_view ss) {
    return detail::decap(enc, recipient_secret, recipient_public, ss);
  });
}

result<context> setup_auth_recipient(aead_id aead, const public_key& enc,
                                     secret_key_view recipient_secret,
                                     const public_key& recipient_public, byte_view info,
                                     const public_key& sender_public,
                                     std::span<byte> shared_secret_out) {
  return setup(mode::auth, aead, info, shared_secret_out, [&](detail::shared_secret_out_view ss) {
    return detail::auth_decap(enc, recipient_secret, recipient_public, sender_public, ss);
  });
}

// The single-shot functions' contexts never leave them and are never exported from, so their
// key schedules skip the exporter secret.
status seal_base(aead_id aead, const public_key& recipient, byte_view info, byte_view aad,
                 byte_view plaintext, const ephemeral_key& ephemeral, public_key& enc_out,
                 mutable_byte_view ciphertext_out) {
  result<context> ctx = setup(
      mode::base, aead, info, {},
      [&](detail::shared_secret_out_view ss) { return detail::encap(recipient, ephemeral, ss); },
      exporter::skip);
  if (!ctx.ok()) return ctx.error();
  status st = ctx->seal(aad, plaintext, ciphertext_out);
  if (st.ok()) enc_out = ephemeral.public_value;
  return st;
}

status open_base(aead_id aead, const public_key& enc, secret_key_view recipient_secret,
                 const public_key& recipient_public, byte_view info, byte_view aad,
                 byte_view ciphertext, mutable_byte_view plaintext_out) {
  result<context> ctx = setup(
      mode::base, aead, info, {},
      [&](detail::shared_secret_out_view ss) {
        return detail::decap(enc, recipient_secret, recipient_public, ss);
      },
      exporter::skip);
  if (!ctx.ok()) {
    sodium_memzero(plaintext_out.data(), plaintext_out.size());
    return ctx.error();
  }
  return ctx->open(aad, ciphertext, plaintext_out);
}

status encap_base(const public_key& recipient, const ephemeral_key& ephemeral,
                  std::span<byte, secret_size> shared_secret_out, public_key& enc_out) {
  status st = detail::encap(recipient, ephemeral, shared_secret_out);
  if (!st.ok()) {
    sodium_memzero(shared_secret_out.data(), shared_secret_out.size());
    return st;
  }
  enc_out = ephemeral.public_value;
  return st;
}

status seal_base_encapsulated(aead_id aead, std::span<const byte, secret_size> shared_secret,
                              byte_view info, byte_view aad, byte_view plaintext,
                              mutable_byte_view ciphertext_out) {
  result<context> ctx =
      key_schedule(mode::base, aead, shared_secret, info, nullptr, exporter::skip);
  if (!ctx.ok()) return ctx.error();
  return ctx->seal(aad, plaintext, ciphertext_out);
}

}  // namespace cryptcom::hpke
