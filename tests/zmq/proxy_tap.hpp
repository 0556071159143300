// proxy_tap: a plain ZeroMQ broker (zmq_proxy_steerable: ROUTER frontend, DEALER backend, both on
// tcp) whose capture socket records every wire message that crosses it, in both directions, as
// the multipart message it was. What crossed is exactly what the two ends put on the wire, minus
// the routing id the frontend ROUTER adds in front of a client's messages (and takes off its
// replies). Tests read it to see what an eavesdropper on the path sees.
// Thread-safety: construct, connect, stop() and read on one thread; the proxy and the collector
// run on their own threads until stop().
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {

class proxy_tap {
 public:
  explicit proxy_tap(::zmq::context_t& ctx)
      : frontend_(ctx, ::zmq::socket_type::router),
        backend_(ctx, ::zmq::socket_type::dealer),
        capture_out_(ctx, ::zmq::socket_type::pair),
        capture_in_(ctx, ::zmq::socket_type::pair),
        control_(ctx, ::zmq::socket_type::pair),
        control_client_(ctx, ::zmq::socket_type::pair) {
    for (auto* s :
         {&frontend_, &backend_, &capture_out_, &capture_in_, &control_, &control_client_}) {
      s->set(::zmq::sockopt::linger, 0);
    }
    frontend_.bind("tcp://127.0.0.1:*");
    backend_.bind("tcp://127.0.0.1:*");
    front_ = frontend_.get(::zmq::sockopt::last_endpoint);
    back_ = backend_.get(::zmq::sockopt::last_endpoint);
    const std::string cap = bind_endpoint(transport::inproc);
    capture_in_.bind(cap);
    capture_out_.connect(cap);
    const std::string ctl = bind_endpoint(transport::inproc);
    control_.bind(ctl);
    control_client_.connect(ctl);
    proxy_ = std::thread([this] {
      ::zmq::proxy_steerable(::zmq::socket_ref(frontend_), backend_, capture_out_, control_);
    });
    collector_ = std::thread([this] {
      capture_in_.set(::zmq::sockopt::rcvtimeo, 50);
      while (!stop_) {
        std::vector<::zmq::message_t> parts;
        while (::zmq::recv_multipart(capture_in_, std::back_inserter(parts))) {
          // The proxy captures its control commands too: stop()'s is no wire message.
          if (!(parts.size() == 1 && parts[0].to_string_view() == "TERMINATE")) {
            captured_.push_back(strs(parts));
          }
          parts.clear();
        }
      }
    });
  }
  ~proxy_tap() { stop(); }
  proxy_tap(const proxy_tap&) = delete;
  proxy_tap& operator=(const proxy_tap&) = delete;

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    (void)control_client_.send(::zmq::str_buffer("TERMINATE"));
    proxy_.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop_ = true;
    collector_.join();
  }

  const std::string& frontend() const { return front_; }
  const std::string& backend() const { return back_; }
  // Every wire message that crossed, both directions, each as its frames (valid after stop()).
  const std::vector<std::vector<std::string>>& messages() const { return captured_; }
  // The same, frame by frame.
  std::vector<std::string> frames() const {
    std::vector<std::string> out;
    for (const auto& m : captured_) out.insert(out.end(), m.begin(), m.end());
    return out;
  }

 private:
  ::zmq::socket_t frontend_, backend_, capture_out_, capture_in_, control_, control_client_;
  std::string front_, back_;
  std::thread proxy_, collector_;
  std::atomic<bool> stop_{false};
  bool stopped_ = false;
  std::vector<std::vector<std::string>> captured_;
};

}  // namespace cryptcom::zmq::test
