#include "plain_broker.hpp"

#include <atomic>
#include <cstdint>

namespace cryptcom::bench {

plain_broker::plain_broker(::zmq::context_t& context)
    : frontend_(context, ::zmq::socket_type::router),
      backend_(context, ::zmq::socket_type::dealer),
      control_(context, ::zmq::socket_type::pair),
      stopper_(context, ::zmq::socket_type::pair) {
  for (auto* socket : {&frontend_, &backend_, &control_, &stopper_}) {
    socket->set(::zmq::sockopt::linger, 0);
  }
  // Each broker its own inproc name: a context may hold several.
  static std::atomic<std::uint64_t> brokers{0};
  const std::string steering = "inproc://cryptcom-bench-plain-broker-" + std::to_string(++brokers);
  control_.bind(steering);
  stopper_.connect(steering);
}

std::string plain_broker::frontend_endpoint() const {
  return frontend_.get(::zmq::sockopt::last_endpoint);
}

std::string plain_broker::backend_endpoint() const {
  return backend_.get(::zmq::sockopt::last_endpoint);
}

void plain_broker::run() {
  ::zmq::proxy_steerable(frontend_, backend_, ::zmq::socket_ref(), control_);
}

void plain_broker::stop() noexcept {
  try {
    (void)stopper_.send(::zmq::str_buffer("TERMINATE"), ::zmq::send_flags::dontwait);
  } catch (const ::zmq::error_t&) {
    // The context is going away: run() returns by itself.
  }
}

}  // namespace cryptcom::bench
