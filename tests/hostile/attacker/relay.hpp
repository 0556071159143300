// relay: an active man in the middle between cryptcom clients and a server, as a compromised
// proxy or broker is one. A ROUTER faces the clients; a DEALER faces the server. In the `proxy`
// topology the DEALER connects to a server that binds (the server sees a client as the path
// [relay connection, client id]); in the `broker` topology the DEALER binds and the server is a
// worker that connects to it (a DEALER that sees [client id]), as a ROUTER/DEALER broker
// (zmq_proxy) is set up. Either way the relay forwards every message, and can do what such a hop
// can: read every cryptcom frame, rewrite it, drop it, and inject frames of its own either way.
//
// Every frame is recorded as it arrived (before any rewrite), with its direction, so a test can
// replay it later or hand the whole capture to an offline attacker.
// Thread-safety: every public member may be called from any thread; the hook runs on the relay's
// thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "attacker/v2_crypto.hpp"

namespace cryptcom::hostile {

class relay {
 public:
  enum class topology { proxy, broker };
  enum class direction { to_server, to_client };
  struct capture {
    direction dir;
    v2::bytes frame;
  };
  // Sees each frame on its way; may change it in place. false: the frame is dropped.
  using hook = std::function<bool(direction, v2::bytes& frame)>;

  // `front`: where clients connect (bound; "tcp://127.0.0.1:*" picks a port). `back`: proxy, the
  // server's endpoint to connect to; broker, the endpoint to bind for the worker.
  relay(::zmq::context_t& context, topology shape, const std::string& front,
        const std::string& back);
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  const std::string& front_endpoint() const noexcept { return front_endpoint_; }
  const std::string& back_endpoint() const noexcept { return back_endpoint_; }

  void set_hook(hook h);
  // Sends `frame` towards `dir` as if it came from the other side, on the path of the client seen
  // last. Dropped when no client was seen yet.
  void inject(direction dir, v2::bytes frame);

  // Everything that arrived, in order (not consumed).
  std::vector<capture> captures() const;
  // Frames forwarded (after the hook) and injected, by direction.
  std::size_t forwarded(direction dir) const noexcept;
  std::size_t injected(direction dir) const noexcept;

 private:
  void run();

  ::zmq::socket_t front_;
  ::zmq::socket_t back_;
  std::string front_endpoint_;
  std::string back_endpoint_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  hook hook_;
  std::string client_;  // the routing id of the client seen last
  std::deque<std::pair<direction, v2::bytes>> to_inject_;
  std::vector<capture> captured_;
  std::atomic<std::size_t> forwarded_[2]{};
  std::atomic<std::size_t> injected_[2]{};
  std::thread thread_;
};

}  // namespace cryptcom::hostile
