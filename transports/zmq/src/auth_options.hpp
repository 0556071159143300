// auth_options: cryptcom::zmq::sockopt's authenticated-mode options (cryptcom/zmq/sockopt.hpp,
// the C API's CRYPTCOM_IDENTITY_SECRET_KEY ... CRYPTCOM_ZAP_TIMEOUT) read into and out of a
// socket_options: keys as Z85 or 32 raw bytes, the policy, the allow-list, ZAP.
// Thread-safety: functions of their arguments.
#pragma once

#include <cstddef>
#include <optional>

#include "cryptcom/types.hpp"
#include "cryptcom/zmq/socket_options.hpp"

namespace cryptcom::zmq::detail {

bool is_auth_option(int option) noexcept;

// What the options need besides socket_options: the public key the application said its
// identity has (identity_public_key), checked against the secret key whichever comes first.
struct auth_check {
  std::optional<public_key> expected_public;
};

// Applies one option to `options`. Throws cryptcom::zmq::error (EINVAL) naming the option and
// what is wrong (a key that is neither 32 bytes nor 40 characters of Z85, a secret key that does
// not belong to the public key given, a value out of range), leaving `options` as it was.
void set_auth_option(socket_options& options, auth_check& check, int option, const void* value,
                     std::size_t size);
// Reads one option: keys as 32 bytes when *size is 32, as Z85 with its terminator (41 bytes)
// when *size is at least 41, nothing (*size 0) when unset; integers as int. Throws
// cryptcom::zmq::error (EINVAL) for a write-only option or a buffer too small.
void get_auth_option(const socket_options& options, int option, void* value, std::size_t* size);

// The engine's options for `options`: ZAP on makes the policy `ask` (the handler decides).
cryptcom::options effective_engine_options(const socket_options& options);

}  // namespace cryptcom::zmq::detail
