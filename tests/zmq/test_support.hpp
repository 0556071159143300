// Helpers shared by the ZeroMQ transport's tests: endpoints on every transport, a key pool
// shared by the tests' sockets, timeouts that turn a hang into a failure, and message helpers.
#pragma once

#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "cryptcom/zmq/socket.hpp"

namespace cryptcom::zmq::test {

enum class transport { tcp, ipc, inproc };

// Random payload bytes (libsodium's generator), for messages whose content a test compares.
inline std::vector<unsigned char> random_bytes(std::size_t n) {
  std::vector<unsigned char> v(n);
  if (n > 0) randombytes_buf(v.data(), n);
  return v;
}

// memcmp must not see the null data pointer of an empty message.
inline bool same(const ::zmq::message_t& m, const std::vector<unsigned char>& v) {
  return m.size() == v.size() && (v.empty() || std::memcmp(m.data(), v.data(), v.size()) == 0);
}

inline const char* name_of(transport t) {
  switch (t) {
    case transport::tcp:
      return "tcp";
    case transport::ipc:
      return "ipc";
    case transport::inproc:
      return "inproc";
  }
  return "?";
}

// An endpoint to bind on: tcp picks a free port (read it back with last_endpoint).
inline std::string bind_endpoint(transport t) {
  static std::atomic<int> counter{0};
  const int n = counter.fetch_add(1);
  switch (t) {
    case transport::tcp:
      return "tcp://127.0.0.1:*";
    case transport::ipc:
      return "ipc:///tmp/cryptcom-zmq-test-" + std::to_string(::getpid()) + "-" + std::to_string(n);
    case transport::inproc:
      return "inproc://cryptcom-zmq-test-" + std::to_string(n);
  }
  return {};
}

// Binds and returns the endpoint to connect to.
template <class Socket>
std::string bind_any(Socket& s, transport t) {
  s.bind(bind_endpoint(t));
  return s.get(::zmq::sockopt::last_endpoint);
}

// One key pool for all the tests' sockets: its thread and locked memory are made once.
inline std::shared_ptr<cryptcom::key_pool> shared_pool() {
  static std::shared_ptr<cryptcom::key_pool> pool = [] {
    cryptcom::key_pool_options o;
    o.capacity = 2048;
    o.low_watermark = 1536;
    o.threads = 1;
    return std::shared_ptr<cryptcom::key_pool>(cryptcom::make_key_pool(o));
  }();
  return pool;
}

inline socket_options test_options() {
  socket_options o;
  o.key_pool = shared_pool();
  o.linger = std::chrono::milliseconds(500);
  return o;
}

constexpr int io_timeout_ms = 20000;

// A socket whose blocking calls give up after io_timeout_ms instead of hanging the test.
inline socket make(::zmq::context_t& ctx, ::zmq::socket_type type,
                   socket_options o = test_options()) {
  socket s(ctx, type, std::move(o));
  s.set(::zmq::sockopt::rcvtimeo, io_timeout_ms);
  s.set(::zmq::sockopt::sndtimeo, io_timeout_ms);
  return s;
}

inline ::zmq::message_t msg(const std::string& s) { return ::zmq::message_t(s.data(), s.size()); }
inline std::string str(const ::zmq::message_t& m) { return m.to_string(); }

inline std::vector<std::string> strs(const std::vector<::zmq::message_t>& parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) out.push_back(p.to_string());
  return out;
}

// Sends string parts as one message; true when sent.
template <class Socket>
bool send_strings(Socket& s, const std::vector<std::string>& parts) {
  std::vector<::zmq::const_buffer> bufs;
  for (const auto& p : parts) bufs.emplace_back(p.data(), p.size());
  return send_multipart(s, bufs).has_value();
}

// Receives one message as strings; empty optional on timeout.
template <class Socket>
std::optional<std::vector<std::string>> recv_strings(
    Socket& s, ::zmq::recv_flags f = ::zmq::recv_flags::none) {
  std::vector<::zmq::message_t> parts;
  if (!recv_multipart(s, std::back_inserter(parts), f)) return std::nullopt;
  return strs(parts);
}

// Every event of a socket, drained.
inline std::vector<event> drain_events(socket& s) {
  std::vector<event> out;
  while (auto e = s.poll_event()) out.push_back(std::move(*e));
  return out;
}

}  // namespace cryptcom::zmq::test
