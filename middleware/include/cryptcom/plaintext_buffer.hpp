// plaintext_buffer: owned bytes that hold a plaintext (a message's encoded parts), zeroed with
// sodium_memzero before their memory goes back to the allocator, so that no copy of a message
// lingers in freed memory once its owner is done with it.
//
// Allocated without initialising (the writer fills it whole: zeroing a 1 MiB buffer first would
// cost a pass over memory for nothing). Move-only: a copy would be a second plaintext to wipe.
// Moving keeps the bytes where they are, so views into them stay valid; the moved-from buffer is
// empty. Move-assignment wipes what the target held before taking the other's bytes.
// Thread-safety: none (a plain owning value).
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

#include "cryptcom/types.hpp"

namespace cryptcom {

class plaintext_buffer {
 public:
  plaintext_buffer() noexcept = default;
  // `size` uninitialised bytes (std::bad_alloc when they cannot be had).
  explicit plaintext_buffer(std::size_t size);
  ~plaintext_buffer();
  plaintext_buffer(const plaintext_buffer&) = delete;
  plaintext_buffer& operator=(const plaintext_buffer&) = delete;
  plaintext_buffer(plaintext_buffer&& other) noexcept;
  plaintext_buffer& operator=(plaintext_buffer&& other) noexcept;

  // Zeroes the bytes now and frees them; the buffer is then empty.
  void clear() noexcept;

  byte* data() noexcept { return bytes_.get(); }
  const byte* data() const noexcept { return bytes_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  byte* begin() noexcept { return data(); }
  byte* end() noexcept { return data() + size_; }
  const byte* begin() const noexcept { return data(); }
  const byte* end() const noexcept { return data() + size_; }

 private:
  std::unique_ptr<byte[]> bytes_;
  std::size_t size_ = 0;
};

static_assert(std::is_nothrow_move_constructible_v<plaintext_buffer> &&
              std::is_nothrow_move_assignable_v<plaintext_buffer>);

}  // namespace cryptcom
