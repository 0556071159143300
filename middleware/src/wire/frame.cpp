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

void read_data(reader& r, byte_view frame, const decode_limits& limits, data_view& out) {
  r.exact_bin({"data.key_id"}, out.key_id.bytes);
  r.exact_bin({"data.enc"}, out.enc.bytes);
  if (!r.nil()) read_offered_key(r, {"data.reply_key"}, out.reply_key.emplace());
  if (!r.nil()) read_control_block(r, "data.control", limits, out.control.emplace());
  const std::size_t ciphertext_at = r.offset();
  out.ciphertext = r.bin({"data.ciphertext"});
  out.associated_data = frame.first(ciphertext_at);
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
  if (r.ok() && version != protocol_version) {
    r.fail(errc::unsupported_version, version_at,
           "protocol version " + std::to_string(version) + ", this endpoint speaks " +
               std::to_string(protocol_version));
  }
  const std::size_t kind_at = r.offset();
  const std::uint64_t kind = r.unsigned_int({"kind"}, std::numeric_limits<std::uint64_t>::max());
  if (r.ok() && kind != static_cast<std::uint64_t>(frame_kind::control) &&
      kind != static_cast<std::uint64_t>(frame_kind::data)) {
    r.fail(errc::unknown_kind, kind_at,
           "frame kind " + std::to_string(kind) + ", expected 1 (control) or 2 (data)");
  }
  if (!r.ok()) return r.error();

  out.kind = static_cast<frame_kind>(kind);
  const std::uint32_t expected_count = out.kind == frame_kind::control ? 3 : 7;
  if (count != expected_count) {
    r.fail(errc::malformed_frame, 0,
           std::string(out.kind == frame_kind::control ? "a control" : "a data") +
               " frame is an array of " + std::to_string(expected_count) + " elements, got " +
               std::to_string(count));
  }
  if (out.kind == frame_kind::control) {
    read_control_block(r, "control", limits, out.control);
  } else {
    read_data(r, frame, limits, out.data);
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

data_layout encode_data(const guid& key_id, const public_key& enc,
                        const std::optional<offered_key>& reply_key, const control_block* control,
                        std::size_t ciphertext_size, std::vector<byte>& out) {
  if (ciphertext_size > uint32_max) misuse("ciphertext above 2^32 - 1 bytes");
  if (control != nullptr) check_block(*control);
  out.clear();
  const std::size_t header_bound = 3 + 2 * encoded_guid_bytes + encoded_key_bytes +
                                   (1 + encoded_guid_bytes + encoded_key_bytes + 5) +
                                   (control != nullptr ? control_block_bound(*control) : 1) + 5;
  out.reserve(header_bound + ciphertext_size);
  vector_sink sink(out);
  packer pk(sink);
  pk.pack_array(7);
  pk.pack_uint8(protocol_version);
  pk.pack_uint8(static_cast<std::uint8_t>(frame_kind::data));
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
  const std::size_t associated_size = out.size();
  pk.pack_bin(static_cast<std::uint32_t>(ciphertext_size));
  out.resize(out.size() + ciphertext_size);
  return {byte_view(out).first(associated_size), mutable_byte_view(out).last(ciphertext_size)};
}

}  // namespace cryptcom::wire
