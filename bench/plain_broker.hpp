// The plaintext broker rows' broker: libzmq's own zmq_proxy between a ROUTER frontend (clients
// connect) and a DEALER backend (workers connect); the DEALER hands each request to the next
// worker round-robin and the ROUTER routes each reply back by the client's routing id, all in
// libzmq's C loop (the ZeroMQ guide's "shared queue", msgqueue; its lbbroker picks the least
// recently used worker in application code instead). Steerable, so that stop() ends run().
// Thread-safety: construct, bind and stop() on one thread, run() on one other thread (the thread
// start is the memory barrier ZeroMQ asks for).
#pragma once

#include <string>
#include <zmq.hpp>

namespace cryptcom::bench {

class plain_broker {
 public:
  explicit plain_broker(::zmq::context_t& context);

  void bind_frontend(const std::string& endpoint) { frontend_.bind(endpoint); }
  void bind_backend(const std::string& endpoint) { backend_.bind(endpoint); }
  [[nodiscard]] std::string frontend_endpoint() const;
  [[nodiscard]] std::string backend_endpoint() const;

  // Forwards until stop(); throws zmq::error_t if the proxy fails.
  void run();
  // Asks run() to return (also before it started: it then returns at once).
  void stop() noexcept;

 private:
  ::zmq::socket_t frontend_;
  ::zmq::socket_t backend_;
  ::zmq::socket_t control_;  // run()'s end of the steering pipe
  ::zmq::socket_t stopper_;  // stop()'s end
};

}  // namespace cryptcom::bench
