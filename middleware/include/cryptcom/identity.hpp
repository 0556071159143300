// cryptcom::identity: an endpoint's long-term X25519 key pair for authenticated mode
// (docs/PROTOCOL.md §12), in CurveZMQ's format: 32-byte keys written as 40 characters of Z85
// (ZeroMQ RFC 32), so zmq_curve_keypair() makes one and czmq's certificate files (zcert: a
// `curve` section with `public-key` and `secret-key`) can be read as they are.
//
// The secret key lives in locked memory (sodium_malloc: never swapped, out of core dumps, guard
// pages) and is zeroed when the last copy of the identity goes; it is never printed, and no
// accessor hands it out. Copies of an identity share that one locked key.
// Thread-safety: an identity is immutable; copies may be used from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom {

namespace detail {
struct identity_access;  // the engine's one way to the secret key
}

class identity {
 public:
  // A fresh random key pair. Errors: out_of_memory when no locked memory can be had.
  static result<identity> generate();
  // From Z85 text (40 characters each). `public_z85` may be empty: it is then computed from the
  // secret key; when given, it must match it. Errors: invalid_argument naming what is wrong
  // (length, a character outside Z85, a public key that does not match); out_of_memory.
  static result<identity> from_z85(std::string_view public_z85, std::string_view secret_z85);
  // From a czmq certificate file (zcert_save's `NAME_secret` file, ZPL text): the `curve` section's
  // `secret-key` (and `public-key`, checked against it when present). A file without a secret
  // key (a public certificate) is invalid_argument; a file that cannot be read is unavailable;
  // both name the path.
  static result<identity> load(const std::string& path);

  const public_key& public_value() const noexcept;
  // The public key as 40 characters of Z85.
  std::string public_z85() const;

 private:
  friend struct detail::identity_access;
  struct locked;
  explicit identity(std::shared_ptr<const locked> secret, const public_key& pub);
  std::shared_ptr<const locked> secret_;
  public_key public_;
};

// Z85 (ZeroMQ RFC 32) for public keys: 32 bytes <-> 40 characters. nullopt for text that is not
// 40 characters of the Z85 alphabet.
std::optional<public_key> public_key_from_z85(std::string_view text);
std::string to_z85(const public_key& key);

}  // namespace cryptcom
