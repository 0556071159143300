// wiretap: a man in the middle between a cryptcom client and its server, as an attacker who can
// read the path has: a ROUTER the client connects to, a DEALER connected to the server, and a
// thread forwarding every message both ways unchanged while keeping a copy of each cryptcom frame
// (the last frame) with its direction. The server sees the client as the path
// [tap connection id, client routing id]; nothing in the protocol needs more than the envelope to
// pass a broker, so the client and server work as they do through any zmq_proxy.
//
// What it gives an attacker: every offer the server makes to the client (key id and public key),
// every frame the client sends, to replay or to seal to the client's keys from elsewhere.
// Thread-safety: the public members may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "attacker/forge.hpp"

namespace cryptcom::hostile {

class wiretap {
 public:
  enum class direction { to_server, to_client };
  struct capture {
    direction dir;
    bytes frame;
  };

  // Connects to `server_endpoint` and binds a tcp port on 127.0.0.1 for the client.
  wiretap(::zmq::context_t& context, const std::string& server_endpoint);
  ~wiretap();
  wiretap(const wiretap&) = delete;
  wiretap& operator=(const wiretap&) = delete;

  // Where the client connects.
  const std::string& endpoint() const noexcept { return endpoint_; }
  // The frames captured since the last call, in the order they passed.
  std::vector<capture> take();
  // Every key the server offered the client so far (from control blocks going to the client,
  // alone or riding on data frames). Does not consume the captures.
  std::vector<wire::offered_key> offers_to_client();

 private:
  void run();

  ::zmq::socket_t front_;
  ::zmq::socket_t back_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<capture> captured_;  // not yet taken
  std::vector<wire::offered_key> offers_;
  std::thread thread_;
};

}  // namespace cryptcom::hostile
