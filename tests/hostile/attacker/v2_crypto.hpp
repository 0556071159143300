// v2_crypto: the cryptography of authenticated mode (docs/PROTOCOL.md §12.3), written again from
// the specification with libsodium's primitives only, as a second implementation would write it:
// HKDF-SHA256 (RFC 5869) and HMAC-SHA256, X25519, and the single-shot HPKE base mode of RFC 9180
// (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) that seals the initiator's identity
// and every message. Nothing here includes the core's private headers: where this and the engine
// disagree, one of them (or the specification) is wrong, which is what the tests are for.
//
// The secrets handled here are the attacker's own, or the long-term keys a test gives it (the
// forward-secrecy test), never the system under test's at run time; they live in ordinary memory
// and are wiped where the code is done with them all the same.
// Thread-safety: free functions, reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cryptcom/types.hpp"

namespace cryptcom::hostile::v2 {

using bytes = std::vector<byte>;
using key32 = std::array<byte, 32>;
using id16 = std::array<byte, 16>;

bytes as_bytes(std::string_view text);
bytes cat(std::initializer_list<byte_view> pieces);

// RFC 5869 / RFC 2104, SHA-256.
key32 hmac_sha256(byte_view key, byte_view data);
key32 hkdf_extract(byte_view salt, byte_view ikm);
bytes hkdf_expand(byte_view prk, byte_view info, std::size_t length);

// X25519; nullopt when the result is all zero (a low-order point).
std::optional<key32> x25519(const key32& secret, const key32& their_public);
key32 x25519_base(const key32& secret);
// A fresh random key pair: {secret, public}.
std::pair<key32, key32> random_key_pair();

// The session keys of §12.3.
struct session_keys {
  key32 k_ir{};  // frames initiator -> responder
  key32 k_ri{};  // frames responder -> initiator
};
// prk = HKDF-Extract("cryptcom/2 session", X25519(our secret, their public)); nullopt when the
// agreement is all zero. The same from either side: (s_I, S_R) or (s_R, S_I).
std::optional<key32> session_prk(const key32& our_secret, const key32& their_public);
key32 initiate_key(const key32& prk, const key32& s_i, const key32& s_r, const id16& i_i,
                   const id16& n_i);
session_keys derive_session(const key32& prk, const key32& s_i, const key32& s_r, const id16& i_i,
                            const id16& i_r, const id16& n_i, const id16& n_r);

// Constant-time comparison of two MACs (32 bytes each; a different length is unequal).
bool mac_equal(byte_view a, byte_view b);

// HPKE base mode, single shot, ChaCha20-Poly1305 (RFC 9180 §5.1, §6.1).
struct sealed_box {
  key32 enc{};
  bytes ciphertext;  // plaintext + 16-byte tag
};
// Seals with the ephemeral pair `ephemeral` ({secret, public}); nullopt when pk_r is a low-order
// point.
std::optional<sealed_box> hpke_seal(const key32& pk_r, byte_view info, byte_view aad,
                                    byte_view plaintext, const std::pair<key32, key32>& ephemeral);
std::optional<sealed_box> hpke_seal(const key32& pk_r, byte_view info, byte_view aad,
                                    byte_view plaintext);
// Opens with the recipient's secret key; nullopt when it does not open.
std::optional<bytes> hpke_open(const key32& sk_r, const key32& enc, byte_view info, byte_view aad,
                               byte_view ciphertext);
// DeriveKeyPair of DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1.3): {secret, public}.
std::pair<key32, key32> derive_key_pair(byte_view ikm);

// The info strings of §12.3.
byte_view identity_info();  // "cryptcom/2 identity"
byte_view message_info();   // "cryptcom/2 one-time key"

}  // namespace cryptcom::hostile::v2
