#include "wire/reader.hpp"

#include <algorithm>

namespace cryptcom::wire {

std::string field_name::str() const {
  std::string out(path);
  out += member;
  if (index != no_index) {
    out += '[';
    out += std::to_string(index);
    out += ']';
  }
  out += leaf;
  return out;
}

std::string_view format_name(byte first) noexcept {
  if (first <= 0x7f) return "positive fixint";
  if (first <= 0x8f) return "fixmap";
  if (first <= 0x9f) return "fixarray";
  if (first <= 0xbf) return "fixstr";
  if (first >= 0xe0) return "negative fixint";
  switch (first) {
    case 0xc0:
      return "nil";
    case 0xc1:
      return "the never-used byte 0xc1";
    case 0xc2:
      return "false";
    case 0xc3:
      return "true";
    case 0xc4:
      return "bin8";
    case 0xc5:
      return "bin16";
    case 0xc6:
      return "bin32";
    case 0xc7:
      return "ext8";
    case 0xc8:
      return "ext16";
    case 0xc9:
      return "ext32";
    case 0xca:
      return "float32";
    case 0xcb:
      return "float64";
    case 0xcc:
      return "uint8";
    case 0xcd:
      return "uint16";
    case 0xce:
      return "uint32";
    case 0xcf:
      return "uint64";
    case 0xd0:
      return "int8";
    case 0xd1:
      return "int16";
    case 0xd2:
      return "int32";
    case 0xd3:
      return "int64";
    case 0xd4:
      return "fixext1";
    case 0xd5:
      return "fixext2";
    case 0xd6:
      return "fixext4";
    case 0xd7:
      return "fixext8";
    case 0xd8:
      return "fixext16";
    case 0xd9:
      return "str8";
    case 0xda:
      return "str16";
    case 0xdb:
      return "str32";
    case 0xdc:
      return "array16";
    case 0xdd:
      return "array32";
    case 0xde:
      return "map16";
    case 0xdf:
      return "map32";
    default:
      return "an unknown format";
  }
}

void reader::fail(errc code, std::size_t at, std::string_view message) {
  if (!error_.ok()) return;
  std::string text = "offset " + std::to_string(at) + ": ";
  text += message;
  error_ = status(code, std::move(text));
}

void reader::fail_type(const field_name& what, std::string_view expected, std::size_t at) {
  std::string message = "expected ";
  message += expected;
  message += " (" + what.str() + "), got ";
  message += format_name(input_[at]);
  fail(errc::malformed_frame, at, message);
}

void reader::fail_truncated(const field_name& what, std::string_view expected, std::size_t at) {
  std::string message = "expected ";
  message += expected;
  message += " (" + what.str() + "), but the input ends";
  fail(errc::malformed_frame, at, message);
}

std::uint64_t reader::take_be(std::size_t n) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < n; ++i) value = (value << 8) | input_[pos_ + i];
  pos_ += n;
  return value;
}

std::uint32_t reader::array_header(const field_name& what) {
  if (!ok()) return 0;
  const std::size_t at = pos_;
  if (remaining() == 0) {
    fail_truncated(what, "array", at);
    return 0;
  }
  const byte first = input_[at];
  std::size_t length_bytes = 0;
  if (first >= 0x90 && first <= 0x9f) {
    ++pos_;
    return first & 0x0fu;
  }
  if (first == 0xdc) {
    length_bytes = 2;
  } else if (first == 0xdd) {
    length_bytes = 4;
  } else {
    fail_type(what, "array", at);
    return 0;
  }
  if (remaining() < 1 + length_bytes) {
    fail_truncated(what, "array", at);
    return 0;
  }
  ++pos_;
  return static_cast<std::uint32_t>(take_be(length_bytes));
}

void reader::exact_array(const field_name& what, std::uint32_t count) {
  const std::size_t at = pos_;
  const std::uint32_t n = array_header(what);
  if (ok() && n != count) {
    fail(errc::malformed_frame, at,
         "expected an array of " + std::to_string(count) + " elements (" + what.str() + "), got " +
             std::to_string(n));
  }
}

std::uint32_t reader::bounded_array(const field_name& what, std::size_t limit,
                                    std::string_view limit_name, std::size_t min_element_bytes) {
  const std::size_t at = pos_;
  const std::uint32_t n = array_header(what);
  if (!ok()) return 0;
  if (n > limit) {
    std::string message = what.str() + " has " + std::to_string(n) + " elements, above ";
    message += limit_name;
    message += " (" + std::to_string(limit) + ")";
    fail(errc::limit_exceeded, at, message);
    return 0;
  }
  // n is at most 2^32 - 1 and min_element_bytes small, so the product cannot overflow 64 bits.
  if (static_cast<std::uint64_t>(n) * min_element_bytes > remaining()) {
    fail(errc::malformed_frame, at,
         what.str() + " claims " + std::to_string(n) + " elements of at least " +
             std::to_string(min_element_bytes) + " bytes, but only " + std::to_string(remaining()) +
             " bytes remain");
    return 0;
  }
  return n;
}

std::uint64_t reader::unsigned_int(const field_name& what, std::uint64_t max) {
  if (!ok()) return 0;
  const std::size_t at = pos_;
  // Built only on failure: success allocates nothing.
  const auto expected = [max] { return "an unsigned integer up to " + std::to_string(max); };
  if (remaining() == 0) {
    fail_truncated(what, expected(), at);
    return 0;
  }
  const byte first = input_[at];
  std::uint64_t value = 0;
  if (first <= 0x7f) {
    ++pos_;
    value = first;
  } else if ((first >= 0xcc && first <= 0xcf) || (first >= 0xd0 && first <= 0xd3)) {
    // 0xcc..0xcf are uint8..uint64, 0xd0..0xd3 int8..int64 (valid here when not negative).
    const std::size_t length_bytes = std::size_t{1} << ((first - 0xcc) & 0x3);
    if (remaining() < 1 + length_bytes) {
      fail_truncated(what, expected(), at);
      return 0;
    }
    ++pos_;
    value = take_be(length_bytes);
    const bool is_signed = first >= 0xd0;
    if (is_signed && (value >> (8 * length_bytes - 1)) != 0) {
      pos_ = at;
      fail(errc::malformed_frame, at,
           "expected " + expected() + " (" + what.str() + "), got a negative " +
               std::string(format_name(first)));
      return 0;
    }
  } else {
    if (first >= 0xe0) {
      fail(errc::malformed_frame, at,
           "expected " + expected() + " (" + what.str() + "), got a negative fixint");
    } else {
      fail_type(what, expected(), at);
    }
    return 0;
  }
  if (value > max) {
    pos_ = at;
    fail(errc::malformed_frame, at,
         "expected " + expected() + " (" + what.str() + "), got " + std::to_string(value));
    return 0;
  }
  return value;
}

byte_view reader::bin(const field_name& what) {
  if (!ok()) return {};
  const std::size_t at = pos_;
  if (remaining() == 0) {
    fail_truncated(what, "bin", at);
    return {};
  }
  const byte first = input_[at];
  if (first < 0xc4 || first > 0xc6) {
    fail_type(what, "bin", at);
    return {};
  }
  const std::size_t length_bytes = std::size_t{1} << (first - 0xc4);  // 1, 2, 4
  if (remaining() < 1 + length_bytes) {
    fail_truncated(what, "bin", at);
    return {};
  }
  ++pos_;
  const std::uint64_t length = take_be(length_bytes);
  if (length > remaining()) {
    pos_ = at;
    fail(errc::malformed_frame, at,
         "bin of " + std::to_string(length) + " bytes (" + what.str() + ") claims more than the " +
             std::to_string(remaining() - 1 - length_bytes) + " bytes that remain");
    return {};
  }
  const byte_view value = input_.subspan(pos_, static_cast<std::size_t>(length));
  pos_ += static_cast<std::size_t>(length);
  return value;
}

void reader::exact_bin(const field_name& what, mutable_byte_view out) {
  const std::size_t at = pos_;
  const byte_view value = bin(what);
  if (!ok()) return;
  if (value.size() != out.size()) {
    pos_ = at;
    fail(errc::malformed_frame, at,
         "expected bin of " + std::to_string(out.size()) + " bytes (" + what.str() + "), got " +
             std::to_string(value.size()) + " bytes");
    return;
  }
  std::copy(value.begin(), value.end(), out.begin());
}

bool reader::nil() noexcept {
  if (!ok() || remaining() == 0 || input_[pos_] != 0xc0) return false;
  ++pos_;
  return true;
}

void reader::expect_end() {
  if (!ok() || remaining() == 0) return;
  fail(errc::malformed_frame, pos_,
       "expected the end of the input, got " + std::to_string(remaining()) + " trailing bytes");
}

}  // namespace cryptcom::wire
