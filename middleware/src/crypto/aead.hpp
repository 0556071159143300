// The two HPKE AEADs, straight from libsodium: ChaCha20-Poly1305 (IETF, 96-bit nonce) and
// AES-256-GCM (only where crypto_aead_aes256gcm_is_available()). Combined mode: ct || tag.
//
// Buffers: `ct_out` must hold at least pt.size() + tag_size bytes and `pt_out` at least
// ct.size() - tag_size; exactly that many are written. Input and output may start at the same
// address (in place); any other overlap is errc::invalid_argument.
// Errors: invalid_argument (sizes, overlap, export-only or unknown AEAD), unavailable (AES-256-GCM
// on a CPU without AES-NI), authentication_failed (open). aead_open zeroes all of `pt_out` on
// every failure, so unauthenticated plaintext is never released.
// Thread-safety: pure functions, reentrant.
#pragma once

#include <span>

#include "crypto/hpke.hpp"

namespace cryptcom::hpke::detail {

using aead_key_view = std::span<const byte, key_size>;
using aead_nonce_view = std::span<const byte, nonce_size>;

status aead_seal(aead_id aead, aead_key_view key, aead_nonce_view nonce, byte_view aad,
                 byte_view plaintext, mutable_byte_view ciphertext_out);
status aead_open(aead_id aead, aead_key_view key, aead_nonce_view nonce, byte_view aad,
                 byte_view ciphertext, mutable_byte_view plaintext_out);

// True when the two ranges share a byte but do not start at the same address.
bool overlaps_partially(byte_view a, byte_view b) noexcept;

}  // namespace cryptcom::hpke::detail
