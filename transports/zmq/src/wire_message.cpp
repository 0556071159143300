// Zero-copy message construction; see wire_message.hpp.
#include "wire_message.hpp"

#include <sodium.h>

#include <atomic>
#include <memory>
#include <utility>

#include "handover.hpp"

namespace cryptcom::zmq::detail {
namespace {

struct frame_holder {
  std::vector<byte> bytes;
  std::shared_ptr<frame_returns> returns;
};

void free_frame(void* /*data*/, void* hint) noexcept {
  handover_acquire();
  auto* h = static_cast<frame_holder*>(hint);
  if (h->returns) h->returns->put(std::move(h->bytes));
  delete h;
}

// As many as the engine keeps (engine::recycle): more would only be freed there.
constexpr std::size_t max_returned_frames = 256;
constexpr std::size_t max_returned_bytes = 16u * 1024 * 1024;

// A delivered payload shared by the messages of its parts, which the application holds: freed
// unwiped when it closes the last of them, as libzmq frees every message (README, "Secrets in
// memory"); wiping 1 MiB there cost a pass over memory per message.
struct payload_holder {
  std::vector<byte> bytes;
  std::atomic<std::size_t> refs{0};
};

void release_payload(void* /*data*/, void* hint) noexcept {
  handover_acquire();
  auto* h = static_cast<payload_holder*>(hint);
  if (h->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete h;
}

}  // namespace

struct in_place_frame {
  ::zmq::message_t message;
  std::atomic<std::size_t> refs{1};
  // Written by the I/O thread before any part pointing into the frame leaves it; read by the last
  // release, which the reference count orders after that write.
  bool holds_plaintext = false;
};

void in_place_frame_unref::operator()(in_place_frame* f) const noexcept {
  if (f->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (f->holds_plaintext) sodium_memzero(f->message.data(), f->message.size());
  delete f;
}

namespace {

void release_in_place(void* /*data*/, void* hint) noexcept {
  handover_acquire();
  in_place_frame_unref{}(static_cast<in_place_frame*>(hint));
}

}  // namespace

in_place_frame_ref take_for_in_place(::zmq::message_t& m) {
  if (m.size() < zero_copy_threshold) return nullptr;
  if (zmq_msg_get(m.handle(), ZMQ_SHARED) != 0) return nullptr;
  in_place_frame_ref f(new in_place_frame);
  f->message.move(m);  // a large message's content stays where it is: the views remain valid
  return f;
}

mutable_byte_view writable_bytes(in_place_frame& f) noexcept {
  return {static_cast<byte*>(f.message.data()), f.message.size()};
}

void mark_opened(in_place_frame& f) noexcept { f.holds_plaintext = true; }

frame_returns::frame_returns() { buffers_.reserve(max_returned_frames); }

void frame_returns::put(std::vector<byte>&& buffer) noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (buffers_.size() >= max_returned_frames || bytes_ + buffer.capacity() > max_returned_bytes) {
    return;  // freed with the argument
  }
  bytes_ += buffer.capacity();
  buffers_.push_back(std::move(buffer));  // capacity reserved by take(): does not allocate
  any_.store(true, std::memory_order_release);
}

std::vector<std::vector<byte>> frame_returns::take() {
  std::vector<std::vector<byte>> out;
  if (!any_.load(std::memory_order_acquire)) return out;
  out.reserve(max_returned_frames);
  const std::lock_guard<std::mutex> lock(mutex_);
  std::swap(out, buffers_);
  bytes_ = 0;
  any_.store(false, std::memory_order_relaxed);
  return out;
}

::zmq::message_t frame_message(std::vector<byte>&& frame,
                               const std::shared_ptr<frame_returns>& returns) {
  if (frame.size() < zero_copy_threshold) return ::zmq::message_t(frame.data(), frame.size());
  auto holder = std::make_unique<frame_holder>();
  holder->bytes = std::move(frame);
  holder->returns = returns;
  void* data = holder->bytes.data();
  const std::size_t size = holder->bytes.size();
  ::zmq::message_t m(data, size, &free_frame, holder.get());
  holder.release();  // owned by the message now
  return m;
}

void append_parts(delivery&& d, in_place_frame* opened_in, std::vector<::zmq::message_t>& out) {
  std::size_t large = 0;
  for (byte_view part : d.parts) large += part.size() >= zero_copy_threshold ? 1 : 0;
  if (d.payload.empty() && opened_in != nullptr) {
    // The parts view the frame itself; the caller's reference wipes it if no part keeps it. A
    // part that keeps it hands it to the application, which closes it last: it is the
    // application's message from then on, freed unwiped (as payload_holder).
    opened_in->refs.fetch_add(large, std::memory_order_relaxed);
    if (large > 0) opened_in->holds_plaintext = false;
    for (byte_view part : d.parts) {
      if (part.size() < zero_copy_threshold) {
        out.emplace_back(part.data(), part.size());
      } else {
        out.emplace_back(const_cast<byte*>(part.data()), part.size(), &release_in_place, opened_in);
      }
    }
    return;
  }
  if (large == 0) {
    for (byte_view part : d.parts) out.emplace_back(part.data(), part.size());
    sodium_memzero(d.payload.data(), d.payload.size());
    return;
  }
  // The parts are views into d.payload; moving the vector keeps its buffer, so they stay valid.
  auto* holder = new payload_holder;
  holder->bytes = std::move(d.payload);
  holder->refs.store(large, std::memory_order_relaxed);
  for (byte_view part : d.parts) {
    if (part.size() < zero_copy_threshold) {
      out.emplace_back(part.data(), part.size());
    } else {
      out.emplace_back(const_cast<byte*>(part.data()), part.size(), &release_payload, holder);
    }
  }
}

void wipe(delivery& d) noexcept { sodium_memzero(d.payload.data(), d.payload.size()); }

void wipe(std::vector<::zmq::message_t>& parts) noexcept {
  for (auto& m : parts) sodium_memzero(m.data(), m.size());
}

byte_view bytes_of(const ::zmq::message_t& m) noexcept {
  return {static_cast<const byte*>(m.data()), m.size()};
}

std::shared_ptr<app_parts> hand_over(std::vector<::zmq::message_t>& parts) {
  return std::make_shared<app_parts>(std::move(parts));
}

message_parts engine_parts(const std::shared_ptr<app_parts>& held, std::size_t payload_begin) {
  message_parts out;
  out.parts.reserve(held->size() - payload_begin);
  for (std::size_t i = payload_begin; i < held->size(); ++i)
    out.parts.push_back(bytes_of((*held)[i]));
  out.owner = held;
  return out;
}

std::vector<::zmq::message_t> take_back(const std::shared_ptr<app_parts>& held) noexcept {
  return std::move(*held);
}

}  // namespace cryptcom::zmq::detail
