// wire_message: turning the engine's byte vectors into zmq::message_t and back without copying
// large buffers.
//
// A frame or a delivered payload of at least `zero_copy_threshold` bytes is handed to libzmq by
// pointer: the message owns the buffer and frees it (the payload after wiping it, since it is
// plaintext) from whichever thread closes the last message referring to it. Smaller ones are
// copied, which costs less than libzmq's free callback.
// Thread-safety: the functions are reentrant; the free callbacks run on any thread.
#pragma once

#include <cstddef>
#include <vector>
#include <zmq.hpp>

#include "cryptcom/engine.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::zmq::detail {

inline constexpr std::size_t zero_copy_threshold = 16 * 1024;

// A wire frame (ciphertext; freed without wiping).
::zmq::message_t frame_message(std::vector<byte>&& frame);

// The parts of a delivery, appended to `out`. The payload's bytes are wiped when the last part
// referring to them is closed.
void append_parts(delivery&& d, std::vector<::zmq::message_t>& out);

byte_view bytes_of(const ::zmq::message_t& m) noexcept;

}  // namespace cryptcom::zmq::detail
