#include "common/z85.hpp"

#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

namespace cryptcom::z85 {
namespace {

// RFC 32's alphabet: digit value = position.
constexpr std::string_view alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
static_assert(alphabet.size() == 85);

constexpr std::uint64_t max_group = 0xffffffffu;

// The digit value of `c` and whether it is in the alphabet, with no branch or table index that
// depends on `c` (a secret key's characters must not steer cache lines).
struct digit {
  std::uint32_t value;
  std::uint32_t found;  // all ones when c is a Z85 character, else 0
};

digit digit_of(char c) noexcept {
  const auto x = static_cast<std::uint32_t>(static_cast<unsigned char>(c));
  std::uint32_t value = 0;
  std::uint32_t found = 0;
  for (std::uint32_t i = 0; i < alphabet.size(); ++i) {
    const std::uint32_t diff = x ^ static_cast<unsigned char>(alphabet[i]);  // 0..255
    const std::uint32_t equal = 0u - ((diff - 1u) >> 31);  // all ones iff diff == 0
    value |= i & equal;
    found |= equal;
  }
  return {value, found};
}

status fail(mutable_byte_view out, std::string message) {
  sodium_memzero(out.data(), out.size());
  return {errc::invalid_argument, std::move(message)};
}

}  // namespace

std::string encode(byte_view bytes) {
  if (bytes.size() % 4 != 0) std::abort();  // caller misuse: Z85 has no padding
  std::string out(encoded_size(bytes.size()), '\0');
  for (std::size_t g = 0; g < bytes.size() / 4; ++g) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | bytes[4 * g + i];
    // Most significant digit first.
    for (std::size_t i = 5; i-- > 0;) {
      out[5 * g + i] = alphabet[v % 85];
      v /= 85;
    }
  }
  return out;
}

status decode(std::string_view text, mutable_byte_view out) {
  if (text.size() % 5 != 0 || decoded_size(text.size()) != out.size()) {
    return fail(out, std::to_string(text.size()) + " characters, expected " +
                         std::to_string(encoded_size(out.size())));
  }
  std::uint64_t group = 0;
  status result;
  for (std::size_t g = 0; g < text.size() / 5 && result.ok(); ++g) {
    group = 0;
    for (std::size_t i = 0; i < 5 && result.ok(); ++i) {
      const digit d = digit_of(text[5 * g + i]);
      if (d.found == 0) {
        result =
            fail(out, "character " + std::to_string(5 * g + i + 1) + " is not in the Z85 alphabet");
      }
      group = group * 85 + d.value;
    }
    if (result.ok() && group > max_group) {
      result = fail(out, "characters " + std::to_string(5 * g + 1) + " to " +
                             std::to_string(5 * g + 5) + " encode more than 32 bits");
    }
    if (result.ok()) {
      for (std::size_t i = 0; i < 4; ++i) {
        out[4 * g + i] = static_cast<byte>(group >> (8 * (3 - i)));
      }
    }
  }
  // The accumulator held four bytes of what may be a secret key.
  sodium_memzero(&group, sizeof group);
  return result;
}

}  // namespace cryptcom::z85
