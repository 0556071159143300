// locked_arena: fixed-size slots for secrets, in memory that is locked (never swapped), excluded
// from core dumps and zeroed whenever a slot is released.
//
// One sodium_malloc'd chunk (guard pages, mlock, MADV_DONTDUMP) serves many slots, so taking and
// releasing a slot costs no system call. Chunks are added up to `max_slots`; nothing is returned
// to the OS until the arena is destroyed (then everything is zeroed by sodium_free).
// Thread-safety: none; the owner serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::keys {

class locked_arena {
 public:
  using slot = std::uint32_t;
  static constexpr slot no_slot = UINT32_MAX;

  // slot_size: bytes per slot (32 for an X25519 private key). slots_per_chunk: granularity of
  // growth. max_slots: hard bound.
  locked_arena(std::size_t slot_size, std::size_t slots_per_chunk, std::size_t max_slots);
  ~locked_arena();
  locked_arena(const locked_arena&) = delete;
  locked_arena& operator=(const locked_arena&) = delete;

  // A zeroed slot; errc::limit_exceeded at max_slots, errc::out_of_memory when the OS refuses.
  result<slot> allocate();
  // Zeroes the slot and makes it available again.
  void release(slot s) noexcept;
  std::span<byte> bytes(slot s) noexcept;
  std::span<const byte> bytes(slot s) const noexcept;

  std::size_t in_use() const noexcept;
  std::size_t capacity() const noexcept;  // slots currently backed by chunks
  std::size_t max_slots() const noexcept;
  // True when every chunk could be mlock'ed (false: RLIMIT_MEMLOCK too small; still zeroed
  // and excluded from dumps, and reported through the stats).
  bool fully_locked() const noexcept;
  std::size_t locked_bytes() const noexcept;
  // (private members: the implementer chooses)
};

}  // namespace cryptcom::keys
