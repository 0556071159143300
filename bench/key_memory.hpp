// Resident memory per live one-time key: what holding keys costs, measured rather than computed.
// Not thread-safe (it reads the process's resident size, which other threads would disturb).
#pragma once

#include <cstddef>

#include "system.hpp"

namespace cryptcom::bench {

// Two engines back to back in this process, no sockets: A asks B for `keys` keys at once; B
// generates them (from a key pool made with `settings`), keeps their private halves in its key
// store and offers the public halves, which A keeps. Returns the growth of the resident set from
// before the request to when A holds every key, divided by `keys`, after malloc_trim on both
// sides of the measurement: both ends' bookkeeping per key (B's locked slot, index and expiry
// record; A's copy of the public key, GUID and deadline). Throws std::runtime_error when the
// keys do not arrive or the resident size cannot be read.
[[nodiscard]] double measure_key_memory(std::size_t keys, const cryptcom_settings& settings);

}  // namespace cryptcom::bench
