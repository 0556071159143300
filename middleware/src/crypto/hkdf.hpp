// HKDF-SHA256 (RFC 5869) over libsodium's HMAC-SHA256, and the labeled forms RFC 9180 §4 builds
// every derivation from: LabeledExtract and LabeledExpand.
//
// Inputs are taken as lists of pieces and fed to HMAC one after another, so labels, suite ids and
// secret keying material are never concatenated into a temporary buffer that would need wiping.
// Every intermediate (HMAC state, T(i) blocks) is wiped before returning.
// Thread-safety: pure functions, reentrant.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string_view>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::hpke::detail {

inline constexpr std::size_t hash_size = 32;                     // Nh of HKDF-SHA256
inline constexpr std::size_t max_expand_size = 255 * hash_size;  // RFC 5869 limit on L

using prk_view = std::span<const byte, hash_size>;
using prk_out_view = std::span<byte, hash_size>;

// HKDF-Extract(salt, ikm) where ikm is the concatenation of `ikm_pieces`. An empty salt means
// Nh zero bytes (RFC 5869 §2.2).
void hkdf_extract(byte_view salt, std::initializer_list<byte_view> ikm_pieces,
                  prk_out_view prk_out);

// HKDF-Expand(prk, info, L = out.size()) where info is the concatenation of `info_pieces`.
// errc::invalid_argument (and `out` zeroed) when L > 255 * Nh.
status hkdf_expand(prk_view prk, std::initializer_list<byte_view> info_pieces,
                   mutable_byte_view out);

// RFC 9180 LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm).
void labeled_extract(byte_view suite_id, byte_view salt, std::string_view label, byte_view ikm,
                     prk_out_view prk_out);

// RFC 9180 LabeledExpand(prk, label, info, L = out.size()) =
// Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
status labeled_expand(byte_view suite_id, prk_view prk, std::string_view label, byte_view info,
                      mutable_byte_view out);

}  // namespace cryptcom::hpke::detail
