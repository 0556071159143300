// Resident memory of this process, for the per-peer cost of a connection. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>

namespace cryptcom::bench {

// VmRSS from /proc/self/status, in bytes; empty when it cannot be read.
[[nodiscard]] std::optional<std::int64_t> resident_bytes();

// Hands memory that the allocator keeps after earlier runs back to the system, so that a
// following resident_bytes() difference counts new allocations instead of reused ones.
void release_free_memory();

}  // namespace cryptcom::bench
