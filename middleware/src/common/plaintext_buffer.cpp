#include "cryptcom/plaintext_buffer.hpp"

#include <sodium.h>

#include <utility>

namespace cryptcom {

plaintext_buffer::plaintext_buffer(std::size_t size)
    : bytes_(size == 0 ? nullptr : std::make_unique_for_overwrite<byte[]>(size)), size_(size) {}

plaintext_buffer::~plaintext_buffer() { clear(); }

plaintext_buffer::plaintext_buffer(plaintext_buffer&& other) noexcept
    : bytes_(std::move(other.bytes_)), size_(std::exchange(other.size_, 0)) {}

plaintext_buffer& plaintext_buffer::operator=(plaintext_buffer&& other) noexcept {
  if (this != &other) {
    clear();
    bytes_ = std::move(other.bytes_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void plaintext_buffer::clear() noexcept {
  if (bytes_) sodium_memzero(bytes_.get(), size_);
  bytes_.reset();
  size_ = 0;
}

}  // namespace cryptcom
