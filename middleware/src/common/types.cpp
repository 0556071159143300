#include "cryptcom/types.hpp"

namespace cryptcom {

std::string to_hex(byte_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (byte b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

bool guid::is_zero() const noexcept {
  for (byte b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::string guid::hex() const { return to_hex(bytes); }

std::string guid::short_hex() const { return to_hex(byte_view(bytes).first(4)); }

}  // namespace cryptcom
