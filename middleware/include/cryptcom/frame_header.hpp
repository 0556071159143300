// cryptcom::read_frame_header: what anyone on the path can read of a cryptcom frame, for
// components that route frames without reading them (cryptcom::zmq::broker, docs/PROTOCOL.md
// §11.7): the version and kind, a data frame's key id, and the key ids offered and
// acknowledged in its control block. Nothing here is secret (the frame carries it in clear);
// nothing here is authenticated either: in version 1 a control frame is not, and in version 2
// only the endpoints hold the MAC keys.
// Thread-safety: a reentrant free function.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom {

struct offered_key_header {
  guid id;
  std::uint32_t ttl_ms = 0;
};

struct frame_header {
  std::uint32_t version = 0;         // 1 base mode, 2 authenticated mode
  std::uint8_t kind = 0;             // 1 control, 2 data, 3 handshake (version 2)
  std::optional<guid> key_id;        // data frames: the receiver's one-time key it is sealed to
  std::optional<guid> reply_key_id;  // data frames of the pull flow
  std::vector<offered_key_header> offers;  // in the control block, when there is one
  std::vector<guid> acks;                  // in the control block, when there is one
};

// Decodes the frame as strictly as an endpoint does (docs/PROTOCOL.md §2-§5, §12.2) without
// opening anything. Errors: those of a frame that does not decode (malformed_frame,
// unsupported_version, unknown_kind, limit_exceeded), naming the offset and the reason.
result<frame_header> read_frame_header(byte_view frame);

}  // namespace cryptcom
