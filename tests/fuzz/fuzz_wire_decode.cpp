// libFuzzer target for the wire decoder: any input either decodes or is refused with a wire
// error, and whatever decodes survives a re-encode unchanged. Also feeds the payload decoder.
// Invariants checked (a violation traps, which libFuzzer reports as a crash):
//  - a refusal carries one of the decoder's documented codes and a message;
//  - msgpack-c reads an accepted frame as exactly one complete msgpack object;
//  - views (associated data, ciphertext, parts) lie inside the input, the associated data starts
//    at byte 0 and the ciphertext ends the frame;
//  - encode(decode(x)) decodes to the same values, and encoding is deterministic;
//  - the associated data of a re-encoded data frame is what encode_data said it would be;
//  - lower limits never accept what the defaults refuse.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <msgpack.hpp>
#include <vector>

#include "wire/frame.hpp"

namespace {

using namespace cryptcom;
using namespace cryptcom::wire;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

bool inside(byte_view inner, byte_view outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

bool same_bytes(byte_view a, byte_view b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

bool decoder_code(errc code) {
  return code == errc::malformed_frame || code == errc::unsupported_version ||
         code == errc::unknown_kind || code == errc::limit_exceeded ||
         code == errc::message_too_large;
}

void check_is_one_msgpack_object(byte_view input) {
  try {
    std::size_t off = 0;
    msgpack::object_handle oh =
        msgpack::unpack(reinterpret_cast<const char*>(input.data()), input.size(), off);
    check(off == input.size());
  } catch (const std::exception&) {
    check(false);
  }
}

void check_data_frame(byte_view input, const data_view& d) {
  check(d.associated_data.data() == input.data());
  check(inside(d.ciphertext, input));
  check(d.ciphertext.data() + d.ciphertext.size() == input.data() + input.size());
  check(d.associated_data.size() + d.ciphertext.size() < input.size());

  std::vector<byte> out;
  const data_layout layout = encode_data(
      d.key_id, d.enc, d.reply_key, d.control ? &*d.control : nullptr, d.ciphertext.size(), out);
  if (!d.ciphertext.empty()) {
    std::memcpy(layout.ciphertext.data(), d.ciphertext.data(), d.ciphertext.size());
  }
  const std::vector<byte> first = out;
  auto again = decode(first, decode_limits{});
  check(again.ok() && again->kind == frame_kind::data);
  const data_view& e = again->data;
  check(e.key_id == d.key_id && e.enc == d.enc && e.reply_key == d.reply_key &&
        e.control == d.control && same_bytes(e.ciphertext, d.ciphertext));
  check(e.associated_data.size() == layout.associated_data.size() &&
        e.associated_data.data() == first.data());
  check(same_bytes(e.associated_data, byte_view(out).first(layout.associated_data.size())));

  std::vector<byte> second;
  const data_layout layout2 = encode_data(
      e.key_id, e.enc, e.reply_key, e.control ? &*e.control : nullptr, e.ciphertext.size(), second);
  if (!e.ciphertext.empty()) {
    std::memcpy(layout2.ciphertext.data(), e.ciphertext.data(), e.ciphertext.size());
  }
  check(second == first);
}

void check_control_frame(const control_block& block) {
  std::vector<byte> first;
  encode_control(block, first);
  auto again = decode(first, decode_limits{});
  check(again.ok() && again->kind == frame_kind::control && again->control == block);
  std::vector<byte> second;
  encode_control(again->control, second);
  check(second == first);
}

void fuzz_frame(byte_view input) {
  auto decoded = decode(input, decode_limits{});
  decode_limits small;
  small.max_frame_bytes = 4096;
  small.max_offers = 2;
  small.max_acks = 3;
  small.max_rejections = 1;
  auto decoded_small = decode(input, small);
  if (decoded_small.ok()) check(decoded.ok());

  if (!decoded.ok()) {
    const status error = decoded.error();
    check(decoder_code(error.code()) && !error.message().empty());
    return;
  }
  check_is_one_msgpack_object(input);
  if (decoded->kind == frame_kind::control) {
    check_control_frame(decoded->control);
  } else {
    check(decoded->kind == frame_kind::data);
    check_data_frame(input, decoded->data);
  }
}

void fuzz_payload(byte_view input) {
  std::vector<byte_view> parts;
  const status s = decode_payload(input, decode_limits{}, parts);
  if (!s.ok()) {
    check((s.code() == errc::malformed_frame || s.code() == errc::limit_exceeded) && parts.empty());
    return;
  }
  check(!parts.empty());
  check_is_one_msgpack_object(input);
  for (byte_view part : parts) check(inside(part, input));
  std::vector<byte> out(payload_size(parts));
  check(out.size() <= input.size());  // our encoding is the shortest
  encode_payload(parts, out);
  std::vector<byte_view> again;
  check(decode_payload(out, decode_limits{}, again).ok());
  check(again.size() == parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) check(same_bytes(again[i], parts[i]));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const byte_view input(data, size);
  fuzz_frame(input);
  fuzz_payload(input);
  return 0;
}
