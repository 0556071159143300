// Helpers of the authenticated-mode tests: CurveZMQ key pairs, sockets configured as client or
// server through cryptcom::zmq::sockopt, waiting for an event, and a ZAP handler (ZeroMQ RFC 27)
// on inproc://zeromq.zap.01 that answers by key.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "cryptcom/zmq/sockopt.hpp"
#include "test_support.hpp"

namespace cryptcom::zmq::test {

// A CurveZMQ key pair, as zmq_curve_keypair() and `cryptcom keygen` make them.
struct keypair {
  std::string public_z85;
  std::string secret_z85;
  cryptcom::public_key key;  // the public key's bytes
};

inline keypair make_keypair() {
  std::array<char, 41> pub{};
  std::array<char, 41> sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) throw ::zmq::error_t();
  keypair k{pub.data(), sec.data(), {}};
  if (zmq_z85_decode(k.key.bytes.data(), pub.data()) == nullptr) throw ::zmq::error_t();
  return k;
}

// A client: our identity and the server's key.
inline void make_client(socket& s, const keypair& self, const keypair& server) {
  s.set(sockopt::identity_secret_key, self.secret_z85);
  s.set(sockopt::server_key, server.public_z85);
}

// A server with its identity and the clients it allows.
inline void make_server(socket& s, const keypair& self, const std::vector<keypair>& allowed) {
  s.set(sockopt::identity_secret_key, self.secret_z85);
  for (const auto& k : allowed) s.set(sockopt::allow_key, k.public_z85);
}

// Waits (at most `timeout`) for an event `pred` accepts; every event polled meanwhile is kept in
// `seen` when given.
inline std::optional<event> wait_event(
    socket& s, const std::function<bool(const event&)>& pred, std::vector<event>* seen = nullptr,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    while (auto e = s.poll_event()) {
      if (seen) seen->push_back(*e);
      if (pred(*e)) return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

inline std::function<bool(const event&)> kind_is(event_kind k) {
  return [k](const event& e) { return e.kind == k; };
}

// A ZAP handler: a REP bound at inproc://zeromq.zap.01 in `ctx`, answering each request 200 with
// the User-Id given for its key, or 400. It keeps every request it got.
class zap_handler {
 public:
  zap_handler(::zmq::context_t& ctx, std::map<std::string, std::string> users)
      : users_(std::move(users)), rep_(ctx, ::zmq::socket_type::rep) {
    rep_.set(::zmq::sockopt::linger, 0);
    rep_.bind("inproc://zeromq.zap.01");
    thread_ = std::thread([this] { run(); });
  }
  ~zap_handler() {
    stop_ = true;
    thread_.join();
  }
  zap_handler(const zap_handler&) = delete;
  zap_handler& operator=(const zap_handler&) = delete;

  std::vector<std::vector<std::string>> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void run() {
    while (!stop_) {
      ::zmq::pollitem_t item{rep_.handle(), 0, ZMQ_POLLIN, 0};
      ::zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<::zmq::message_t> parts;
      if (!::zmq::recv_multipart(rep_, std::back_inserter(parts))) continue;
      const std::vector<std::string> req = strs(parts);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(req);
      }
      // ["1.0", id, domain, address, routing id, mechanism, key]
      std::string code = "400";
      std::string user;
      if (req.size() == 7) {
        if (auto it = users_.find(req[6]); it != users_.end()) {
          code = "200";
          user = it->second;
        }
      }
      const std::string text = code == "200" ? "OK" : "not on the test's list";
      const std::string id = req.size() > 1 ? req[1] : std::string();
      std::array<::zmq::const_buffer, 6> reply{
          ::zmq::str_buffer("1.0"), ::zmq::buffer(id),   ::zmq::buffer(code),
          ::zmq::buffer(text),      ::zmq::buffer(user), ::zmq::const_buffer(nullptr, 0)};
      (void)::zmq::send_multipart(rep_, reply);
    }
  }

  std::map<std::string, std::string> users_;  // raw 32-byte key -> User-Id
  ::zmq::socket_t rep_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::vector<std::string>> requests_;
  std::thread thread_;
};

inline std::string raw(const cryptcom::public_key& k) {
  return std::string(reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size());
}

}  // namespace cryptcom::zmq::test
