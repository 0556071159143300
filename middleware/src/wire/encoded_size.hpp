// Sizes of msgpack encodings, as the encoders produce them (shortest form) and as the decoders
// bound them (the least an element can take), so counts can be checked against the bytes left.
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>

#include "cryptcom/types.hpp"

namespace cryptcom::wire {

// Header of an array of n elements: fixarray, array16, array32.
constexpr std::size_t array_header_bytes(std::size_t n) noexcept {
  return n < 16 ? 1 : n < 65536 ? 3 : 5;
}
// Header of a bin of n bytes: bin8, bin16, bin32.
constexpr std::size_t bin_header_bytes(std::size_t n) noexcept {
  return n < 256 ? 2 : n < 65536 ? 3 : 5;
}

inline constexpr std::size_t encoded_guid_bytes = 2 + guid_size;       // bin8 + 16
inline constexpr std::size_t encoded_key_bytes = 2 + public_key_size;  // bin8 + 32
// [guid, key, ttl] with a one-byte ttl: the shortest an offered key can be.
inline constexpr std::size_t min_offer_bytes = 1 + encoded_guid_bytes + encoded_key_bytes + 1;
// [guid, reason] with a one-byte reason.
inline constexpr std::size_t min_rejection_bytes = 1 + encoded_guid_bytes + 1;
// An empty bin.
inline constexpr std::size_t min_part_bytes = 2;

}  // namespace cryptcom::wire
