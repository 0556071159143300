// locked_arena: fixed-size slots for secrets, in memory that is locked (never swapped), excluded
// from core dumps and zeroed whenever a slot is released.
//
// One sodium_malloc'd chunk (guard pages, mlock, MADV_DONTDUMP) serves many slots, so taking and
// releasing a slot costs no system call. Chunks are added up to `max_slots`; nothing is returned
// to the OS until the arena is destroyed (then everything is zeroed by sodium_free). Chunks never
// move, so the bytes of a slot stay at the same address for the arena's whole life.
// Thread-safety: none; the owner serialises access. Writing into the bytes of a slot one owns
// needs no lock, since no other call touches them while the slot is allocated.
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
  // growth; rounded up so that a chunk fills its last page (libsodium locks whole pages anyway).
  // max_slots: hard bound (at most UINT32_MAX - 16, the rest is reserved for markers).
  // slot_size == 0 or slots_per_chunk == 0 is caller misuse and aborts.
  locked_arena(std::size_t slot_size, std::size_t slots_per_chunk, std::size_t max_slots);
  ~locked_arena();
  locked_arena(const locked_arena&) = delete;
  locked_arena& operator=(const locked_arena&) = delete;

  // A zeroed slot; errc::limit_exceeded at max_slots, errc::out_of_memory when the OS refuses.
  result<slot> allocate();
  // Grows now until capacity() >= min(slots, max_slots()), so later allocations make no system
  // call (and fully_locked() is known up front). errc::out_of_memory when the OS refuses.
  status reserve(std::size_t slots);
  // Zeroes the slot and makes it available again. Releasing a slot that is not allocated is
  // caller misuse and aborts (it would hand the same bytes to two owners).
  void release(slot s) noexcept;
  // The bytes of a slot below capacity(). Released slots still read (as zeros) until reused.
  std::span<byte> bytes(slot s) noexcept;
  std::span<const byte> bytes(slot s) const noexcept;

  std::size_t in_use() const noexcept;
  std::size_t capacity() const noexcept;  // slots currently backed by chunks
  std::size_t max_slots() const noexcept;
  std::size_t slot_size() const noexcept { return slot_size_; }
  std::size_t slots_per_chunk() const noexcept { return slots_per_chunk_; }
  // True when every chunk could be mlock'ed (false: RLIMIT_MEMLOCK too small; still zeroed
  // and excluded from dumps, and reported through the stats).
  bool fully_locked() const noexcept;
  // Bytes of the chunks' slot memory, whole pages (the region libsodium locks). Guard pages are
  // address space only and not counted.
  std::size_t locked_bytes() const noexcept;
  // Ordinary heap bytes the arena uses to track its slots, plus the one read-only header page
  // libsodium keeps in front of each chunk: for the owner's memory accounting.
  std::size_t bookkeeping_bytes() const noexcept;

 private:
  bool grow();

  std::size_t slot_size_;
  std::size_t slots_per_chunk_;
  std::size_t max_slots_;
  std::size_t chunk_locked_bytes_;  // page-rounded size of a full chunk's slot memory
  std::size_t page_size_;
  std::vector<byte*> chunks_;
  std::size_t capacity_ = 0;
  std::size_t locked_bytes_ = 0;
  bool fully_locked_ = true;
  // Free slots, lowest index on top; reserved to capacity so release() never allocates.
  std::vector<slot> free_;
  // One bit per slot, set while allocated: catches double and foreign releases.
  std::vector<std::uint64_t> allocated_;
};

}  // namespace cryptcom::keys
