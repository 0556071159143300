// The registry of live C API sockets.
#include "registry.hpp"

#include <cerrno>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "errors.hpp"

namespace cryptcom::c_api {

namespace {

struct registry {
  std::shared_mutex mutex;
  std::unordered_map<const cryptcom_socket_t*, std::unique_ptr<cryptcom_socket_t>> live;
};

registry& the_registry() {
  // Never destroyed: a socket still open at exit is not closed behind the application's back by a
  // static destructor racing its threads.
  static registry* r = new registry();
  return *r;
}

}  // namespace

cryptcom_socket_t* register_socket(std::unique_ptr<cryptcom_socket_t> socket) {
  registry& r = the_registry();
  std::unique_lock lock(r.mutex);
  cryptcom_socket_t* s = socket.get();
  r.live.emplace(s, std::move(socket));
  return s;
}

cryptcom_socket_t& lookup(cryptcom_socket_t* socket, bool need_open) {
  if (socket == nullptr) throw api_error{ENOTSOCK, "the socket is NULL"};
  registry& r = the_registry();
  {
    std::shared_lock lock(r.mutex);
    if (r.live.find(socket) == r.live.end()) {
      throw api_error{ENOTSOCK, "not a cryptcom socket (destroyed, or never made by cryptcom)"};
    }
  }
  if (need_open && !socket->socket) {
    throw api_error{ENOTSOCK, "the cryptcom socket is closed"};
  }
  return *socket;
}

std::unique_ptr<cryptcom_socket_t> unregister(cryptcom_socket_t* socket) {
  registry& r = the_registry();
  std::unique_lock lock(r.mutex);
  const auto it = r.live.find(socket);
  if (it == r.live.end()) return nullptr;
  auto owned = std::move(it->second);
  r.live.erase(it);
  return owned;
}

}  // namespace cryptcom::c_api
