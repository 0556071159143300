// Authenticated-mode socket options; see auth_options.hpp.
#include "auth_options.hpp"

#include <sodium.h>

#include <zmq.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "cryptcom/identity.hpp"
#include "cryptcom/zmq/error.hpp"
#include "cryptcom/zmq/sockopt.hpp"

namespace cryptcom::zmq::detail {
namespace {

using namespace cryptcom::zmq::sockopt;

constexpr std::size_t z85_size = 40;

const char* name_of(int option) {
  switch (option) {
    case identity_secret_key_id:
      return "identity_secret_key (CRYPTCOM_IDENTITY_SECRET_KEY)";
    case identity_public_key_id:
      return "identity_public_key (CRYPTCOM_IDENTITY_PUBLIC_KEY)";
    case server_key_id:
      return "server_key (CRYPTCOM_SERVER_KEY)";
    case allow_key_id:
      return "allow_key (CRYPTCOM_ALLOW_KEY)";
    case accept_any_identity_id:
      return "accept_any_identity (CRYPTCOM_ACCEPT_ANY_IDENTITY)";
    case identity_policy_id:
      return "identity_policy (CRYPTCOM_IDENTITY_POLICY)";
    case zap_id:
      return "zap (CRYPTCOM_ZAP)";
    case zap_domain_id:
      return "zap_domain (CRYPTCOM_ZAP_DOMAIN)";
    case zap_timeout_id:
      return "zap_timeout (CRYPTCOM_ZAP_TIMEOUT)";
    default:
      return "?";
  }
}

[[noreturn]] void invalid(int option, const std::string& why) {
  throw error(EINVAL, std::string("cryptcom::zmq::socket: ") + name_of(option) + ": " + why);
}

// A key given as 40 characters of Z85 (a terminating NUL allowed, as C strings come) or as 32
// raw bytes; nullopt for anything else.
std::optional<std::string_view> z85_text(const void* value, std::size_t size) {
  const char* p = static_cast<const char*>(value);
  if (size == z85_size + 1 && p[z85_size] == '\0') size = z85_size;
  if (size != z85_size) return std::nullopt;
  return std::string_view(p, size);
}

std::string key_format_error(std::size_t size) {
  return "a key is 32 bytes or 40 characters of Z85, got " + std::to_string(size) + " bytes";
}

public_key public_key_of(int option, const void* value, std::size_t size) {
  if (value == nullptr) invalid(option, "the value is NULL");
  if (size == public_key_size) {
    public_key k;
    std::memcpy(k.bytes.data(), value, public_key_size);
    return k;
  }
  const auto text = z85_text(value, size);
  if (!text) invalid(option, key_format_error(size));
  const auto k = public_key_from_z85(*text);
  if (!k) invalid(option, "the value is not Z85 (ZeroMQ RFC 32) text");
  return *k;
}

cryptcom::identity identity_of(int option, const void* value, std::size_t size) {
  if (value == nullptr) invalid(option, "the value is NULL");
  result<cryptcom::identity> id = [&]() -> result<cryptcom::identity> {
    if (size != secret_key_size) {
      const auto text = z85_text(value, size);
      if (!text) invalid(option, key_format_error(size));
      return cryptcom::identity::from_z85({}, *text);
    }
    // identity takes Z85 text: the raw key is encoded on the stack and wiped right after.
    std::array<char, z85_size + 1> text{};
    if (zmq_z85_encode(text.data(), static_cast<const std::uint8_t*>(value), size) == nullptr) {
      invalid(option, "the key could not be encoded");
    }
    auto made = cryptcom::identity::from_z85({}, std::string_view(text.data(), z85_size));
    sodium_memzero(text.data(), text.size());
    return made;
  }();
  if (!id.ok()) invalid(option, id.error().to_string());
  return std::move(id).value();
}

int int_of(int option, const void* value, std::size_t size) {
  if (value == nullptr) invalid(option, "the value is NULL");
  if (size != sizeof(int)) {
    invalid(option, "takes an int (" + std::to_string(sizeof(int)) + " bytes), got " +
                        std::to_string(size) + " bytes");
  }
  int v = 0;
  std::memcpy(&v, value, sizeof v);
  return v;
}

void put_int(int option, int v, void* value, std::size_t* size) {
  if (*size < sizeof v) invalid(option, "is an int; the buffer is too small");
  std::memcpy(value, &v, sizeof v);
  *size = sizeof v;
}

void put_key(int option, const std::optional<public_key>& k, void* value, std::size_t* size) {
  if (!k) {
    *size = 0;
    return;
  }
  if (*size == public_key_size) {
    std::memcpy(value, k->bytes.data(), public_key_size);
    return;
  }
  if (*size < z85_size + 1) {
    invalid(option, "a key is read into 32 bytes (raw) or 41 bytes (Z85 and its terminator)");
  }
  const std::string text = to_z85(*k);
  std::memcpy(value, text.c_str(), z85_size + 1);
  *size = z85_size + 1;
}

}  // namespace

bool is_auth_option(int option) noexcept {
  return option >= identity_secret_key_id && option <= zap_timeout_id;
}

void set_auth_option(socket_options& options, auth_check& check, int option, const void* value,
                     std::size_t size) {
  authentication& auth = options.engine.auth;
  switch (option) {
    case identity_secret_key_id: {
      cryptcom::identity id = identity_of(option, value, size);
      if (check.expected_public && !(*check.expected_public == id.public_value())) {
        invalid(option,
                "the secret key does not belong to the public key set with "
                "identity_public_key");
      }
      auth.self = std::move(id);
      return;
    }
    case identity_public_key_id: {
      const public_key k = public_key_of(option, value, size);
      if (auth.self && !(auth.self->public_value() == k)) {
        invalid(option,
                "the public key does not belong to the secret key set with "
                "identity_secret_key");
      }
      check.expected_public = k;
      return;
    }
    case server_key_id:
      if (size == 0) {
        auth.peer_key.reset();
      } else {
        auth.peer_key = public_key_of(option, value, size);
      }
      return;
    case allow_key_id: {
      if (size == 0) {
        auth.allowed.clear();
        return;
      }
      const public_key k = public_key_of(option, value, size);
      if (std::find(auth.allowed.begin(), auth.allowed.end(), k) == auth.allowed.end()) {
        auth.allowed.push_back(k);
      }
      return;
    }
    case accept_any_identity_id:
      auth.policy = int_of(option, value, size) != 0 ? peer_policy::any : peer_policy::allow_list;
      return;
    case identity_policy_id: {
      const int v = int_of(option, value, size);
      if (v < static_cast<int>(peer_policy::any) || v > static_cast<int>(peer_policy::ask)) {
        invalid(option, std::to_string(v) + " is not a policy (0 any, 1 allow-list, 2 ask)");
      }
      auth.policy = static_cast<peer_policy>(v);
      return;
    }
    case zap_id:
      if (int_of(option, value, size) != 0) {
        if (!options.zap_domain) options.zap_domain.emplace();
      } else {
        options.zap_domain.reset();
      }
      return;
    case zap_domain_id: {
      if (value == nullptr && size > 0) invalid(option, "the value is NULL");
      std::string_view domain(static_cast<const char*>(value), size);
      if (!domain.empty() && domain.back() == '\0') domain.remove_suffix(1);
      if (domain.find('\0') != std::string_view::npos) invalid(option, "contains a NUL byte");
      options.zap_domain = std::string(domain);
      return;
    }
    case zap_timeout_id: {
      const int v = int_of(option, value, size);
      if (v <= 0) invalid(option, "must be a positive number of milliseconds");
      options.zap_timeout = std::chrono::milliseconds(v);
      return;
    }
    default:
      invalid(option, "not an authenticated-mode option");
  }
}

void get_auth_option(const socket_options& options, int option, void* value, std::size_t* size) {
  const authentication& auth = options.engine.auth;
  switch (option) {
    case identity_public_key_id:
      put_key(option,
              auth.self ? std::optional<public_key>(auth.self->public_value()) : std::nullopt,
              value, size);
      return;
    case server_key_id:
      put_key(option, auth.peer_key, value, size);
      return;
    case accept_any_identity_id:
      put_int(option, auth.policy == peer_policy::any ? 1 : 0, value, size);
      return;
    case identity_policy_id:
      put_int(option, static_cast<int>(effective_engine_options(options).auth.policy), value, size);
      return;
    case zap_id:
      put_int(option, options.zap_domain ? 1 : 0, value, size);
      return;
    case zap_domain_id: {
      const std::string domain = options.zap_domain.value_or(std::string());
      if (*size < domain.size() + 1) invalid(option, "the buffer is too small");
      std::memcpy(value, domain.c_str(), domain.size() + 1);
      *size = domain.size() + 1;
      return;
    }
    case zap_timeout_id:
      put_int(option, static_cast<int>(options.zap_timeout.count()), value, size);
      return;
    case identity_secret_key_id:
      invalid(option, "is write-only: the secret key never leaves the socket");
    case allow_key_id:
      invalid(option, "is write-only");
    default:
      invalid(option, "not an authenticated-mode option");
  }
}

cryptcom::options effective_engine_options(const socket_options& options) {
  cryptcom::options e = options.engine;
  if (options.zap_domain) e.auth.policy = peer_policy::ask;
  return e;
}

}  // namespace cryptcom::zmq::detail
