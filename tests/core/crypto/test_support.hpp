// Helpers for the crypto tests: hex decoding, reading the shared test vectors where they sit
// (CRYPTCOM_VECTORS_DIR), and throwaway X25519 key pairs made directly with libsodium.
// Thread-safety: plain functions; each test uses its own values.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cryptcom/types.hpp"

namespace cryptcom::test {

inline std::vector<byte> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd-length hex string");
  auto nibble = [](char c) -> byte {
    if (c >= '0' && c <= '9') return static_cast<byte>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<byte>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<byte>(c - 'A' + 10);
    throw std::invalid_argument("bad hex digit");
  };
  std::vector<byte> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<byte>((nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]));
  }
  return out;
}

inline std::vector<byte> hex_field(const nlohmann::json& object, const char* name) {
  return from_hex(object.at(name).get<std::string>());
}

template <std::size_t N>
std::array<byte, N> hex_array(const nlohmann::json& object, const char* name) {
  const std::vector<byte> bytes = hex_field(object, name);
  if (bytes.size() != N) throw std::invalid_argument(std::string("wrong length for ") + name);
  std::array<byte, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

inline std::vector<byte> to_vector(byte_view v) { return {v.begin(), v.end()}; }

inline std::string vectors_path(std::string_view relative) {
  return std::string(CRYPTCOM_VECTORS_DIR) + "/" + std::string(relative);
}

inline std::optional<nlohmann::json> load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return nlohmann::json::parse(in);
}

inline bool running_in_ci() { return std::getenv("CI") != nullptr; }

// A fresh X25519 pair straight from libsodium (independent of the code under test).
struct test_key_pair {
  std::array<byte, secret_key_size> secret{};
  public_key public_value;

  test_key_pair() {
    if (sodium_init() < 0) std::abort();
    randombytes_buf(secret.data(), secret.size());
    crypto_scalarmult_base(public_value.bytes.data(), secret.data());
  }
  test_key_pair(const test_key_pair&) = delete;
  test_key_pair& operator=(const test_key_pair&) = delete;
  ~test_key_pair() { sodium_memzero(secret.data(), secret.size()); }
};

}  // namespace cryptcom::test

// Loads a vector file into `var`; when it is missing, fails under CI and skips elsewhere, naming
// the exact path looked at. Use at the top of a TEST body.
#define CRYPTCOM_LOAD_VECTORS(var, relative)                                                  \
  const std::string var##_path = ::cryptcom::test::vectors_path(relative);                    \
  const std::optional<nlohmann::json> var##_loaded = ::cryptcom::test::load_json(var##_path); \
  if (!var##_loaded) {                                                                        \
    if (::cryptcom::test::running_in_ci()) {                                                  \
      FAIL() << "test vectors not found at " << var##_path << " (CI is set)";                 \
    } else {                                                                                  \
      GTEST_SKIP() << "test vectors not found at " << var##_path;                             \
    }                                                                                         \
  }                                                                                           \
  const nlohmann::json& var = *var##_loaded
