// The setup of the relay tests: a server with an identity that accepts one client, that client,
// and a relay between them in the proxy topology (tcp: client -> relay ROUTER, relay DEALER ->
// server ROUTER) or the broker topology (ipc: client -> broker ROUTER frontend, server = a DEALER
// worker connected to the broker's DEALER backend). The relay is honest until a test gives it a
// hook; `keys` are the attacker's one-time keys.
#pragma once

#include <memory>
#include <string>

#include "auth_support.hpp"
#include "mitm.hpp"

namespace cryptcom::auth_test {

struct world {
  world(relay::topology shape, const std::string& name)
      : server_keys(make_keys()), client_keys(make_keys()) {
    auto server_opts = server_options(&server_keys, {&client_keys});
    if (shape == relay::topology::proxy) {
      server = std::make_unique<echo_peer>(ctx, server_opts, "tcp://127.0.0.1:*");
      mitm = std::make_unique<relay>(ctx, shape, "tcp://127.0.0.1:*", server->endpoint());
    } else {
      mitm = std::make_unique<relay>(ctx, shape, ipc_endpoint(name + "-front"),
                                     ipc_endpoint(name + "-back"));
      server = std::make_unique<echo_peer>(ctx, server_opts, mitm->back_endpoint(), true);
    }
    c = std::make_unique<client>(ctx, client_options(&client_keys, server_keys.pub),
                                 mitm->front_endpoint());
  }
  ~world() {
    c.reset();
    mitm.reset();
    server.reset();
  }

  // Waits until the relay has seen both sides speak (the client's first frame and an answer).
  bool wait_for_traffic() {
    return wait_until(
        [&] {
          bool up = false, down = false;
          for (const auto& cap : mitm->captures()) {
            (cap.dir == relay::direction::to_server ? up : down) = true;
          }
          return up && down;
        },
        bound(5000ms));
  }

  ::zmq::context_t ctx;
  static_keys server_keys;
  static_keys client_keys;
  keyring keys;
  std::unique_ptr<echo_peer> server;
  std::unique_ptr<relay> mitm;
  std::unique_ptr<client> c;
};

inline const char* shape_name(const ::testing::TestParamInfo<relay::topology>& info) {
  return info.param == relay::topology::proxy ? "proxy_tcp" : "broker_ipc";
}

}  // namespace cryptcom::auth_test
