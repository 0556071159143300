// A checked cursor over msgpack bytes: the strict half of the wire codec.
//
// The decoders walk a fixed schema with it, one element at a time, so every type, length and
// count is checked against the input (and by the caller against the limits) before anything is
// built from it. Nothing here allocates except the message of an error; bin values come back as
// views into the input. Nesting cannot grow: the schema, not the input, decides where a container
// may start, so a "nesting bomb" is a type error at its first byte.
//
// Errors are sticky, as in a stream: the first failure is kept (with its byte offset and what was
// expected), every later read consumes nothing and returns a zero value, and the caller checks
// ok() before acting on a value. Integers are accepted in any msgpack integer format whose value
// fits (peers need not pick the shortest form); bin only in the bin formats.
// Thread-safety: one reader per thread; it borrows the input, which must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::wire {

// Names the element being read in error messages ("control.offers[3].id") without building a
// string unless there is an error.
struct field_name {
  std::string_view path;
  std::string_view member = {};
  std::size_t index = no_index;
  std::string_view leaf = {};

  static constexpr std::size_t no_index = static_cast<std::size_t>(-1);
  std::string str() const;
};

class reader {
 public:
  explicit reader(byte_view input) noexcept : input_(input) {}

  bool ok() const noexcept { return error_.ok(); }
  const status& error() const noexcept { return error_; }
  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return input_.size() - pos_; }

  // An array header; returns its element count, which the caller checks.
  std::uint32_t array_header(const field_name& what);
  // An array header with exactly `count` elements.
  void exact_array(const field_name& what, std::uint32_t count);
  // An array header of at most `limit` elements (else limit_exceeded naming `limit_name`), whose
  // elements, each at least `min_element_bytes` long, fit in the bytes that remain. Only after
  // this may the caller reserve room for the elements.
  std::uint32_t bounded_array(const field_name& what, std::size_t limit,
                              std::string_view limit_name, std::size_t min_element_bytes);
  // An unsigned integer no larger than `max`.
  std::uint64_t unsigned_int(const field_name& what, std::uint64_t max);
  // A bin of any length that fits in the input.
  byte_view bin(const field_name& what);
  // A bin of exactly out.size() bytes, copied into `out`.
  void exact_bin(const field_name& what, mutable_byte_view out);
  // Consumes a nil and returns true if the next element is one.
  bool nil() noexcept;
  // No bytes may follow the last element.
  void expect_end();

  // Records an error at `at` (a byte offset) unless one is already recorded.
  void fail(errc code, std::size_t at, std::string_view message);

 private:
  // Reads `n` bytes big-endian at the cursor; the caller checked that they are there.
  std::uint64_t take_be(std::size_t n) noexcept;
  void fail_type(const field_name& what, std::string_view expected, std::size_t at);
  void fail_truncated(const field_name& what, std::string_view expected, std::size_t at);

  byte_view input_;
  std::size_t pos_ = 0;
  status error_;
};

// The msgpack format a byte starts ("bin8", "fixmap", "negative fixint", ...), for messages.
std::string_view format_name(byte first) noexcept;

}  // namespace cryptcom::wire
