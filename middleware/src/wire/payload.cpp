// The payload: what the ciphertext of a data frame seals, the message's parts as msgpack
// [bin, ...]. See frame.hpp and docs/PROTOCOL.md.
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <msgpack.hpp>

#include "wire/encoded_size.hpp"
#include "wire/frame.hpp"
#include "wire/reader.hpp"
#include "wire/sink.hpp"

namespace cryptcom::wire {

std::size_t payload_size(std::span<const byte_view> parts) {
  std::size_t total = array_header_bytes(parts.size());
  for (const byte_view part : parts) total += bin_header_bytes(part.size()) + part.size();
  return total;
}

namespace {

template <typename Sink>
void pack_payload(std::span<const byte_view> parts, Sink& sink) {
  constexpr std::size_t max = std::numeric_limits<std::uint32_t>::max();
  bool too_big = parts.size() > max;
  for (const byte_view part : parts) too_big = too_big || part.size() > max;
  if (too_big) {
    std::fputs("cryptcom: wire: payload with more than 2^32 - 1 parts or bytes in a part\n",
               stderr);
    std::abort();
  }
  msgpack::packer<Sink> pk(sink);
  pk.pack_array(static_cast<std::uint32_t>(parts.size()));
  for (const byte_view part : parts) {
    const auto size = static_cast<std::uint32_t>(part.size());
    pk.pack_bin(size);
    pk.pack_bin_body(reinterpret_cast<const char*>(part.data()), size);
  }
}

}  // namespace

void encode_payload(std::span<const byte_view> parts, mutable_byte_view out) {
  span_sink sink(out);
  pack_payload(parts, sink);
}

void append_payload(std::span<const byte_view> parts, std::vector<byte>& out) {
  vector_sink sink(out);
  pack_payload(parts, sink);
}

status decode_payload(byte_view payload, const decode_limits& limits,
                      std::vector<byte_view>& parts_out) {
  parts_out.clear();
  reader r(payload);
  const std::uint32_t count =
      r.bounded_array({"payload"}, limits.max_parts, "max_parts", min_part_bytes);
  if (r.ok() && count == 0) {
    r.fail(errc::malformed_frame, 0, "expected at least one part (payload), got an empty array");
  }
  if (!r.ok()) return r.error();
  parts_out.reserve(count);
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
    parts_out.push_back(r.bin({"payload", "", i}));
  }
  r.expect_end();
  if (!r.ok()) {
    parts_out.clear();
    return r.error();
  }
  return status::success();
}

}  // namespace cryptcom::wire
