// echo_server: the target of an attack, as issue 9 attacked examples/echo_server: a cryptcom
// ROUTER on tcp 127.0.0.1 that sends every message back to where it came from. It has a ZeroMQ
// context and a key pool of its own, so every thread doing its work (libzmq's I/O thread, the
// socket's I/O thread, the key generator, the echo loop) was started by its constructor and is
// known by id: cpu_seconds() is the target's CPU and nobody else's.
// Events are moved out of the socket as they come (the socket keeps only max_events), so a test
// sees the first refusal of a flood as well as the last.
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "cryptcom/zmq/socket.hpp"

namespace cryptcom::hostile {

class echo_server {
 public:
  // Events kept (the newest); the socket's own queue is raised to the same figure.
  static constexpr std::size_t max_kept_events = 200'000;

  explicit echo_server(cryptcom::zmq::socket_options options);
  ~echo_server();
  echo_server(const echo_server&) = delete;
  echo_server& operator=(const echo_server&) = delete;

  const std::string& endpoint() const noexcept { return endpoint_; }
  const cryptcom::zmq::socket_options& options() const noexcept { return options_; }
  // The socket's instance id, as its peers see it.
  const guid& instance() const noexcept { return socket_.instance(); }
  cryptcom::zmq::socket_stats stats() const { return socket_.stats(); }

  // Events so far (the newest max_kept_events), oldest first.
  std::vector<cryptcom::zmq::event> events() const;
  // Messages echoed, in total and by the first frame of their route (the connection's id).
  std::uint64_t served() const noexcept { return served_.load(); }
  std::uint64_t served_from(const std::string& first_frame) const;

  // The engine's peer id of a route (a key of stats().routes), if the route is known.
  std::optional<std::uint64_t> peer_of(const std::vector<std::string>& route) const;
  // How many known routes start with `first_frame`: the peers one connection made.
  std::size_t routes_from(const std::string& first_frame) const;

  // CPU seconds spent so far by the target's threads.
  double cpu_seconds() const;
  const std::vector<int>& threads() const noexcept { return threads_; }

 private:
  void run();
  void take_events();

  cryptcom::zmq::socket_options options_;
  ::zmq::context_t context_;
  mutable cryptcom::zmq::socket socket_;
  std::string endpoint_;
  std::vector<int> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> served_{0};
  mutable std::mutex mutex_;
  std::deque<cryptcom::zmq::event> events_;
  std::map<std::string, std::uint64_t> served_from_;
  std::thread thread_;
};

}  // namespace cryptcom::hostile
