// Helpers of the load-balancing broker's tests (docs/PROTOCOL.md §11.7): a cryptcom::zmq::broker
// running on its own thread with its capture collected and its events kept, cryptcom workers that
// answer each request with a transformed copy naming themselves, and raw ZeroMQ endpoints that
// speak the broker's side of the protocol by hand (presence and gone notices, frames made with the
// project's own encoder), as a hostile client or worker would.
// Thread-safety: each object is driven by the test's thread; the broker, the capture collector and
// each worker run on their own threads, and what they record is read under a lock or after stop().
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cryptcom/zmq/broker.hpp"
#include "test_support.hpp"
#include "wire/frame.hpp"

namespace cryptcom::zmq::test::lb {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

// A liveness bound (e.g. "a new worker gets work within 1 s"): as stated in the gcc build, five
// times longer under the sanitizers, whose instrumented build runs every key operation several
// times slower.
inline std::chrono::milliseconds bound(std::chrono::milliseconds d) {
  return sanitized ? d * 5 : d;
}

// Options of a client or worker of the broker: through_broker, and short timers so that a
// message the pool loses is reported within the test (retransmitted after 500 ms, given up
// after `delivery`).
inline socket_options through_broker_options(std::chrono::milliseconds delivery = 3000ms) {
  socket_options o = test_options();
  o.through_broker = true;
  o.engine.key_request_retry = 250ms;
  o.engine.retransmit_after = 500ms;
  o.engine.delivery_timeout = delivery;
  return o;
}

inline std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

inline byte_view bytes_of(const std::string& s) {
  return {reinterpret_cast<const byte*>(s.data()), s.size()};
}
inline std::string string_of(const std::vector<byte>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

inline bool is_data_frame(const std::string& frame) {
  // docs/PROTOCOL.md §3: [version, kind, ...]; an array header of one byte, then version 1 and
  // kind 2 as positive fixints.
  return frame.size() > 3 && frame[1] == 1 && frame[2] == 2;
}

// The broker under test, running on its own thread from construction to stop(), bound on `t`
// (frontend and backend), with a capture socket (a PUSH connected to a PULL, both without a
// high-water mark so that the capture keeps everything) and every on_event call recorded.
class running_broker {
 public:
  running_broker(::zmq::context_t& ctx, transport t, broker_options options = {})
      : broker_(ctx, options),
        capture_out_(ctx, ::zmq::socket_type::push),
        capture_in_(ctx, ::zmq::socket_type::pull) {
    for (auto* s : {&capture_out_, &capture_in_}) {
      s->set(::zmq::sockopt::linger, 0);
      s->set(::zmq::sockopt::sndhwm, 0);
      s->set(::zmq::sockopt::rcvhwm, 0);
    }
    const std::string cap = bind_endpoint(transport::inproc);
    capture_in_.bind(cap);
    capture_out_.connect(cap);
    broker_.bind_frontend(bind_endpoint(t));
    broker_.bind_backend(bind_endpoint(t));
    broker_.capture(::zmq::socket_ref(capture_out_));
    broker_.on_event([this](const broker_event& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
    });
    thread_ = std::thread([this] { broker_.run(); });
    collector_ = std::thread([this] { collect(); });
  }
  ~running_broker() { stop(); }
  running_broker(const running_broker&) = delete;
  running_broker& operator=(const running_broker&) = delete;

  std::string frontend() const { return broker_.frontend_endpoint(); }
  std::string backend() const { return broker_.backend_endpoint(); }
  broker_stats stats() const { return broker_.stats(); }
  std::vector<broker_event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // Waits until `done(stats())` holds; false after `timeout`.
  bool wait_for(const std::function<bool(const broker_stats&)>& done,
                std::chrono::milliseconds timeout) const {
    const auto deadline = clock_type::now() + timeout;
    while (!done(stats())) {
      if (clock_type::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    broker_.stop();
    thread_.join();
    collecting_ = false;
    collector_.join();
  }
  // Every message the broker received, frames as captured (valid after stop()).
  const std::vector<std::vector<std::string>>& captured() const { return captured_; }

 private:
  void collect() {
    capture_in_.set(::zmq::sockopt::rcvtimeo, 20);
    // After stop() the broker sends no more; what it sent before is read to the end.
    for (;;) {
      const bool last_round = !collecting_;
      std::vector<::zmq::message_t> parts;
      while (::zmq::recv_multipart(capture_in_, std::back_inserter(parts))) {
        captured_.push_back(strs(parts));
        parts.clear();
      }
      if (last_round) break;
    }
  }

  broker broker_;
  ::zmq::socket_t capture_out_, capture_in_;
  std::thread thread_, collector_;
  std::atomic<bool> collecting_{true};
  bool stopped_ = false;
  mutable std::mutex mutex_;
  std::vector<broker_event> events_;
  std::vector<std::vector<std::string>> captured_;
};

// A cryptcom DEALER worker behind the broker (routing id = its name): each request
// [client id, parts...] is answered [client id, "re:" + part for each part (empty parts stay
// empty, so a REQ's delimiter comes back as one), "by:" + name].
class worker {
 public:
  worker(::zmq::context_t& ctx, const std::string& backend, std::string name,
         socket_options options = through_broker_options())
      : name_(std::move(name)), socket_(make(ctx, ::zmq::socket_type::dealer, std::move(options))) {
    socket_.set(::zmq::sockopt::routing_id, name_);
    socket_.set(::zmq::sockopt::rcvtimeo, 20);
    connected_at_ = clock_type::now();
    socket_.connect(backend);
    thread_ = std::thread([this] { run(); });
  }
  ~worker() { stop(); }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Stops serving; the socket stays open (it still acknowledges, as an idle worker).
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Dies abruptly: stops serving and closes the socket at once (linger 0), whatever it holds.
  void kill() {
    stop();
    socket_.set(::zmq::sockopt::linger, 0);
    socket_.close();
  }

  const std::string& name() const { return name_; }
  std::size_t served() const { return served_.load(); }
  std::size_t malformed() const { return malformed_.load(); }
  // From connect() to the first request received; nothing before the first request.
  std::optional<std::chrono::milliseconds> time_to_first_request() const {
    const auto first = first_request_ns_.load();
    if (first == 0) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        clock_type::time_point(clock_type::duration(first)) - connected_at_);
  }
  socket& sock() { return socket_; }

 private:
  void run() {
    while (!stopping_) {
      std::vector<::zmq::message_t> parts;
      if (!recv_multipart(socket_, std::back_inserter(parts))) continue;
      if (first_request_ns_.load() == 0) {
        first_request_ns_ = clock_type::now().time_since_epoch().count();
      }
      if (parts.size() < 2) {
        ++malformed_;  // a worker's message always has the client's routing id in front
        continue;
      }
      std::vector<std::string> reply{parts[0].to_string()};
      for (std::size_t i = 1; i < parts.size(); ++i) {
        reply.push_back(parts[i].size() == 0 ? std::string() : "re:" + parts[i].to_string());
      }
      reply.push_back("by:" + name_);
      if (send_strings(socket_, reply)) ++served_;
    }
  }

  std::string name_;
  socket socket_;
  clock_type::time_point connected_at_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> served_{0};
  std::atomic<std::size_t> malformed_{0};
  std::atomic<clock_type::rep> first_request_ns_{0};
};

// --- Speaking the protocol by hand (docs/PROTOCOL.md §4, §5, §11.7) ---

inline guid random_guid() {
  guid g;
  randombytes_buf(g.bytes.data(), g.bytes.size());
  return g;
}

// A one-time key offer whose public key is a real X25519 point (its secret is thrown away: what
// is sealed to it opens for no one).
inline wire::offered_key random_offer(std::uint32_t ttl_ms = 60000) {
  wire::offered_key k;
  k.id = random_guid();
  unsigned char secret[crypto_scalarmult_SCALARBYTES];
  randombytes_buf(secret, sizeof secret);
  crypto_scalarmult_base(k.key.bytes.data(), secret);
  sodium_memzero(secret, sizeof secret);
  k.ttl_ms = ttl_ms;
  return k;
}

// A hello that says "behind a broker" (features bit 0, broker_notices).
inline wire::hello broker_hello() {
  wire::hello h;
  h.max_version = 1;
  h.features = 1;
  h.aead = 3;
  h.max_message_bytes = 64u * 1024 * 1024;
  h.max_parts = 1000;
  return h;
}

// A control frame from `instance`: a key request for `wanted` keys and/or `offers`.
inline std::string control_frame(const guid& instance, std::uint32_t wanted,
                                 std::vector<wire::offered_key> offers = {}) {
  wire::control_block block;
  block.instance = instance;
  block.wanted = wanted;
  block.offers = std::move(offers);
  block.about_sender = broker_hello();
  std::vector<byte> out;
  wire::encode_control(block, out);
  return string_of(out);
}

// A data frame naming `key_id` that opens for no one: a random enc and a random ciphertext. The
// broker cannot tell it from a real one (it never opens anything); it routes it by the key id.
inline std::string junk_data_frame(const guid& key_id) {
  public_key enc;
  randombytes_buf(enc.bytes.data(), enc.bytes.size());
  std::vector<byte> out;
  const auto layout = wire::encode_data(key_id, enc, std::nullopt, nullptr, 48, out);
  randombytes_buf(layout.ciphertext.data(), layout.ciphertext.size());
  return string_of(out);
}

// A plain ZeroMQ DEALER connected to the broker, with a routing id of our choosing, that speaks
// §11.7 by hand. As a client it connects to the frontend (the broker then addresses workers to it
// as [W, ...]); as a worker to the backend (clients come as [C, ...]).
class raw_endpoint {
 public:
  raw_endpoint(::zmq::context_t& ctx, const std::string& endpoint, const std::string& routing_id)
      : socket_(ctx, ::zmq::socket_type::dealer), id_(routing_id) {
    socket_.set(::zmq::sockopt::linger, 0);
    socket_.set(::zmq::sockopt::routing_id, routing_id);
    socket_.connect(endpoint);
  }

  const std::string& id() const { return id_; }
  const guid& instance() const { return instance_; }

  bool send(const std::vector<std::string>& frames) {
    std::vector<::zmq::const_buffer> bufs;
    for (const auto& f : frames) bufs.emplace_back(f.data(), f.size());
    return ::zmq::send_multipart(socket_, bufs, ::zmq::send_flags::dontwait).has_value();
  }

  // The next message that is not a presence on the direct path (each such presence is answered
  // at once with one of ours, as §11.7 requires of an endpoint behind the broker), or nothing
  // within `timeout`.
  std::optional<std::vector<std::string>> receive(std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      // A timeout of 0 (or one that ran out) still takes what has already arrived.
      const auto left = std::max<long long>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now())
                 .count());
      socket_.set(::zmq::sockopt::rcvtimeo, static_cast<int>(left));
      std::vector<::zmq::message_t> parts;
      if (!::zmq::recv_multipart(socket_, std::back_inserter(parts))) return std::nullopt;
      if (parts.size() == 1 && parts[0].size() == 0) {
        ++presences_;
        (void)send({std::string()});
        continue;
      }
      return strs(parts);
    }
  }

  // As a client: answers presences and collects the workers announced ([W, ""]) until `count`
  // are known; their routing ids, in the order announced.
  std::vector<std::string> await_workers(std::size_t count, std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (workers_.size() < count && clock_type::now() < deadline) {
      auto m = receive(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()));
      if (m) note(*m);
    }
    return workers_;
  }

  // Keeps what a message says about workers (presence and gone notices); true when it was one.
  bool note(const std::vector<std::string>& m) {
    if (m.size() != 2) return false;
    if (m[1].empty()) {
      if (std::find(workers_.begin(), workers_.end(), m[0]) == workers_.end()) {
        workers_.push_back(m[0]);
      }
      return true;
    }
    if (m[1][0] == '\0' && (m[1].size() - 1) % guid_size == 0) {
      gone_.push_back(m);
      return true;
    }
    return false;
  }

  std::size_t presences() const { return presences_; }
  const std::vector<std::vector<std::string>>& gone_notices() const { return gone_; }
  ::zmq::socket_t& socket() { return socket_; }

 private:
  ::zmq::socket_t socket_;
  std::string id_;
  guid instance_ = random_guid();
  std::size_t presences_ = 0;
  std::vector<std::string> workers_;
  std::vector<std::vector<std::string>> gone_;
};

// Decodes the cryptcom frame at the end of a message; nothing when it is not one.
inline std::optional<wire::decoded_frame> decode_last(const std::vector<std::string>& m) {
  if (m.empty()) return std::nullopt;
  auto d = wire::decode(bytes_of(m.back()), wire::decode_limits{});
  if (!d.ok()) return std::nullopt;
  return std::move(d).value();
}

}  // namespace cryptcom::zmq::test::lb
