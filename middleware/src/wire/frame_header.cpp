// The public reading of a frame's cleartext header; see cryptcom/frame_header.hpp.
#include "cryptcom/frame_header.hpp"

#include <limits>

#include "wire/frame.hpp"

namespace cryptcom {

result<frame_header> read_frame_header(byte_view frame) {
  wire::decode_limits limits;
  // The reader routes frames of any size its endpoints accept: size is their bound, not ours.
  limits.max_frame_bytes = std::numeric_limits<std::size_t>::max();
  result<wire::decoded_frame> decoded = wire::decode(frame, limits);
  if (!decoded.ok()) return decoded.error();
  frame_header h;
  h.version = decoded->version;
  h.kind = static_cast<std::uint8_t>(decoded->kind);
  const wire::control_block* block = nullptr;
  if (decoded->kind == wire::frame_kind::control) {
    block = &decoded->control;
  } else if (decoded->kind == wire::frame_kind::data) {
    h.key_id = decoded->data.key_id;
    if (decoded->data.reply_key) h.reply_key_id = decoded->data.reply_key->id;
    if (decoded->data.control) block = &*decoded->data.control;
  }
  if (block != nullptr) {
    h.offers.reserve(block->offers.size());
    for (const auto& o : block->offers) h.offers.push_back({o.id, o.ttl_ms});
    h.acks = block->acks;
  }
  return h;
}

}  // namespace cryptcom
