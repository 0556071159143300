// The authenticated mode's key derivations and MACs (docs/PROTOCOL.md §12.3): from the two
// identities' static-static X25519 agreement, a MAC key for the initiate and one MAC key per
// direction of a session, each bound to both static keys, both instance ids and both nonces.
// HKDF-SHA256 and HMAC-SHA256 over libsodium; no other primitive.
//
// Outputs are secrets: the caller passes locked memory to receive them. Every intermediate (the
// shared secret, the PRK) is wiped before returning.
// Thread-safety: pure functions, reentrant.
#pragma once

#include <span>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::auth {

inline constexpr std::size_t mac_key_size = 32;
inline constexpr std::size_t mac_size = 32;
inline constexpr std::size_t nonce_size = 16;

using mac_key_out = std::span<byte, mac_key_size>;
using mac_key_view = std::span<const byte, mac_key_size>;

// What both ends of a handshake know about it (th in §12.3, plus the initiate's part of it).
struct transcript {
  public_key initiator;  // S_I
  public_key responder;  // S_R
  guid initiator_instance;
  guid responder_instance;  // ignored by derive_initiate_key
  guid initiator_nonce;
  guid responder_nonce;  // ignored by derive_initiate_key
};

// X25519(own_secret, peer_public), then PRK = HKDF-Extract("cryptcom/2 session", ss) into
// `prk_out` (locked memory of the caller). Errors: low_order_point for an all-zero agreement.
status derive_prk(secret_key_view own_secret, const public_key& peer_public,
                  std::span<byte, 32> prk_out);

// k_init = HKDF-Expand(prk, "cryptcom/2 initiate" || S_I || S_R || I_I || N_I, 32).
void derive_initiate_key(std::span<const byte, 32> prk, const transcript& t, mac_key_out out);

// k_ir and k_ri = HKDF-Expand(prk, "cryptcom/2 initiator" / "cryptcom/2 responder" || th, 32).
void derive_session_keys(std::span<const byte, 32> prk, const transcript& t,
                         mac_key_out initiator_to_responder, mac_key_out responder_to_initiator);

// HMAC-SHA256(key, covered).
void mac(mac_key_view key, byte_view covered, std::span<byte, mac_size> out);
// Constant-time check of a received MAC (which must be mac_size bytes).
bool verify(mac_key_view key, byte_view covered, byte_view received);

}  // namespace cryptcom::auth
