// cryptcom's own rows: cryptcom::zmq::socket through the very loops that measure plain ZeroMQ and
// CURVE (zmq_loops.hpp), so that the only difference between the rows is the socket type.
//
// Each end of a measurement stands for one process: the server's sockets draw their one-time keys
// from one key pool, the client's from another, as socket_options::key_pool recommends for many
// sockets in one process. The pools live as long as the system (the whole run), as a process's
// would, so their pre-generated keys are warm at the start of every measurement, as they are in a
// running application. Everything else is the library's default.

#include <sodium.h>

#include <memory>
#include <stdexcept>
#include <vector>
#include <zmq.hpp>

#include "attacker/thread_cpu.hpp"
#include "broker_system.hpp"
#include "cryptcom/key_source.hpp"
#include "cryptcom/zmq/broker.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "pattern_system.hpp"
#include "results.hpp"
#include "system.hpp"

namespace cryptcom::bench {
namespace {

// authenticated: both ends get an identity (PROTOCOL.md §12), the client knows the server's
// key and the server's allow-list holds the client's. through_broker: clients and workers of a
// cryptcom::zmq::broker (PROTOCOL.md §11.7).
enum class cryptcom_variant : unsigned char { base, authenticated, through_broker };

class cryptcom_policy {
 public:
  using socket_type = cryptcom::zmq::socket;

  explicit cryptcom_policy(const cryptcom_settings& settings,
                           cryptcom_variant variant = cryptcom_variant::base) {
    if (variant == cryptcom_variant::authenticated) {
      auto server = cryptcom::identity::generate();
      auto client = cryptcom::identity::generate();
      if (!server.ok() || !client.ok()) throw std::runtime_error("cannot make identities");
      server_auth_.self = *server;
      server_auth_.allowed = {client->public_value()};
      client_auth_.self = *client;
      client_auth_.peer_key = server->public_value();
    }
    cryptcom::key_pool_options pool;
    pool.threads = settings.keygen_threads;
    const auto before = hostile::process_threads();
    server_pool_ = cryptcom::make_key_pool(pool);
    server_threads_ = hostile::new_threads(before, hostile::process_threads());
    client_pool_ = cryptcom::make_key_pool(pool);
    if (settings.aes_256_gcm) options_.engine.cipher = cryptcom::aead::aes_256_gcm;
    options_.through_broker = variant == cryptcom_variant::through_broker;
  }

  socket_type make_socket(::zmq::context_t& context, ::zmq::socket_type type, endpoint_role role) {
    cryptcom::zmq::socket_options options = options_;
    options.key_pool = role == endpoint_role::server ? server_pool_ : client_pool_;
    options.engine.auth = role == endpoint_role::server ? server_auth_ : client_auth_;
    return socket_type(context, type, std::move(options));
  }

  // The server end's key pool threads (a PUB's ephemeral keys come from them), for the PUB/SUB
  // rows' publisher CPU time.
  [[nodiscard]] const std::vector<int>& server_threads() const { return server_threads_; }

 private:
  cryptcom::zmq::socket_options options_;
  cryptcom::authentication server_auth_;
  cryptcom::authentication client_auth_;
  std::shared_ptr<cryptcom::key_pool> server_pool_;
  std::shared_ptr<cryptcom::key_pool> client_pool_;
  std::vector<int> server_threads_;
};

// REQ clients (the client end's key pool) and DEALER workers (the server end's) of a
// cryptcom::zmq::broker, with the library's default broker options.
class cryptcom_broker_policy {
 public:
  using socket_type = cryptcom::zmq::socket;
  using broker_type = cryptcom::zmq::broker;

  explicit cryptcom_broker_policy(const cryptcom_settings& settings)
      : sockets_(settings, cryptcom_variant::through_broker) {}

  socket_type make_socket(::zmq::context_t& context, ::zmq::socket_type type, endpoint_role role) {
    return sockets_.make_socket(context, type, role);
  }
  std::unique_ptr<broker_type> make_broker(::zmq::context_t& context) {
    return std::make_unique<broker_type>(context);
  }

 private:
  cryptcom_policy sockets_;
};

}  // namespace

system_list make_cryptcom_systems(const cryptcom_settings& settings) {
  if (settings.aes_256_gcm && crypto_aead_aes256gcm_is_available() == 0) {
    throw std::runtime_error("AES-256-GCM is not available on this CPU (needs AES-NI and PCLMUL)");
  }
  system_list systems;
  systems.push_back(std::make_unique<pattern_system<cryptcom_policy>>(
      k_cryptcom_push_system, cryptcom_policy(settings), pattern::one_way_only));
  systems.push_back(std::make_unique<pattern_system<cryptcom_policy>>(
      k_cryptcom_pull_system, cryptcom_policy(settings), pattern::round_trip_only));
  systems.push_back(std::make_unique<pattern_system<cryptcom_policy>>(
      k_cryptcom_auth_push_system, cryptcom_policy(settings, cryptcom_variant::authenticated),
      pattern::one_way_only));
  systems.push_back(std::make_unique<pattern_system<cryptcom_policy>>(
      k_cryptcom_pipeline_system, cryptcom_policy(settings), pattern::pipeline_only));
  systems.push_back(std::make_unique<broker_system<cryptcom_broker_policy>>(
      k_cryptcom_broker_system, cryptcom_broker_policy(settings)));
  systems.push_back(std::make_unique<pattern_system<cryptcom_policy>>(
      k_cryptcom_pubsub_system, cryptcom_policy(settings), pattern::fan_out_only));
  return systems;
}

}  // namespace cryptcom::bench
