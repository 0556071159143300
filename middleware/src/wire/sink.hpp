// Output streams for msgpack::packer: what the encoders write through.
//
// msgpack::packer<Stream> needs only `write(const char*, std::size_t)`. vector_sink appends to a
// byte vector (frames); span_sink fills a caller's buffer of known size (the payload, written
// straight into the ciphertext area of a frame so that it is sealed in place). Overflowing a
// span_sink is a caller bug, not bad input, and aborts.
// Thread-safety: one sink per thread; it borrows its target.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cryptcom/types.hpp"

namespace cryptcom::wire {

class vector_sink {
 public:
  explicit vector_sink(std::vector<byte>& out) noexcept : out_(out) {}
  void write(const char* data, std::size_t size) {
    const auto* first = reinterpret_cast<const byte*>(data);
    out_.insert(out_.end(), first, first + size);
  }

 private:
  std::vector<byte>& out_;
};

class span_sink {
 public:
  explicit span_sink(mutable_byte_view out) noexcept : out_(out) {}
  void write(const char* data, std::size_t size) {
    if (size == 0) return;  // data may be null then, which memcpy must not see
    if (size > out_.size() - used_) {
      std::fputs("cryptcom: wire::span_sink overflow (caller passed a buffer too small)\n", stderr);
      std::abort();
    }
    std::memcpy(out_.data() + used_, data, size);
    used_ += size;
  }
  std::size_t used() const noexcept { return used_; }

 private:
  mutable_byte_view out_;
  std::size_t used_ = 0;
};

}  // namespace cryptcom::wire
