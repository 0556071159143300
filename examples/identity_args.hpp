// identity_args: the examples' authenticated-mode arguments (README, "Authenticated mode"):
//   --identity FILE      our identity: a secret certificate as `cryptcom keygen NAME` writes it
//                        (NAME_secret) or czmq's zcert_save
//   --server-key KEY     a client's: the server's public key, 40 characters of Z85
//   --allow KEY          a server's: a client public key it accepts (repeatable)
//   --allow-any          a server's: every client that proves its identity
// Without --identity the program runs base mode.
// Thread-safety: none; used from main().
#pragma once

#include <string>

#include "args.hpp"
#include "cryptcom/identity.hpp"
#include "cryptcom/options.hpp"

namespace examples {

inline cryptcom::public_key key_argument(args& a, const std::string& name, const std::string& z85) {
  const auto key = cryptcom::public_key_from_z85(z85);
  if (!key) a.fail(name + " needs a public key of 40 Z85 characters, got '" + z85 + "'");
  return *key;
}

// Reads the arguments of a client (`server` false: --identity, --server-key) or of a server
// (--identity, --allow, --allow-any) into `auth`. Fails with the usage on a bad value.
inline void identity_arguments(args& a, bool server, cryptcom::authentication& auth) {
  if (const auto file = a.value("--identity")) {
    auto id = cryptcom::identity::load(*file);
    if (!id.ok()) a.fail("--identity: " + id.error().to_string());
    auth.self = std::move(id).value();
  }
  if (server) {
    for (const auto& k : a.values("--allow")) auth.allowed.push_back(key_argument(a, "--allow", k));
    if (a.flag("--allow-any")) auth.policy = cryptcom::peer_policy::any;
    if (!auth.self && (!auth.allowed.empty() || auth.policy == cryptcom::peer_policy::any)) {
      a.fail("--allow and --allow-any need --identity");
    }
  } else if (const auto k = a.value("--server-key")) {
    auth.peer_key = key_argument(a, "--server-key", *k);
    if (!auth.self) a.fail("--server-key needs --identity");
  }
}

}  // namespace examples
