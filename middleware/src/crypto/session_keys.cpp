#include "crypto/session_keys.hpp"

#include <sodium.h>

#include <array>
#include <string_view>

#include "crypto/hkdf.hpp"
#include "crypto/hpke.hpp"

namespace cryptcom::auth {
namespace {

byte_view label(std::string_view text) {
  return {reinterpret_cast<const byte*>(text.data()), text.size()};
}

}  // namespace

status derive_prk(secret_key_view own_secret, const public_key& peer_public,
                  std::span<byte, 32> prk_out) {
  std::array<byte, 32> shared{};
  status s = hpke::x25519(own_secret, peer_public, shared);
  if (s.ok()) {
    hpke::detail::hkdf_extract(label("cryptcom/2 session"), {shared}, prk_out);
  }
  sodium_memzero(shared.data(), shared.size());
  return s;
}

void derive_initiate_key(std::span<const byte, 32> prk, const transcript& t, mac_key_out out) {
  (void)hpke::detail::hkdf_expand(
      prk,
      {label("cryptcom/2 initiate"), t.initiator.bytes, t.responder.bytes,
       t.initiator_instance.bytes, t.initiator_nonce.bytes},
      out);
}

void derive_session_keys(std::span<const byte, 32> prk, const transcript& t,
                         mac_key_out initiator_to_responder, mac_key_out responder_to_initiator) {
  auto expand = [&](std::string_view which, mac_key_out out) {
    (void)hpke::detail::hkdf_expand(
        prk,
        {label(which), t.initiator.bytes, t.responder.bytes, t.initiator_instance.bytes,
         t.responder_instance.bytes, t.initiator_nonce.bytes, t.responder_nonce.bytes},
        out);
  };
  expand("cryptcom/2 initiator", initiator_to_responder);
  expand("cryptcom/2 responder", responder_to_initiator);
}

void mac(mac_key_view key, byte_view covered, std::span<byte, mac_size> out) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, covered.data(), covered.size());
  crypto_auth_hmacsha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
}

bool verify(mac_key_view key, byte_view covered, byte_view received) {
  if (received.size() != mac_size) return false;
  std::array<byte, mac_size> expected{};
  mac(key, covered, expected);
  const bool same = sodium_memcmp(expected.data(), received.data(), mac_size) == 0;
  sodium_memzero(expected.data(), expected.size());
  return same;
}

}  // namespace cryptcom::auth
