// cryptcom::zmq::error: the exception of the ZeroMQ transport.
//
// It derives from zmq::error_t so that an application's existing `catch (const zmq::error_t&)`
// keeps working when it swaps zmq::socket_t for cryptcom::zmq::socket: num() is an errno value in
// ZeroMQ's style (EINVAL for an unsupported socket type or option, EMSGSIZE for a message above
// the configured maximum, ETERM once the context is gone), and what() is a sentence naming the
// reason instead of strerror's few words. Errors raised by libzmq itself reach the application
// unchanged, as plain zmq::error_t.
// Thread-safety: a plain value.
#pragma once

#include <string>
#include <utility>
#include <zmq.hpp>

namespace cryptcom::zmq {

class error : public ::zmq::error_t {
 public:
  error(int code, std::string what) : ::zmq::error_t(code), what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

}  // namespace cryptcom::zmq
