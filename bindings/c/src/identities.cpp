// The C API's authenticated mode beyond options: who a peer is, and the application's verdict on
// an identity_check. A peer is named by its routing frames, as cryptcom::zmq::socket names it.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "cryptcom.h"
#include "cryptcom/identity.hpp"
#include "errors.hpp"
#include "registry.hpp"

// The C ids are the C++ sockopt ids (cryptcom/zmq/sockopt.hpp): socket::set_option takes both.
namespace sockopt = cryptcom::zmq::sockopt;
static_assert(CRYPTCOM_IDENTITY_SECRET_KEY == sockopt::identity_secret_key_id);
static_assert(CRYPTCOM_IDENTITY_PUBLIC_KEY == sockopt::identity_public_key_id);
static_assert(CRYPTCOM_SERVER_KEY == sockopt::server_key_id);
static_assert(CRYPTCOM_ALLOW_KEY == sockopt::allow_key_id);
static_assert(CRYPTCOM_ACCEPT_ANY_IDENTITY == sockopt::accept_any_identity_id);
static_assert(CRYPTCOM_IDENTITY_POLICY == sockopt::identity_policy_id);
static_assert(CRYPTCOM_ZAP == sockopt::zap_id);
static_assert(CRYPTCOM_ZAP_DOMAIN == sockopt::zap_domain_id);
static_assert(CRYPTCOM_ZAP_TIMEOUT == sockopt::zap_timeout_id);
static_assert(CRYPTCOM_THROUGH_BROKER == sockopt::through_broker_id);
static_assert(CRYPTCOM_POLICY_ANY == static_cast<int>(cryptcom::peer_policy::any));
static_assert(CRYPTCOM_POLICY_ALLOW_LIST == static_cast<int>(cryptcom::peer_policy::allow_list));
static_assert(CRYPTCOM_POLICY_ASK == static_cast<int>(cryptcom::peer_policy::ask));
static_assert(CRYPTCOM_REASON_ACCESS_DENIED == static_cast<int>(cryptcom::errc::access_denied));
static_assert(CRYPTCOM_REASON_AUTHENTICATION_REQUIRED ==
              static_cast<int>(cryptcom::errc::authentication_required));

namespace {

using cryptcom::c_api::api_error;
using cryptcom::c_api::guard;

std::vector<std::string> route_of(const void* const* frames, const size_t* sizes, size_t count) {
  std::vector<std::string> route;
  if (count == 0) return route;
  if (frames == nullptr || sizes == nullptr) {
    throw api_error{EFAULT, "the route's frames or sizes are NULL"};
  }
  route.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (frames[i] == nullptr && sizes[i] > 0) {
      throw api_error{EFAULT, "route frame " + std::to_string(i) + " is NULL"};
    }
    route.emplace_back(static_cast<const char*>(frames[i]), sizes[i]);
  }
  return route;
}

}  // namespace

extern "C" {

int cryptcom_peer_identity(cryptcom_socket_t* socket, const void* const* frames,
                           const size_t* sizes, size_t count, char* key_z85, char* user_id,
                           size_t user_id_size) {
  return guard(-1, [&] {
    auto& s = cryptcom::c_api::lookup(socket, true);
    if (key_z85 == nullptr) throw api_error{EFAULT, "cryptcom_peer_identity: key_z85 is NULL"};
    if (user_id == nullptr && user_id_size > 0) {
      throw api_error{EFAULT, "cryptcom_peer_identity: user_id is NULL"};
    }
    const cryptcom::zmq::identity_info who = s.socket.peer_identity(route_of(frames, sizes, count));
    const std::string key = who.key ? cryptcom::to_z85(*who.key) : std::string();
    std::memcpy(key_z85, key.c_str(), key.size() + 1);
    if (user_id_size > 0) {
      const size_t n = std::min(who.user_id.size(), user_id_size - 1);
      std::memcpy(user_id, who.user_id.data(), n);
      user_id[n] = '\0';
    }
    return who.key ? 1 : 0;
  });
}

int cryptcom_resolve_identity(cryptcom_socket_t* socket, const void* const* frames,
                              const size_t* sizes, size_t count, const char* key_z85,
                              int accepted) {
  return guard(-1, [&] {
    auto& s = cryptcom::c_api::lookup(socket, true);
    if (key_z85 == nullptr) throw api_error{EFAULT, "cryptcom_resolve_identity: key_z85 is NULL"};
    const auto key = cryptcom::public_key_from_z85(key_z85);
    if (!key) {
      throw api_error{EINVAL, "cryptcom_resolve_identity: the key is not 40 characters of Z85"};
    }
    s.socket.resolve_identity(route_of(frames, sizes, count), *key, accepted != 0);
    return 0;
  });
}

}  // extern "C"
