// libFuzzer target for the wire decoder: any input either decodes or is refused with a wire
// error, and whatever decodes survives a re-encode unchanged. Also feeds the payload decoder.
// Invariants checked (a violation traps, which libFuzzer reports as a crash):
//  - a refusal carries one of the decoder's documented codes and a message;
//  - msgpack-c reads an accepted frame as exactly one complete msgpack object;
//  - views (associated data, ciphertext, parts) lie inside the input, the associated data starts
//    at byte 0 and the ciphertext ends the frame;
//  - encode(decode(x)) decodes to the same values, and encoding is deterministic;
//  - the associated data of a re-encoded data frame is what encode_data said it would be;
//  - lower limits never accept what the defaults refuse;
//  - read_frame_header (what a key-blind broker reads) accepts exactly what decode accepts at any
//    size, and reports the data frame's key id and the control block's offers and acks as decoded.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <msgpack.hpp>
#include <optional>
#include <vector>

#include "cryptcom/frame_header.hpp"
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

// Version 2 (docs/PROTOCOL.md §12): every field the decoder returned survives a round trip
// through the version 2 encoders (the MAC and the sealed identity are copied, not recomputed).
void check_v2_frame(byte_view input, const decoded_frame& f) {
  check(f.version == authenticated_version);
  std::vector<byte> out;
  if (f.kind == frame_kind::handshake) {
    const handshake_view& h = f.handshake;
    std::optional<mac_layout> mac;
    switch (h.step) {
      case handshake_step::hello_request:
        encode_hello_request(h.instance, out);
        break;
      case handshake_step::initiate: {
        const initiate_layout l = encode_initiate(h.instance, h.nonce, h.enc, out);
        check(h.sealed_identity.size() == sealed_identity_size);
        std::memcpy(l.sealed_identity.data(), h.sealed_identity.data(), sealed_identity_size);
        mac = l.mac;
        break;
      }
      case handshake_step::accept:
        mac = encode_accept(h.instance, h.nonce, h.peer_nonce, out);
        break;
      case handshake_step::refuse:
        mac = encode_refuse(h.instance, h.nonce, h.peer_nonce, h.reason, out);
        break;
    }
    check(mac.has_value() == h.auth.has_value());
    if (mac) {
      check(h.auth->mac.size() == mac_size && inside(h.auth->mac, input));
      std::memcpy(mac->mac.data(), h.auth->mac.data(), mac_size);
    }
    auto again = decode(out, decode_limits{});
    check(again.ok() && again->kind == frame_kind::handshake);
    const handshake_view& e = again->handshake;
    check(e.step == h.step && e.instance == h.instance && e.nonce == h.nonce &&
          e.peer_nonce == h.peer_nonce && e.enc == h.enc && e.reason == h.reason &&
          same_bytes(e.sealed_identity, h.sealed_identity));
    if (mac) check(same_bytes(e.auth->mac, h.auth->mac));
    return;
  }
  check(f.auth.has_value() && f.auth->seq > 0 && f.auth->mac.size() == mac_size &&
        f.auth->covered.data() == input.data() && inside(f.auth->mac, input));
  if (f.kind == frame_kind::control) {
    const mac_layout m = encode_control_v2(f.auth->seq, f.control, out);
    std::memcpy(m.mac.data(), f.auth->mac.data(), mac_size);
    auto again = decode(out, decode_limits{});
    check(again.ok() && again->kind == frame_kind::control && again->control == f.control &&
          again->auth->seq == f.auth->seq && same_bytes(again->auth->mac, f.auth->mac));
    return;
  }
  const data_view& d = f.data;
  check(d.associated_data.size() > f.auth->covered.size());
  const data_layout_v2 l =
      encode_data_v2(f.auth->seq, d.key_id, d.enc, d.reply_key, d.control ? &*d.control : nullptr,
                     d.ciphertext.size(), out);
  std::memcpy(l.mac.mac.data(), f.auth->mac.data(), mac_size);
  if (!d.ciphertext.empty()) {
    std::memcpy(l.ciphertext.data(), d.ciphertext.data(), d.ciphertext.size());
  }
  auto again = decode(out, decode_limits{});
  check(again.ok() && again->kind == frame_kind::data);
  const data_view& e = again->data;
  check(e.key_id == d.key_id && e.enc == d.enc && e.reply_key == d.reply_key &&
        e.control == d.control && same_bytes(e.ciphertext, d.ciphertext) &&
        again->auth->seq == f.auth->seq && same_bytes(again->auth->mac, f.auth->mac));
}

void check_header(byte_view input, const result<decoded_frame>& decoded) {
  const result<frame_header> h = read_frame_header(input);
  check(h.ok() == decoded.ok());
  if (!h.ok()) return;
  check(h->version == decoded->version && h->kind == static_cast<std::uint8_t>(decoded->kind));
  const control_block* block = nullptr;
  if (decoded->kind == frame_kind::control) block = &decoded->control;
  if (decoded->kind == frame_kind::data) {
    check(h->key_id && *h->key_id == decoded->data.key_id);
    check(h->reply_key_id.has_value() == decoded->data.reply_key.has_value());
    if (decoded->data.control) block = &*decoded->data.control;
  } else {
    check(!h->key_id);
  }
  check(h->offers.size() == (block ? block->offers.size() : 0));
  for (std::size_t i = 0; i < h->offers.size(); ++i)
    check(h->offers[i].id == block->offers[i].id && h->offers[i].ttl_ms == block->offers[i].ttl_ms);
  check(h->acks == (block ? block->acks : std::vector<guid>{}));
}

void fuzz_frame(byte_view input) {
  auto decoded = decode(input, decode_limits{});
  // Below the default frame limit the two readers agree exactly.
  if (input.size() <= decode_limits{}.max_frame_bytes) check_header(input, decoded);
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
  if (decoded->version == authenticated_version) {
    check_v2_frame(input, *decoded);
    return;
  }
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
