// tamper_relay: a plain ZeroMQ man in the middle (a ROUTER frontend bound on the transport asked
// for, a DEALER backend connected to the server) that forwards every wire message both ways and
// lets a test alter the last frame of those going to the server first. Tests use it to make the
// receiver refuse a data frame while its key is still live, so the sender must seal it again.
// Thread-safety: the callback runs on the relay's thread; construct and destroy on one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {

class tamper_relay {
 public:
  // `tamper` sees the last frame of each message from the client; it may change it in place.
  tamper_relay(::zmq::context_t& ctx, transport t, const std::string& server_endpoint,
               std::function<void(::zmq::message_t&)> tamper)
      : front_(ctx, ::zmq::socket_type::router), back_(ctx, ::zmq::socket_type::dealer) {
    front_.set(::zmq::sockopt::linger, 0);
    back_.set(::zmq::sockopt::linger, 0);
    front_.bind(bind_endpoint(t));
    back_.connect(server_endpoint);
    endpoint_ = front_.get(::zmq::sockopt::last_endpoint);
    thread_ = std::thread([this, tamper = std::move(tamper)] { run(tamper); });
  }
  ~tamper_relay() {
    stop_ = true;
    thread_.join();
  }
  tamper_relay(const tamper_relay&) = delete;
  tamper_relay& operator=(const tamper_relay&) = delete;

  // Where the client connects.
  const std::string& endpoint() const { return endpoint_; }

 private:
  void run(const std::function<void(::zmq::message_t&)>& tamper) {
    using namespace std::chrono_literals;
    while (!stop_) {
      std::vector<::zmq::pollitem_t> items{{front_.handle(), 0, ZMQ_POLLIN, 0},
                                           {back_.handle(), 0, ZMQ_POLLIN, 0}};
      ::zmq::poll(items, 20ms);
      for (int side = 0; side < 2; ++side) {
        if (!(items[static_cast<std::size_t>(side)].revents & ZMQ_POLLIN)) continue;
        std::vector<::zmq::message_t> parts;
        if (!::zmq::recv_multipart(side == 0 ? front_ : back_, std::back_inserter(parts))) {
          continue;
        }
        if (side == 0) tamper(parts.back());
        (void)::zmq::send_multipart(side == 0 ? back_ : front_, parts);
      }
    }
  }

  ::zmq::socket_t front_, back_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cryptcom::zmq::test
