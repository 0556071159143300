// wire_message: turning the engine's byte vectors into zmq::message_t and back without copying
// large buffers.
//
// A frame or a delivered payload of at least `zero_copy_threshold` bytes is handed to libzmq by
// pointer: the message owns the buffer and frees it from whichever thread closes the last
// message referring to it. Smaller ones are copied, which costs less than libzmq's free callback.
// A delivered payload is the application's once its parts are handed over: freed unwiped, as
// libzmq frees any message (README, "Secrets in memory"); what the transport drops instead of
// handing over is wiped (wipe() below), as is the engine's buffer the small parts were copied
// from.
//
// A large received frame whose content no other message shares is opened in place (see
// engine::receive_in_place): it is kept in an in_place_frame, and the delivered parts that are
// large point into it, so a message crosses from the wire to the application with no copy at
// all. A frame no delivered part keeps (nothing opened, or every part small enough to copy) is
// wiped when the I/O thread lets it go, if it holds plaintext.
// Thread-safety: the functions are reentrant; the free callbacks run on any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>
#include <zmq.hpp>

#include "cryptcom/engine.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::zmq::detail {

inline constexpr std::size_t zero_copy_threshold = 16 * 1024;

// Buffers of large frames libzmq is done with, on their way back to the engine
// (engine::recycle) to be written again: put here by whichever thread closes the last message
// referring to one (libzmq's I/O thread, after the write), taken by the I/O thread that owns
// the engine. Holds 256 buffers and 16 MiB at most; shared by that thread and the frames it sent.
class frame_returns {
 public:
  frame_returns();
  void put(std::vector<byte>&& buffer) noexcept;
  // The buffers given back since the last call.
  std::vector<std::vector<byte>> take();

 private:
  std::mutex mutex_;
  std::vector<std::vector<byte>> buffers_;
  std::size_t bytes_ = 0;         // their capacity
  std::atomic<bool> any_{false};  // lets take() skip the lock when there is nothing
};

// A wire frame (ciphertext; freed without wiping). A large one's buffer goes to `returns` when
// libzmq is done with it, if given.
::zmq::message_t frame_message(std::vector<byte>&& frame,
                               const std::shared_ptr<frame_returns>& returns = nullptr);

// A received wire frame held while it is opened in place and its parts are with the application:
// reference-counted by the I/O thread's in_place_frame_ref and by each part pointing into it.
struct in_place_frame;
struct in_place_frame_unref {
  void operator()(in_place_frame* f) const noexcept;
};
using in_place_frame_ref = std::unique_ptr<in_place_frame, in_place_frame_unref>;

// Takes the content of `m` when it may be opened in place: at least zero_copy_threshold bytes and
// shared with no other message (ZMQ_SHARED; a zmq_msg_copy, such as a proxy's capture socket
// makes over inproc, shares it, and the other holder would then read plaintext). Otherwise
// returns null and leaves `m` as it was.
in_place_frame_ref take_for_in_place(::zmq::message_t& m);
// The frame's bytes, for engine::receive_in_place.
mutable_byte_view writable_bytes(in_place_frame& f) noexcept;
// Says the frame now holds plaintext: it is wiped before it is freed, unless append_parts hands
// it to the application.
void mark_opened(in_place_frame& f) noexcept;

// The parts of a delivery, appended to `out`. The payload's bytes are freed when the last part
// referring to them is closed (unwiped: the application's), or wiped now if every part is a
// copy. A delivery opened in place (its payload empty) views `opened_in`,
// which its large parts then keep alive; `opened_in` is unused otherwise.
void append_parts(delivery&& d, in_place_frame* opened_in, std::vector<::zmq::message_t>& out);

// Plaintext the transport drops instead of handing it over (socket closing, a REQ's unexpected
// reply, the I/O thread stopping) is wiped first, as the engine wipes its own:
// - a delivery: its payload is zeroed (its parts then view zeros). One opened in place has no
//   payload: its frame was marked opened and is wiped when its last reference goes.
void wipe(delivery& d) noexcept;
// - messages the transport built from deliveries (waiting for room in the application's pipe):
//   their content is zeroed. Never pass an application's own messages: their buffers may be
//   the application's (zero-copy) or shared, and are not ours to write.
void wipe(std::vector<::zmq::message_t>& parts) noexcept;

byte_view bytes_of(const ::zmq::message_t& m) noexcept;

// An application's message handed to the engine (engine::send(message_parts)): the engine holds
// the application's messages themselves until the peer acknowledges (a publisher: each
// subscriber's copy holds the same ones), so the bytes are not copied before they are sealed.
// They are not wiped either: libzmq frees them unwiped, as it does every message the
// application sends (README, "Secrets in memory").
using app_parts = std::vector<::zmq::message_t>;
// Moves `parts` into a holder (the vector's buffer moves: views of the messages stay valid).
std::shared_ptr<app_parts> hand_over(std::vector<::zmq::message_t>& parts);
// The parts from `payload_begin` on (the envelope before is not sealed), owned by `held`.
message_parts engine_parts(const std::shared_ptr<app_parts>& held, std::size_t payload_begin);
// The parts back from a holder the engine refused (it keeps no reference then).
std::vector<::zmq::message_t> take_back(const std::shared_ptr<app_parts>& held) noexcept;

}  // namespace cryptcom::zmq::detail
