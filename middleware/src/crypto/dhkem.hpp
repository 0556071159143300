// DHKEM(X25519, HKDF-SHA256), RFC 9180 §4.1: Encap/Decap (base mode) and AuthEncap/AuthDecap
// (auth mode). DeriveKeyPair is declared in hpke.hpp.
//
// The ephemeral pair is the caller's (from a pre-generated pool), so "Encap" here is the RFC's
// Encap with GenerateKeyPair replaced by that pair; enc is its public key.
// On failure `shared_secret_out` is zeroed; every DH output and PRK is wiped before returning.
// Thread-safety: pure functions, reentrant.
#pragma once

#include <span>

#include "crypto/hpke.hpp"

namespace cryptcom::hpke::detail {

using shared_secret_out_view = std::span<byte, secret_size>;

status encap(const public_key& recipient, const ephemeral_key& ephemeral,
             shared_secret_out_view shared_secret_out);
status auth_encap(const public_key& recipient, const ephemeral_key& ephemeral,
                  secret_key_view sender_secret, const public_key& sender_public,
                  shared_secret_out_view shared_secret_out);
status decap(const public_key& enc, secret_key_view recipient_secret,
             const public_key& recipient_public, shared_secret_out_view shared_secret_out);
status auth_decap(const public_key& enc, secret_key_view recipient_secret,
                  const public_key& recipient_public, const public_key& sender_public,
                  shared_secret_out_view shared_secret_out);

}  // namespace cryptcom::hpke::detail
