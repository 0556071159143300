#include "wire/frame.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <msgpack.hpp>
#include <string>

#include "wire/encoded_size.hpp"
#include "wire/reader.hpp"
#include "wire/sink.hpp"

namespace cryptcom::wire {
namespace {

using packer = msgpack::packer<vector_sink>;

constexpr std::uint64_t uint32_max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t uint64_max = std::numeric_limits<std::uint64_t>::max();
// The most a hello takes as our encoder writes it (uint32, uint64, uint16, uint64, uint32).
constexpr std::size_t hello_bound = 1 + 5 + 9 + 3 + 9 + 5;
// Rejection reasons are errc values other than ok; errc::internal is the last one defined.
// Keep this in step with status.hpp: a reason we cannot name is malformed.
constexpr std::uint64_t last_known_reason = static_cast<std::uint64_t>(errc::internal);

[[noreturn]] void misuse(const char* what) {
  std::fprintf(stderr, "cryptcom: wire: %s\n", what);
  std::abort();
}

void pack_bytes(packer& pk, byte_view bytes) {
  const auto size = static_cast<std::uint32_t>(bytes.size());
  pk.pack_bin(size);
  pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), size);
}

void pack_offered_key(packer& pk, const offered_key& key) {
  pk.pack_array(3);
  pack_bytes(pk, key.id.bytes);
  pack_bytes(pk, key.key.bytes);
  pk.pack_uint32(key.ttl_ms);
}

void pack_control_block(packer& pk, const control_block& block) {
  pk.pack_array(block.about_sender ? 6 : 5);
  pack_bytes(pk, block.instance.bytes);
  pk.pack_uint32(block.wanted);
  pk.pack_array(static_cast<std::uint32_t>(block.offers.size()));
  for (const offered_key& key : block.offers) pack_offered_key(pk, key);
  pk.pack_array(static_cast<std::uint32_t>(block.acks.size()));
  for (const guid& id : block.acks) pack_bytes(pk, id.bytes);
  pk.pack_array(static_cast<std::uint32_t>(block.rejections.size()));
  for (const rejection& r : block.rejections) {
    pk.pack_array(2);
    pack_bytes(pk, r.id.bytes);
    pk.pack_uint8(static_cast<std::uint8_t>(r.reason));
  }
  if (const auto& h = block.about_sender) {
    pk.pack_array(5);
    pk.pack_uint32(h->max_version);
    pk.pack_uint64(h->features);
    pk.pack_uint16(h->aead);
    pk.pack_uint64(h->max_message_bytes);
    pk.pack_uint32(h->max_parts);
  }
}

// An upper bound of pack_control_block's output, so that encoding reallocates at most once.
std::size_t control_block_bound(const control_block& block) {
  return 1 + encoded_guid_bytes + 5 + 5 +
         block.offers.size() * (1 + encoded_guid_bytes + encoded_key_bytes + 5) + 5 +
         block.acks.size() * encoded_guid_bytes + 5 +
         block.rejections.size() * (1 + encoded_guid_bytes + 2) + hello_bound;
}

void check_block(const control_block& block) {
  if (block.offers.size() > uint32_max || block.acks.size() > uint32_max ||
      block.rejections.size() > uint32_max) {
    misuse("control block with more than 2^32 - 1 elements in a list");
  }
}

void read_offered_key(reader& r, field_name base, offered_key& out) {
  r.exact_array(base, 3);
  base.leaf = ".id";
  r.exact_bin(base, out.id.bytes);
  base.leaf = ".key";
  r.exact_bin(base, out.key.bytes);
  base.leaf = ".ttl_ms";
  out.ttl_ms = static_cast<std::uint32_t>(r.unsigned_int(base, uint32_max));
}

void read_hello(reader& r, std::string_view path, hello& out) {
  r.exact_array({path, ".hello"}, 5);
  const std::size_t version_at = r.offset();
  out.max_version =
      static_cast<std::uint32_t>(r.unsigned_int({path, ".hello.max_version"}, uint32_max));
  if (r.ok() && out.max_version < protocol_version) {
    r.fail(errc::malformed_frame, version_at,
           "expected max_version >= 1 (" + field_name{path, ".hello.max_version"}.str() +
               "), got " + std::to_string(out.max_version));
  }
  out.features = r.unsigned_int({path, ".hello.features"}, uint64_max);
  out.aead = static_cast<std::uint16_t>(r.unsigned_int({path, ".hello.aead"}, 0xffff));
  out.max_message_bytes = r.unsigned_int({path, ".hello.max_message_bytes"}, uint64_max);
  out.max_parts =
      static_cast<std::uint32_t>(r.unsigned_int({path, ".hello.max_parts"}, uint32_max));
}

void read_control_block(reader& r, std::string_view path, const decode_limits& limits,
                        control_block& out) {
  const std::size_t block_at = r.offset();
  const std::uint32_t elements = r.array_header({path});
  if (r.ok() && elements != 5 && elements != 6) {
    r.fail(errc::malformed_frame, block_at,
           "expected an array of 5 or 6 elements (" + std::string(path) + "), got " +
               std::to_string(elements));
  }
  r.exact_bin({path, ".instance"}, out.instance.bytes);
  out.wanted = static_cast<std::uint32_t>(r.unsigned_int({path, ".wanted"}, uint32_max));

  const std::uint32_t offers =
      r.bounded_array({path, ".offers"}, limits.max_offers, "max_offers", min_offer_bytes);
  out.offers.reserve(offers);
  for (std::uint32_t i = 0; i < offers && r.ok(); ++i) {
    read_offered_key(r, {path, ".offers", i}, out.offers.emplace_back());
  }

  const std::uint32_t acks =
      r.bounded_array({path, ".acks"}, limits.max_acks, "max_acks", encoded_guid_bytes);
  out.acks.reserve(acks);
  for (std::uint32_t i = 0; i < acks && r.ok(); ++i) {
    r.exact_bin({path, ".acks", i}, out.acks.emplace_back().bytes);
  }

  const std::uint32_t rejections = r.bounded_array({path, ".rejections"}, limits.max_rejections,
                                                   "max_rejections", min_rejection_bytes);
  out.rejections.reserve(rejections);
  for (std::uint32_t i = 0; i < rejections && r.ok(); ++i) {
    rejection& rej = out.rejections.emplace_back();
    r.exact_array({path, ".rejections", i}, 2);
    r.exact_bin({path, ".rejections", i, ".id"}, rej.id.bytes);
    const std::size_t at = r.offset();
    const std::uint64_t reason = r.unsigned_int({path, ".rejections", i, ".reason"}, 255);
    if (r.ok() && (reason == 0 || reason > last_known_reason)) {
      r.fail(errc::malformed_frame, at,
             "expected a known error code 1.." + std::to_string(last_known_reason) + " (" +
                 field_name{path, ".rejections", i, ".reason"}.str() + "), got " +
                 std::to_string(reason));
    }
    rej.reason = static_cast<errc>(reason);
  }
  if (elements == 6 && r.ok()) read_hello(r, path, out.about_sender.emplace());
}

frame_auth read_mac(reader& r, byte_view frame, std::uint64_t seq);

// `auth`: a version 2 frame, whose MAC comes before the ciphertext.
void read_data(reader& r, byte_view frame, const decode_limits& limits, frame_auth* auth,
               std::uint64_t seq, data_view& out) {
  r.exact_bin({"data.key_id"}, out.key_id.bytes);
  r.exact_bin({"data.enc"}, out.enc.bytes);
  if (!r.nil()) read_offered_key(r, {"data.reply_key"}, out.reply_key.emplace());
  if (!r.nil()) read_control_block(r, "data.control", limits, out.control.emplace());
  if (auth != nullptr) *auth = read_mac(r, frame, seq);
  const std::size_t ciphertext_at = r.offset();
  out.ciphertext = r.bin({"data.ciphertext"});
  out.associated_data = frame.first(ciphertext_at);
}

// A bin of exactly `size` bytes, as a view into the frame.
byte_view exact_view(reader& r, const field_name& what, std::size_t size) {
  const std::size_t at = r.offset();
  const byte_view v = r.bin(what);
  if (r.ok() && v.size() != size) {
    r.fail(errc::malformed_frame, at,
           "expected bin of " + std::to_string(size) + " bytes (" + what.str() + "), got " +
               std::to_string(v.size()) + " bytes");
  }
  return v;
}

std::uint64_t read_seq(reader& r) {
  const std::size_t at = r.offset();
  const std::uint64_t seq = r.unsigned_int({"seq"}, uint64_max);
  if (r.ok() && seq == 0) r.fail(errc::malformed_frame, at, "expected seq >= 1 (seq), got 0");
  return seq;
}

frame_auth read_mac(reader& r, byte_view frame, std::uint64_t seq) {
  frame_auth a;
  a.seq = seq;
  a.covered = frame.first(r.offset());
  a.mac = exact_view(r, {"mac"}, mac_size);
  return a;
}

// Element counts of each handshake step (docs/PROTOCOL.md §12.2).
constexpr std::uint32_t handshake_elements[] = {4, 8, 7, 8};

void read_handshake(reader& r, byte_view frame, std::uint32_t count, handshake_view& out) {
  const std::size_t step_at = r.offset();
  const std::uint64_t step = r.unsigned_int({"step"}, 255);
  if (r.ok() && step > 3) {
    r.fail(errc::malformed_frame, step_at,
           "expected a handshake step 0..3 (step), got " + std::to_string(step));
  }
  if (!r.ok()) return;
  out.step = static_cast<handshake_step>(step);
  if (count != handshake_elements[step]) {
    r.fail(errc::malformed_frame, 0,
           "a handshake frame of step " + std::to_string(step) + " is an array of " +
               std::to_string(handshake_elements[step]) + " elements, got " +
               std::to_string(count));
    return;
  }
  r.exact_bin({"handshake.instance"}, out.instance.bytes);
  switch (out.step) {
    case handshake_step::hello_request:
      return;
    case handshake_step::initiate:
      r.exact_bin({"handshake.nonce"}, out.nonce.bytes);
      r.exact_bin({"handshake.enc"}, out.enc.bytes);
      out.identity_aad = frame.first(r.offset());
      out.sealed_identity = exact_view(r, {"handshake.sealed_identity"}, sealed_identity_size);
      break;
    case handshake_step::accept:
      r.exact_bin({"handshake.nonce"}, out.nonce.bytes);
      r.exact_bin({"handshake.peer_nonce"}, out.peer_nonce.bytes);
      break;
    case handshake_step::refuse: {
      r.exact_bin({"handshake.nonce"}, out.nonce.bytes);
      r.exact_bin({"handshake.peer_nonce"}, out.peer_nonce.bytes);
      const std::size_t at = r.offset();
      const std::uint64_t reason = r.unsigned_int({"handshake.reason"}, 255);
      if (r.ok() && reason == 0) {
        r.fail(errc::malformed_frame, at, "expected a reason 1..255 (handshake.reason), got 0");
      }
      out.reason = static_cast<std::uint8_t>(reason);
      break;
    }
  }
  out.auth = read_mac(r, frame, 0);
}

}  // namespace

result<decoded_frame> decode(byte_view frame, const decode_limits& limits) {
  if (frame.size() > limits.max_frame_bytes) {
    return status(errc::message_too_large, "frame of " + std::to_string(frame.size()) +
                                               " bytes, above max_frame_bytes (" +
                                               std::to_string(limits.max_frame_bytes) + ")");
  }
  reader r(frame);
  decoded_frame out{};
  const std::uint32_t count = r.array_header({"frame"});
  if (r.ok() && count < 2) {
    r.fail(errc::malformed_frame, 0,
           "expected an array of 3 (control) or 7 (data) elements (frame), got " +
               std::to_string(count));
  }
  // Version and kind come before the element count is checked, so that a frame of another
  // version is reported as such whatever its layout.
  const std::size_t version_at = r.offset();
  const std::uint64_t version =
      r.unsigned_int({"version"}, std::numeric_limits<std::uint64_t>::max());
  if (r.ok() && version != protocol_version && version != authenticated_version) {
    r.fail(errc::unsupported_version, version_at,
           "protocol version " + std::to_string(version) + ", this endpoint speaks 1 and 2");
  }
  const bool v2 = version == authenticated_version;
  const std::size_t kind_at = r.offset();
  const std::uint64_t kind = r.unsigned_int({"kind"}, std::numeric_limits<std::uint64_t>::max());
  const std::uint64_t last_kind = v2 ? 3 : 2;
  if (r.ok() && (kind == 0 || kind > last_kind)) {
    r.fail(errc::unknown_kind, kind_at,
           "frame kind " + std::to_string(kind) + " of version " + std::to_string(version) +
               ", expected 1 (control), 2 (data)" + (v2 ? " or 3 (handshake)" : ""));
  }
  if (!r.ok()) return r.error();

  out.version = static_cast<std::uint8_t>(version);
  out.kind = static_cast<frame_kind>(kind);
  if (out.kind == frame_kind::handshake) {
    read_handshake(r, frame, count, out.handshake);
    r.expect_end();
    if (!r.ok()) return r.error();
    return out;
  }
  const std::uint32_t expected_count =
      out.kind == frame_kind::control ? (v2 ? 5 : 3) : (v2 ? 9 : 7);
  if (count != expected_count) {
    r.fail(errc::malformed_frame, 0,
           std::string(out.kind == frame_kind::control ? "a control" : "a data") +
               " frame of version " + std::to_string(version) + " is an array of " +
               std::to_string(expected_count) + " elements, got " + std::to_string(count));
  }
  const std::uint64_t seq = v2 ? read_seq(r) : 0;
  if (out.kind == frame_kind::control) {
    read_control_block(r, "control", limits, out.control);
    if (v2) out.auth = read_mac(r, frame, seq);
  } else {
    read_data(r, frame, limits, v2 ? &out.auth.emplace() : nullptr, seq, out.data);
  }
  r.expect_end();
  if (!r.ok()) return r.error();
  return out;
}

std::optional<guid> readable_key_id(byte_view frame) {
  reader r(frame);
  (void)r.array_header({"frame"});
  const std::uint64_t version = r.unsigned_int({"version"}, protocol_version);
  const std::uint64_t kind = r.unsigned_int({"kind"}, static_cast<std::uint64_t>(frame_kind::data));
  guid id;
  r.exact_bin({"data.key_id"}, id.bytes);
  if (!r.ok() || version != protocol_version ||
      kind != static_cast<std::uint64_t>(frame_kind::data)) {
    return std::nullopt;
  }
  return id;
}

void encode_control(const control_block& block, std::vector<byte>& out) {
  check_block(block);
  out.clear();
  out.reserve(3 + control_block_bound(block));
  vector_sink sink(out);
  packer pk(sink);
  pk.pack_array(3);
  pk.pack_uint8(protocol_version);
  pk.pack_uint8(static_cast<std::uint8_t>(frame_kind::control));
  pack_control_block(pk, block);
}

namespace {

// The MAC's bin header and a zeroed slot for it, which the caller fills.
mac_layout pack_mac_slot(packer& pk, std::vector<byte>& out) {
  const std::size_t covered = out.size();
  pk.pack_bin(static_cast<std::uint32_t>(mac_size));
  out.resize(out.size() + mac_size);
  return {byte_view(out).first(covered),
          std::span<byte, mac_size>(out.data() + out.size() - mac_size, mac_size)};
}

struct data_parts {
  std::optional<mac_layout> mac;
  data_layout data;
};

// Both versions' data frames: version 2 adds seq after the kind and the MAC before the
// ciphertext.
data_parts encode_data_frame(std::optional<std::uint64_t> seq, const guid& key_id,
                             const public_key& enc, const std::optional<offered_key>& reply_key,
                             const control_block* control, std::size_t ciphertext_size,
                             const std::span<const byte_view>* payload, std::vector<byte>& out) {
  if (ciphertext_size > uint32_max) misuse("ciphertext above 2^32 - 1 bytes");
  if (payload != nullptr && payload_size(*payload) > ciphertext_size) {
    misuse("payload larger than its ciphertext");
  }
  if (control != nullptr) check_block(*control);
  out.clear();
  const std::size_t header_bound = 3 + 9 + 2 * encoded_guid_bytes + encoded_key_bytes +
                                   (1 + encoded_guid_bytes + encoded_key_bytes + 5) +
                                   (control != nullptr ? control_block_bound(*control) : 1) +
                                   (2 + mac_size) + 5;
  out.reserve(header_bound + ciphertext_size);
  vector_sink sink(out);
  packer pk(sink);
  pk.pack_array(seq ? 9 : 7);
  pk.pack_uint8(seq ? authenticated_version : protocol_version);
  pk.pack_uint8(static_cast<std::uint8_t>(frame_kind::data));
  if (seq) pk.pack_uint64(*seq);
  pack_bytes(pk, key_id.bytes);
  pack_bytes(pk, enc.bytes);
  if (reply_key) {
    pack_offered_key(pk, *reply_key);
  } else {
    pk.pack_nil();
  }
  if (control != nullptr) {
    pack_control_block(pk, *control);
  } else {
    pk.pack_nil();
  }
  data_parts parts;
  if (seq) parts.mac = pack_mac_slot(pk, out);
  const std::size_t associated_size = out.size();
  pk.pack_bin(static_cast<std::uint32_t>(ciphertext_size));
  const std::size_t ciphertext_at = out.size();
  if (payload != nullptr) append_payload(*payload, out);  // within the reserve: no zeroing
  out.resize(ciphertext_at + ciphertext_size);
  if (parts.mac) {
    // The resize above may not move the buffer (reserved), but take the views afresh anyway.
    const std::size_t covered = parts.mac->covered.size();
    parts.mac = mac_layout{byte_view(out).first(covered),
                           std::span<byte, mac_size>(out.data() + covered + 2, mac_size)};
  }
  parts.data = {byte_view(out).first(associated_size),
                mutable_byte_view(out).last(ciphertext_size)};
  return parts;
}

void pack_handshake_head(packer& pk, handshake_step step, const guid& instance) {
  pk.pack_array(handshake_elements[static_cast<std::size_t>(step)]);
  pk.pack_uint8(authenticated_version);
  pk.pack_uint8(static_cast<std::uint8_t>(frame_kind::handshake));
  pk.pack_uint8(static_cast<std::uint8_t>(step));
  pack_bytes(pk, instance.bytes);
}

}  // namespace

data_layout encode_data(const guid& key_id, const public_key& enc,
                        const std::optional<offered_key>& reply_key, const control_block* control,
                        std::size_t ciphertext_size, std::vector<byte>& out) {
  return encode_data_frame(std::nullopt, key_id, enc, reply_key, control, ciphertext_size, nullptr,
                           out)
      .data;
}

data_layout encode_data(const guid& key_id, const public_key& enc,
                        const std::optional<offered_key>& reply_key, const control_block* control,
                        std::size_t ciphertext_size, std::span<const byte_view> payload,
                        std::vector<byte>& out) {
  return encode_data_frame(std::nullopt, key_id, enc, reply_key, control, ciphertext_size, &payload,
                           out)
      .data;
}

data_layout_v2 encode_data_v2(std::uint64_t seq, const guid& key_id, const public_key& enc,
                              const std::optional<offered_key>& reply_key,
                              const control_block* control, std::size_t ciphertext_size,
                              std::vector<byte>& out) {
  data_parts parts =
      encode_data_frame(seq, key_id, enc, reply_key, control, ciphertext_size, nullptr, out);
  return {*parts.mac, parts.data.associated_data, parts.data.ciphertext};
}

data_layout_v2 encode_data_v2(std::uint64_t seq, const guid& key_id, const public_key& enc,
                              const std::optional<offered_key>& reply_key,
                              const control_block* control, std::size_t ciphertext_size,
                              std::span<const byte_view> payload, std::vector<byte>& out) {
  data_parts parts =
      encode_data_frame(seq, key_id, enc, reply_key, control, ciphertext_size, &payload, out);
  return {*parts.mac, parts.data.associated_data, parts.data.ciphertext};
}

mac_layout encode_control_v2(std::uint64_t seq, const control_block& block,
                             std::vector<byte>& out) {
  check_block(block);
  out.clear();
  out.reserve(3 + 9 + control_block_bound(block) + 2 + mac_size);
  vector_sink sink(out);
  packer pk(sink);
  pk.pack_array(5);
  pk.pack_uint8(authenticated_version);
  pk.pack_uint8(static_cast<std::uint8_t>(frame_kind::control));
  pk.pack_uint64(seq);
  pack_control_block(pk, block);
  return pack_mac_slot(pk, out);
}

void encode_hello_request(const guid& instance, std::vector<byte>& out) {
  out.clear();
  vector_sink sink(out);
  packer pk(sink);
  pack_handshake_head(pk, handshake_step::hello_request, instance);
}

initiate_layout encode_initiate(const guid& instance, const guid& nonce, const public_key& enc,
                                std::vector<byte>& out) {
  out.clear();
  out.reserve(4 + 3 * encoded_guid_bytes + encoded_key_bytes + 2 + sealed_identity_size + 2 +
              mac_size);
  vector_sink sink(out);
  packer pk(sink);
  pack_handshake_head(pk, handshake_step::initiate, instance);
  pack_bytes(pk, nonce.bytes);
  pack_bytes(pk, enc.bytes);
  const std::size_t aad = out.size();
  pk.pack_bin(static_cast<std::uint32_t>(sealed_identity_size));
  out.resize(out.size() + sealed_identity_size);
  const mac_layout mac = pack_mac_slot(pk, out);
  return {byte_view(out).first(aad),
          std::span<byte, sealed_identity_size>(out.data() + aad + 2, sealed_identity_size), mac};
}

mac_layout encode_accept(const guid& instance, const guid& nonce, const guid& peer_nonce,
                         std::vector<byte>& out) {
  out.clear();
  out.reserve(4 + 3 * encoded_guid_bytes + 2 + mac_size);
  vector_sink sink(out);
  packer pk(sink);
  pack_handshake_head(pk, handshake_step::accept, instance);
  pack_bytes(pk, nonce.bytes);
  pack_bytes(pk, peer_nonce.bytes);
  return pack_mac_slot(pk, out);
}

mac_layout encode_refuse(const guid& instance, const guid& nonce, const guid& peer_nonce,
                         std::uint8_t reason, std::vector<byte>& out) {
  out.clear();
  out.reserve(4 + 3 * encoded_guid_bytes + 2 + 2 + mac_size);
  vector_sink sink(out);
  packer pk(sink);
  pack_handshake_head(pk, handshake_step::refuse, instance);
  pack_bytes(pk, nonce.bytes);
  pack_bytes(pk, peer_nonce.bytes);
  pk.pack_uint8(reason);
  return pack_mac_slot(pk, out);
}

}  // namespace cryptcom::wire
