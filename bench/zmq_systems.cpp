// The reference systems: libzmq as it is, and libzmq with its own CURVE security; each also as
// PUSH/PULL (the *-pipeline rows) and as PUB/SUB (the *-pubsub rows); and plain libzmq's clients
// -> broker -> workers.

#include <sodium.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <zmq.hpp>

#include "broker_system.hpp"
#include "pattern_system.hpp"
#include "plain_broker.hpp"
#include "results.hpp"
#include "system.hpp"

namespace cryptcom::bench {
namespace {

struct plaintext_policy {
  using socket_type = ::zmq::socket_t;

  socket_type make_socket(::zmq::context_t& context, ::zmq::socket_type type, endpoint_role) {
    return socket_type(context, type);
  }
};

// REQ clients and DEALER workers of plain libzmq around zmq_proxy (plain_broker.hpp).
struct plaintext_broker_policy : plaintext_policy {
  using broker_type = plain_broker;

  std::unique_ptr<plain_broker> make_broker(::zmq::context_t& context) {
    return std::make_unique<plain_broker>(context);
  }
};

// One server and one client key pair (Z85 text, as zmq_curve_keypair writes them). They protect
// nothing but benchmark traffic, yet are secrets all the same: locked while alive, wiped after.
class curve_keys {
 public:
  curve_keys() {
    if (sodium_mlock(this, sizeof *this) != 0) {
      // Only RLIMIT_MEMLOCK can refuse this; the keys are still wiped on destruction.
      locked_ = false;
    }
    if (zmq_curve_keypair(server_public_.data(), server_secret_.data()) != 0 ||
        zmq_curve_keypair(client_public_.data(), client_secret_.data()) != 0) {
      throw std::runtime_error("zmq_curve_keypair failed");
    }
  }
  ~curve_keys() {
    if (locked_) {
      sodium_munlock(this, sizeof *this);  // wipes before unlocking
    } else {
      sodium_memzero(this, sizeof *this);
    }
  }
  curve_keys(const curve_keys&) = delete;
  curve_keys& operator=(const curve_keys&) = delete;

  [[nodiscard]] std::string_view server_public() const { return z85(server_public_); }
  [[nodiscard]] std::string_view server_secret() const { return z85(server_secret_); }
  [[nodiscard]] std::string_view client_public() const { return z85(client_public_); }
  [[nodiscard]] std::string_view client_secret() const { return z85(client_secret_); }

 private:
  using z85_key = std::array<char, 41>;  // 40 characters and the terminator
  static std::string_view z85(const z85_key& key) { return {key.data(), 40}; }

  z85_key server_public_{};
  z85_key server_secret_{};
  z85_key client_public_{};
  z85_key client_secret_{};
  bool locked_ = true;
};

class curve_policy {
 public:
  using socket_type = ::zmq::socket_t;

  curve_policy() : keys_(std::make_unique<curve_keys>()) {}

  socket_type make_socket(::zmq::context_t& context, ::zmq::socket_type type, endpoint_role role) {
    socket_type socket(context, type);
    if (role == endpoint_role::server) {
      socket.set(::zmq::sockopt::curve_server, true);
      socket.set(::zmq::sockopt::curve_secretkey, keys_->server_secret());
    } else {
      socket.set(::zmq::sockopt::curve_serverkey, keys_->server_public());
      socket.set(::zmq::sockopt::curve_publickey, keys_->client_public());
      socket.set(::zmq::sockopt::curve_secretkey, keys_->client_secret());
    }
    return socket;
  }

 private:
  std::unique_ptr<curve_keys> keys_;
};

}  // namespace

system_list make_zmq_systems() {
  system_list systems;
  systems.push_back(
      std::make_unique<pattern_system<plaintext_policy>>(k_plaintext_system, plaintext_policy{}));
  const bool curve = zmq_has("curve") != 0;
  if (curve) {
    systems.push_back(
        std::make_unique<pattern_system<curve_policy>>(k_curve_system, curve_policy{}));
  }
  systems.push_back(std::make_unique<pattern_system<plaintext_policy>>(
      k_plaintext_pipeline_system, plaintext_policy{}, pattern::pipeline_only));
  if (curve) {
    systems.push_back(std::make_unique<pattern_system<curve_policy>>(
        k_curve_pipeline_system, curve_policy{}, pattern::pipeline_only));
  }
  systems.push_back(std::make_unique<broker_system<plaintext_broker_policy>>(
      k_plaintext_broker_system, plaintext_broker_policy{}));
  systems.push_back(std::make_unique<pattern_system<plaintext_policy>>(
      k_plaintext_pubsub_system, plaintext_policy{}, pattern::fan_out_only));
  if (curve) {
    systems.push_back(std::make_unique<pattern_system<curve_policy>>(
        k_curve_pubsub_system, curve_policy{}, pattern::fan_out_only));
  }
  return systems;
}

}  // namespace cryptcom::bench
