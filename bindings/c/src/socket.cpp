// The C API's sockets: construction, lifecycle, endpoints, options, send and receive. Each entry
// point checks its arguments, then calls cryptcom::zmq::socket inside guard(), so that every
// exception becomes errno and a sentence for cryptcom_strerror.
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "cryptcom.h"
#include "cryptcom/zmq/io_threads.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "registry.hpp"

namespace {

using cryptcom::c_api::api_error;
using cryptcom::c_api::guard;
using cryptcom::c_api::lookup;

int size_result(std::size_t n) { return n > INT_MAX ? INT_MAX : static_cast<int>(n); }

void check_flags(int flags, int allowed, const char* call) {
  if ((flags & ~allowed) != 0) {
    throw api_error{EINVAL, std::string(call) + ": unknown flags " + std::to_string(flags) +
                                " (allowed: " + std::to_string(allowed) + ")"};
  }
}

void check_endpoint(const char* endpoint) {
  if (endpoint == nullptr) throw api_error{EFAULT, "the endpoint is NULL"};
}

// bind, unbind, connect, disconnect: an open socket, an endpoint, one call.
template <class F>
int with_endpoint(cryptcom_socket_t* socket, const char* endpoint, F&& call) {
  return guard(-1, [&] {
    auto& s = lookup(socket, true);
    check_endpoint(endpoint);
    call(s.socket, std::string(endpoint));
    return 0;
  });
}

[[noreturn]] void again(const char* what) { throw api_error{EAGAIN, what}; }

cryptcom_socket_t* make_socket(void* context, int type,
                               const cryptcom::zmq::socket_options& options) {
  if (context == nullptr) throw api_error{EFAULT, "the ZeroMQ context is NULL"};
  auto s = std::unique_ptr<cryptcom_socket_t>(new cryptcom_socket_t{
      cryptcom::zmq::socket(context, static_cast<::zmq::socket_type>(type), options), options});
  return cryptcom::c_api::register_socket(std::move(s));
}

// A zmq_msg_t of the caller's, checked to be initialised: libzmq itself would assert on one that
// is not, in some of its calls.
void check_msg(zmq_msg_t* msg) {
  if (msg == nullptr) throw api_error{EFAULT, "the zmq_msg_t is NULL"};
  zmq_msg_t probe;
  zmq_msg_init(&probe);
  const int rc = zmq_msg_copy(&probe, msg);
  zmq_msg_close(&probe);
  if (rc != 0) throw api_error{EFAULT, "the zmq_msg_t is not initialised (zmq_msg_init)"};
}

}  // namespace

extern "C" {

void cryptcom_version(int* major, int* minor, int* patch) {
  if (major != nullptr) *major = CRYPTCOM_VERSION_MAJOR;
  if (minor != nullptr) *minor = CRYPTCOM_VERSION_MINOR;
  if (patch != nullptr) *patch = CRYPTCOM_VERSION_PATCH;
}

int cryptcom_set_io_threads(void* context, int threads) {
  return guard(-1, [&] {
    if (context == nullptr) throw api_error{EFAULT, "the ZeroMQ context is NULL"};
    cryptcom::zmq::set_io_threads(context, threads);
    return 0;
  });
}

int cryptcom_get_io_threads(void* context) {
  return guard(-1, [&] {
    if (context == nullptr) throw api_error{EFAULT, "the ZeroMQ context is NULL"};
    return cryptcom::zmq::io_threads(context);
  });
}

cryptcom_socket_t* cryptcom_socket(void* context, int type) {
  return guard<cryptcom_socket_t*>(nullptr, [&] { return make_socket(context, type, {}); });
}

cryptcom_socket_t* cryptcom_socket_with_options(void* context, int type,
                                                const cryptcom_options_t* options) {
  return guard<cryptcom_socket_t*>(
      nullptr, [&] { return make_socket(context, type, cryptcom::c_api::options_of(options)); });
}

int cryptcom_close(cryptcom_socket_t* socket) {
  return guard(-1, [&] {
    lookup(socket, false).socket.close();
    return 0;
  });
}

int cryptcom_destroy(cryptcom_socket_t** socket) {
  return guard(-1, [&] {
    if (socket == nullptr) throw api_error{EFAULT, "cryptcom_destroy: the pointer is NULL"};
    if (*socket == nullptr) return 0;
    auto owned = cryptcom::c_api::unregister(*socket);
    if (!owned) throw api_error{ENOTSOCK, "not a cryptcom socket (destroyed, or never made)"};
    *socket = nullptr;
    owned.reset();  // closes (lingering) if still open
    return 0;
  });
}

void* cryptcom_handle(cryptcom_socket_t* socket) {
  return guard<void*>(nullptr, [&] { return lookup(socket, true).socket.handle(); });
}

int cryptcom_bind(cryptcom_socket_t* socket, const char* endpoint) {
  return with_endpoint(socket, endpoint, [](auto& s, const std::string& e) { s.bind(e); });
}

int cryptcom_unbind(cryptcom_socket_t* socket, const char* endpoint) {
  return with_endpoint(socket, endpoint, [](auto& s, const std::string& e) { s.unbind(e); });
}

int cryptcom_connect(cryptcom_socket_t* socket, const char* endpoint) {
  return with_endpoint(socket, endpoint, [](auto& s, const std::string& e) { s.connect(e); });
}

int cryptcom_disconnect(cryptcom_socket_t* socket, const char* endpoint) {
  return with_endpoint(socket, endpoint, [](auto& s, const std::string& e) { s.disconnect(e); });
}

int cryptcom_setsockopt(cryptcom_socket_t* socket, int option, const void* value,
                        std::size_t size) {
  return guard(-1, [&] {
    auto& s = lookup(socket, true);
    if (cryptcom::c_api::is_own_option(option) || option == CRYPTCOM_INSTANCE ||
        option == CRYPTCOM_MESSAGES_SENT) {
      throw api_error{EINVAL, "option " + std::to_string(option) +
                                  " is read-only on a socket: cryptcom's own options are set "
                                  "on an options object before the socket is made "
                                  "(cryptcom_options_set, cryptcom_socket_with_options)"};
    }
    if (value == nullptr && size > 0) throw api_error{EFAULT, "the value is NULL"};
    s.socket.set_option(option, value, size);
    return 0;
  });
}

int cryptcom_getsockopt(cryptcom_socket_t* socket, int option, void* value, std::size_t* size) {
  return guard(-1, [&] {
    auto& s = lookup(socket, true);
    if (size == nullptr) throw api_error{EFAULT, "the size pointer is NULL"};
    if (value == nullptr && *size > 0) throw api_error{EFAULT, "the value is NULL"};
    if (option == CRYPTCOM_INSTANCE) {
      const auto& id = s.socket.instance().bytes;
      if (*size < id.size()) throw api_error{EINVAL, "CRYPTCOM_INSTANCE needs 16 bytes"};
      std::memcpy(value, id.data(), id.size());
      *size = id.size();
    } else if (option == CRYPTCOM_MESSAGES_SENT) {
      const std::uint64_t n = s.socket.messages_sent();
      if (*size < sizeof n) throw api_error{EINVAL, "CRYPTCOM_MESSAGES_SENT is a uint64_t"};
      std::memcpy(value, &n, sizeof n);
      *size = sizeof n;
    } else if (cryptcom::c_api::is_own_option(option)) {
      cryptcom::c_api::get_own_option(s.options, option, value, size);
    } else {
      s.socket.get_option(option, value, size);
    }
    return 0;
  });
}

int cryptcom_send(cryptcom_socket_t* socket, const void* buf, std::size_t len, int flags) {
  return guard(-1, [&] {
    auto& s = lookup(socket, true);
    check_flags(flags, ZMQ_DONTWAIT | ZMQ_SNDMORE, "cryptcom_send");
    if (buf == nullptr && len > 0) throw api_error{EFAULT, "cryptcom_send: buf is NULL"};
    if (!s.socket.send(::zmq::const_buffer(buf, len), static_cast<::zmq::send_flags>(flags))) {
      again("cryptcom_send: the message cannot be queued now (ZMQ_DONTWAIT or ZMQ_SNDTIMEO)");
    }
    return size_result(len);
  });
}

int cryptcom_recv(cryptcom_socket_t* socket, void* buf, std::size_t len, int flags) {
  return guard(-1, [&] {
    auto& s = lookup(socket, true);
    check_flags(flags, ZMQ_DONTWAIT, "cryptcom_recv");
    if (buf == nullptr && len > 0) throw api_error{EFAULT, "cryptcom_recv: buf is NULL"};
    const auto r =
        s.socket.recv(::zmq::mutable_buffer(buf, len), static_cast<::zmq::recv_flags>(flags));
    if (!r) again("cryptcom_recv: no message now (ZMQ_DONTWAIT or ZMQ_RCVTIMEO)");
    return size_result(r->untruncated_size);
  });
}

int cryptcom_msg_send(zmq_msg_t* msg, cryptcom_socket_t* socket, int flags) {
  return guard(-1, [&] {
    auto& s = lookup(socket, true);
    check_flags(flags, ZMQ_DONTWAIT | ZMQ_SNDMORE, "cryptcom_msg_send");
    check_msg(msg);
    ::zmq::message_t m;
    (void)zmq_msg_move(m.handle(), msg);
    const std::size_t size = m.size();
    // Whatever is left goes back: on failure the message untouched, as zmq_msg_send leaves it;
    // on success an empty message (the socket took the content).
    struct give_back {
      zmq_msg_t* to;
      ::zmq::message_t& from;
      ~give_back() { (void)zmq_msg_move(to, from.handle()); }
    } back{msg, m};
    if (!s.socket.send(m, static_cast<::zmq::send_flags>(flags))) {
      again("cryptcom_msg_send: the message cannot be queued now (ZMQ_DONTWAIT or ZMQ_SNDTIMEO)");
    }
    return size_result(size);
  });
}

int cryptcom_msg_recv(zmq_msg_t* msg, cryptcom_socket_t* socket, int flags) {
  return guard(-1, [&] {
    auto& s = lookup(socket, true);
    check_flags(flags, ZMQ_DONTWAIT, "cryptcom_msg_recv");
    check_msg(msg);
    ::zmq::message_t m;
    if (!s.socket.recv(m, static_cast<::zmq::recv_flags>(flags))) {
      again("cryptcom_msg_recv: no message now (ZMQ_DONTWAIT or ZMQ_RCVTIMEO)");
    }
    const std::size_t size = m.size();
    (void)zmq_msg_move(msg, m.handle());
    return size_result(size);
  });
}

}  // extern "C"
