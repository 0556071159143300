// Z85 (ZeroMQ RFC 32): binary data, a multiple of 4 bytes, as printable text, 5 characters per
// 4 bytes. CurveZMQ writes its 32-byte keys this way (40 characters), so identities and peer keys
// are read and written in Z85 (cryptcom::identity, public_key_from_z85, to_z85).
//
// decode() may be given a secret key: it writes straight into the caller's (locked) buffer, looks
// no table up by character (each character is compared with the whole alphabet), and its errors
// name positions, never characters.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::z85 {

// Characters of a 32-byte key.
inline constexpr std::size_t key_chars = 40;

constexpr std::size_t encoded_size(std::size_t bytes) noexcept { return bytes / 4 * 5; }
constexpr std::size_t decoded_size(std::size_t chars) noexcept { return chars / 5 * 4; }

// `bytes.size()` must be a multiple of 4 (caller misuse aborts): Z85 has no padding.
std::string encode(byte_view bytes);

// Decodes `text` into `out`, which must be exactly decoded_size(text.size()) bytes. Errors
// (invalid_argument, `out` then zeroed): a length that is not a multiple of 5 or does not fit
// `out`, a character outside the alphabet (named by its position, from 1), a group of 5 above
// 2^32 - 1. The message does not say what is decoded; callers prefix it.
status decode(std::string_view text, mutable_byte_view out);

}  // namespace cryptcom::z85
