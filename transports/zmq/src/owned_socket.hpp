// owned_socket: a ZeroMQ socket made on a libzmq context given by its raw handle, with cppzmq's
// interface (it is a zmq::socket_ref), closed when destroyed.
//
// Why not zmq::socket_t: cppzmq makes a socket_t only from a zmq::context_t, and a context_t
// always owns its libzmq context. A cryptcom socket made through the C API or from Python lives on
// a context that the application (libzmq, czmq, pyzmq) owns, known only as a `void *`.
// Thread-safety: as any ZeroMQ socket, one thread at a time. Move-only.
#pragma once

#include <utility>
#include <zmq.hpp>

namespace cryptcom::zmq::detail {

class owned_socket : public ::zmq::socket_ref {
 public:
  owned_socket() noexcept = default;
  // Throws zmq::error_t as zmq_socket fails: EFAULT for a null or invalid context, ETERM for a
  // terminated one, EMFILE, EINVAL for an unknown type.
  owned_socket(void* context, ::zmq::socket_type type)
      : ::zmq::socket_ref(::zmq::from_handle, zmq_socket(context, static_cast<int>(type))) {
    if (handle() == nullptr) throw ::zmq::error_t();
  }
  ~owned_socket() { close(); }
  owned_socket(const owned_socket&) = delete;
  owned_socket& operator=(const owned_socket&) = delete;
  owned_socket(owned_socket&& other) noexcept : ::zmq::socket_ref(other) {
    other._handle = nullptr;
  }
  owned_socket& operator=(owned_socket&& other) noexcept {
    if (this != &other) {
      close();
      _handle = std::exchange(other._handle, nullptr);
    }
    return *this;
  }

  // Idempotent. zmq_close cannot fail on a valid socket.
  void close() noexcept {
    if (_handle != nullptr) (void)zmq_close(std::exchange(_handle, nullptr));
  }
};

}  // namespace cryptcom::zmq::detail
