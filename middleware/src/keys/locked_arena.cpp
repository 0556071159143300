#include "keys/locked_arena.hpp"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace cryptcom::keys {
namespace {

// sodium_malloc puts a 16-byte canary in front of the user region and places the region at the
// end of its page-rounded, locked area. Sizing chunks to fill that area exactly wastes nothing.
// If a libsodium version used another size the only cost would be one page per chunk.
constexpr std::size_t k_sodium_canary = 16;
constexpr std::size_t k_max_slots = std::size_t{UINT32_MAX} - 16;

std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

std::size_t page_size() noexcept {
  const long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? static_cast<std::size_t>(p) : 4096;
}

void ensure_sodium() noexcept {
  // sodium_init is idempotent and thread-safe; sodium_malloc needs it for the page size.
  if (sodium_init() < 0) std::abort();
}

}  // namespace

locked_arena::locked_arena(std::size_t slot_size, std::size_t slots_per_chunk,
                           std::size_t max_slots)
    : slot_size_(slot_size),
      slots_per_chunk_(slots_per_chunk),
      max_slots_(std::min(max_slots, k_max_slots)),
      chunk_locked_bytes_(0),
      page_size_(page_size()) {
  if (slot_size_ == 0 || slots_per_chunk_ == 0) std::abort();  // misuse, see header
  ensure_sodium();
  // A chunk larger than the bound would only lock memory no slot can use.
  slots_per_chunk_ = std::min(slots_per_chunk_, std::max<std::size_t>(max_slots_, 1));
  const std::size_t wanted = slots_per_chunk_ * slot_size_ + k_sodium_canary;
  chunk_locked_bytes_ = round_up(wanted, page_size_);
  slots_per_chunk_ = (chunk_locked_bytes_ - k_sodium_canary) / slot_size_;
}

locked_arena::~locked_arena() {
  // sodium_free zeroes the whole locked region before unlocking and unmapping it.
  for (byte* chunk : chunks_) sodium_free(chunk);
}

bool locked_arena::grow() {
  const std::size_t n = std::min(slots_per_chunk_, max_slots_ - capacity_);
  const std::size_t size = n * slot_size_;
  // Reserve first: release() must never allocate, and a failed reserve must not leak a chunk.
  chunks_.reserve(chunks_.size() + 1);
  free_.reserve(capacity_ + n);
  allocated_.resize((capacity_ + n + 63) / 64, 0);

  auto* chunk = static_cast<byte*>(sodium_malloc(size));
  if (chunk == nullptr) return false;
  // sodium_malloc fills with 0xdb so that uninitialised use shows; slots are handed out zeroed.
  sodium_memzero(chunk, size);
  // sodium_malloc locks the region but ignores failure (RLIMIT_MEMLOCK). Lock again and listen:
  // pages already locked are not counted twice against the limit, so this only reports.
  const auto begin = reinterpret_cast<std::uintptr_t>(chunk) / page_size_ * page_size_;
  const auto end = round_up(reinterpret_cast<std::uintptr_t>(chunk) + size, page_size_);
  if (sodium_mlock(reinterpret_cast<void*>(begin), end - begin) != 0) fully_locked_ = false;
  locked_bytes_ += end - begin;

  chunks_.push_back(chunk);
  // Lowest index on top, so a fresh arena hands out 0, 1, 2, ...
  for (std::size_t i = capacity_ + n; i > capacity_; --i) free_.push_back(static_cast<slot>(i - 1));
  capacity_ += n;
  return true;
}

result<locked_arena::slot> locked_arena::allocate() {
  if (free_.empty()) {
    if (capacity_ >= max_slots_) {
      return status(errc::limit_exceeded,
                    "locked arena: max_slots (" + std::to_string(max_slots_) + ") reached");
    }
    if (!grow()) {
      return status(errc::out_of_memory, "locked arena: the OS refused " +
                                             std::to_string(chunk_locked_bytes_) +
                                             " bytes of guarded memory");
    }
  }
  const slot s = free_.back();
  free_.pop_back();
  allocated_[s / 64] |= std::uint64_t{1} << (s % 64);
  return s;
}

status locked_arena::reserve(std::size_t slots) {
  while (capacity_ < std::min(slots, max_slots_)) {
    if (!grow()) {
      return status(errc::out_of_memory, "locked arena: the OS refused " +
                                             std::to_string(chunk_locked_bytes_) +
                                             " bytes of guarded memory");
    }
  }
  return status::success();
}

void locked_arena::release(slot s) noexcept {
  const std::uint64_t bit = std::uint64_t{1} << (s % 64);
  if (s >= capacity_ || (allocated_[s / 64] & bit) == 0) std::abort();  // misuse, see header
  allocated_[s / 64] &= ~bit;
  const std::span<byte> b = bytes(s);
  sodium_memzero(b.data(), b.size());
  free_.push_back(s);  // capacity reserved in grow(): no allocation
}

std::span<byte> locked_arena::bytes(slot s) noexcept {
  assert(s < capacity_);
  return {chunks_[s / slots_per_chunk_] + (s % slots_per_chunk_) * slot_size_, slot_size_};
}

std::span<const byte> locked_arena::bytes(slot s) const noexcept {
  assert(s < capacity_);
  return {chunks_[s / slots_per_chunk_] + (s % slots_per_chunk_) * slot_size_, slot_size_};
}

std::size_t locked_arena::in_use() const noexcept { return capacity_ - free_.size(); }
std::size_t locked_arena::capacity() const noexcept { return capacity_; }
std::size_t locked_arena::max_slots() const noexcept { return max_slots_; }
bool locked_arena::fully_locked() const noexcept { return fully_locked_; }
std::size_t locked_arena::locked_bytes() const noexcept { return locked_bytes_; }

std::size_t locked_arena::bookkeeping_bytes() const noexcept {
  return chunks_.capacity() * sizeof(byte*) + free_.capacity() * sizeof(slot) +
         allocated_.capacity() * sizeof(std::uint64_t) + chunks_.size() * page_size_;
}

}  // namespace cryptcom::keys
