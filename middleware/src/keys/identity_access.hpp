// The engine's one way to an identity's secret key (authenticated mode, docs/PROTOCOL.md §12).
// The public header hands out no accessor, so applications cannot read it; this private header
// is included by the engine's handshake code only.
#pragma once

#include "cryptcom/identity.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::detail {

struct identity_access {
  // The 32-byte X25519 secret key, in the identity's locked, read-only memory. The view lives as
  // long as any copy of `id`. Never copy its bytes anywhere but other locked memory.
  static secret_key_view secret(const identity& id) noexcept;
};

}  // namespace cryptcom::detail
