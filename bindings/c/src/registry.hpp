// The C API's sockets, and the registry of the live ones.
//
// A cryptcom_socket_t is handed to C as an opaque pointer. Every entry point looks the pointer up
// here before touching it, so a NULL, destroyed or foreign pointer fails with ENOTSOCK instead of
// being dereferenced. (A destroyed socket's address may be reused by a new one, as file
// descriptors are: the registry cannot tell those apart.)
// Thread-safety: the registry is; a socket itself is used by one thread at a time, as in ZeroMQ.
#pragma once

#include <memory>

#include "cryptcom.h"
#include "cryptcom/zmq/socket.hpp"

struct cryptcom_socket_t {
  cryptcom::zmq::socket socket;
  cryptcom::zmq::socket_options options;  // as made, for cryptcom_getsockopt
};

namespace cryptcom::c_api {

cryptcom_socket_t* register_socket(std::unique_ptr<cryptcom_socket_t> socket);
// The live socket, or api_error ENOTSOCK (also when `need_open` and it is closed).
cryptcom_socket_t& lookup(cryptcom_socket_t* socket, bool need_open);
// Takes the socket out of the registry; nullptr if it was not in it.
std::unique_ptr<cryptcom_socket_t> unregister(cryptcom_socket_t* socket);

}  // namespace cryptcom::c_api
