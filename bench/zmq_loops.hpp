// The two measurements of the benchmark, written once for any cppzmq-like socket, so that plain
// libzmq, CURVE and cryptcom::zmq::socket run exactly the same loops.
//
// A socket policy says how to make a configured socket of a given type:
//
//   struct some_policy {
//     using socket_type = ::zmq::socket_t;  // or cryptcom::zmq::socket
//     socket_type make_socket(::zmq::context_t& ctx, ::zmq::socket_type type, endpoint_role role);
//   };
//
// and socket_type offers cppzmq's set(sockopt), bind, connect, get(sockopt::last_endpoint),
// send(const_buffer | message_t&&, send_flags) -> std::optional, recv(message_t&, recv_flags)
// -> std::optional and handle() for zmq_poll. The loops create every socket on the calling thread
// and hand it to at most one other thread (thread start is the memory barrier ZeroMQ asks for).
// Every loop is bounded in time and in count; a stall longer than bounds.io_timeout throws.
#pragma once

#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "memory_usage.hpp"
#include "summary.hpp"
#include "system.hpp"

namespace cryptcom::bench {

enum class endpoint_role { server, client };  // server binds, client connects

namespace detail {

using clock = std::chrono::steady_clock;

inline constexpr const char* k_bind_endpoint = "tcp://127.0.0.1:*";

// Queue depth in messages. ZeroMQ's default of 1000 would let 1 MiB messages queue a gigabyte
// per pipe; a byte budget keeps every size's queues in the same tens of megabytes.
inline int high_water_mark(std::size_t size) {
  constexpr std::size_t budget = std::size_t{32} << 20;
  return static_cast<int>(
      std::clamp<std::size_t>(budget / std::max<std::size_t>(size, 1), 16, 1000));
}

template <class Socket>
void configure(Socket& socket, std::size_t size, std::chrono::milliseconds io_timeout) {
  const int timeout_ms = static_cast<int>(io_timeout.count());
  socket.set(::zmq::sockopt::linger, 0);
  socket.set(::zmq::sockopt::sndhwm, high_water_mark(size));
  socket.set(::zmq::sockopt::rcvhwm, high_water_mark(size));
  socket.set(::zmq::sockopt::sndtimeo, timeout_ms);
  socket.set(::zmq::sockopt::rcvtimeo, timeout_ms);
}

inline std::vector<unsigned char> random_payload(std::size_t size) {
  std::vector<unsigned char> payload(size);
  randombytes_buf(payload.data(), payload.size());
  return payload;
}

[[noreturn]] inline void fail(const std::string& what) { throw std::runtime_error(what); }

// User + system CPU time of the whole process so far, in microseconds.
inline double process_cpu_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
  };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

// Receives one part or throws once io_timeout (the socket's rcvtimeo) has passed.
template <class Socket>
void recv_part(Socket& socket, ::zmq::message_t& part, const char* what) {
  if (!socket.recv(part, ::zmq::recv_flags::none))
    fail(std::string("timed out waiting for ") + what);
}

// One message from a ROUTER: [routing id][payload].
template <class Socket>
void recv_routed(Socket& router, ::zmq::message_t& id, ::zmq::message_t& payload) {
  recv_part(router, id, "a routing id");
  if (!id.more()) fail("ROUTER delivered a message without a routing id");
  recv_part(router, payload, "a payload");
  if (payload.more()) fail("unexpected multipart payload");
}

// The sender side of one_way: round-robin over the dealers without blocking on any one of them,
// waiting in zmq_poll when all are full. Ends on stop, after max_sends, or at the deadline.
template <class Socket>
void send_until_stopped(std::vector<Socket>& dealers, const std::vector<unsigned char>& payload,
                        std::stop_token stop, std::uint64_t max_sends, clock::time_point deadline) {
  std::vector<::zmq::pollitem_t> items;
  items.reserve(dealers.size());
  for (auto& dealer : dealers) items.push_back({dealer.handle(), 0, ZMQ_POLLOUT, 0});
  const ::zmq::const_buffer buffer(payload.data(), payload.size());
  std::uint64_t sent = 0;
  std::size_t next = 0;
  std::size_t refused_in_a_row = 0;
  std::uint64_t iterations = 0;
  while (sent < max_sends && !stop.stop_requested()) {
    if ((++iterations & 1023U) == 0 && clock::now() > deadline)
      fail("sender ran past its deadline");
    if (dealers[next].send(buffer, ::zmq::send_flags::dontwait)) {
      ++sent;
      refused_in_a_row = 0;
    } else if (++refused_in_a_row >= dealers.size()) {
      refused_in_a_row = 0;
      ::zmq::poll(items, std::chrono::milliseconds(50));
      if (clock::now() > deadline) fail("sender ran past its deadline");
    }
    if (++next == dealers.size()) next = 0;
  }
}

// Runs send_until_stopped over `senders` on a thread of its own while `receive` runs on this
// one, then stops the sender. When either fails, the sender's error is the one thrown: a
// receiver that starved is usually the symptom, the sender's failure the cause.
template <class Socket, class Receive>
void receive_while_sending(std::vector<Socket>& senders, const std::vector<unsigned char>& payload,
                           std::uint64_t max_sends, clock::time_point deadline, Receive&& receive) {
  std::exception_ptr sender_error;
  std::jthread sender([&](std::stop_token stop) {
    try {
      send_until_stopped(senders, payload, stop, max_sends, deadline);
    } catch (...) {
      sender_error = std::current_exception();
    }
  });
  auto stop_sender = [&] {
    sender.request_stop();
    sender.join();
    if (sender_error) std::rethrow_exception(sender_error);
  };
  try {
    receive();
  } catch (...) {
    stop_sender();
    throw;
  }
  stop_sender();
}

// The rate, bytes and CPU per message of `received` messages of `size` bytes in `seconds`.
inline throughput_sample throughput_of(std::uint64_t received, double seconds, std::size_t size,
                                       double cpu_us) {
  if (seconds <= 0 || received == 0) fail("empty measurement window");
  throughput_sample sample;
  sample.msgs_per_s = static_cast<double>(received) / seconds;
  sample.bytes_per_s = sample.msgs_per_s * static_cast<double>(size);
  sample.cpu_us_per_msg = cpu_us / static_cast<double>(received);
  return sample;
}

}  // namespace detail

template <class Policy>
throughput_sample measure_one_way(Policy& policy, std::size_t size, int peers,
                                  const run_bounds& bounds) {
  using namespace detail;
  using socket_t = typename Policy::socket_type;
  if (size == 0 || peers < 1) fail("one_way needs size > 0 and peers >= 1");
  const auto peer_count = static_cast<std::size_t>(peers);
  // Setup (connections, handshakes), the window and the drain each get their own allowance.
  const auto deadline = clock::now() + bounds.warmup + bounds.window + 4 * bounds.io_timeout;

  // One context, and so one I/O thread, per end, as two processes would have: with a shared one,
  // CURVE's encryption and decryption would queue on a single thread.
  ::zmq::context_t server_context(1);
  ::zmq::context_t client_context(1);
  socket_t router =
      policy.make_socket(server_context, ::zmq::socket_type::router, endpoint_role::server);
  configure(router, size, bounds.io_timeout);
  router.bind(k_bind_endpoint);
  const std::string endpoint = router.get(::zmq::sockopt::last_endpoint);

  release_free_memory();
  const auto rss_before = resident_bytes();
  std::vector<socket_t> dealers;
  dealers.reserve(peer_count);
  const unsigned char hello = 'h';
  for (std::size_t i = 0; i < peer_count; ++i) {
    dealers.push_back(
        policy.make_socket(client_context, ::zmq::socket_type::dealer, endpoint_role::client));
    configure(dealers.back(), size, bounds.io_timeout);
    dealers.back().connect(endpoint);
    if (!dealers.back().send(::zmq::const_buffer(&hello, 1), ::zmq::send_flags::none)) {
      fail("timed out sending hello");
    }
  }
  // One hello per peer proves every connection, and its security handshake, is up.
  ::zmq::message_t id;
  ::zmq::message_t message;
  for (std::size_t got = 0; got < peer_count; ++got) {
    recv_routed(router, id, message);
    if (message.size() != 1) fail("expected a hello, got a payload");
    if (clock::now() > deadline) fail("peers took too long to connect");
  }
  const auto rss_after = resident_bytes();

  const auto payload = random_payload(size);
  // The receiver times max_messages after the first one (and the warm-up); the sender never
  // needs more. With a warm-up the count is not known: the stop request ends the sender.
  const std::uint64_t max_sends = bounds.warmup.count() > 0 ? UINT64_MAX : bounds.max_messages + 1;
  // Receiver, on this thread. The clock starts at the first payload so that connection setup
  // and the sender's start-up are outside the window.
  std::uint64_t received = 0;
  auto start = clock::now();
  double cpu_start = 0;
  double cpu_end = 0;
  auto now = start;
  receive_while_sending(dealers, payload, max_sends, deadline, [&] {
    recv_routed(router, id, message);
    if (message.size() != size) fail("payload of the wrong size");
    for (const auto warm_until = clock::now() + bounds.warmup; clock::now() < warm_until;) {
      recv_routed(router, id, message);
      if (message.size() != size) fail("payload of the wrong size");
    }
    start = clock::now();
    cpu_start = process_cpu_us();
    auto next_progress = start + bounds.progress_every;
    // Reading the clock for every 64-byte message costs a few percent; every 64 KiB is enough.
    const std::uint64_t clock_every = std::max<std::uint64_t>(1, 65536 / size);
    while (received < bounds.max_messages) {
      recv_routed(router, id, message);
      if (message.size() != size) fail("payload of the wrong size");
      ++received;
      if (received % clock_every == 0) {
        now = clock::now();
        if (bounds.on_progress && now >= next_progress) {
          bounds.on_progress(std::chrono::duration<double>(now - start).count(), received);
          next_progress = now + bounds.progress_every;
        }
        if (now - start >= bounds.window) break;
        if (now > deadline) fail("receiver ran past its deadline");
      }
    }
    now = clock::now();
    cpu_end = process_cpu_us();
  });

  throughput_sample sample = throughput_of(
      received, std::chrono::duration<double>(now - start).count(), size, cpu_end - cpu_start);
  if (rss_before && rss_after) {
    sample.rss_per_peer_bytes =
        static_cast<double>(*rss_after - *rss_before) / static_cast<double>(peer_count);
  }
  return sample;
}

template <class Policy>
latency_sample measure_round_trip(Policy& policy, std::size_t size, const run_bounds& bounds) {
  using namespace detail;
  using socket_t = typename Policy::socket_type;
  if (size == 0) fail("round_trip needs size > 0");
  constexpr int warm_up_round_trips = 10;
  const auto deadline = clock::now() + bounds.window + 4 * bounds.io_timeout;

  ::zmq::context_t server_context(1);  // one per end, as in measure_one_way
  ::zmq::context_t client_context(1);
  socket_t rep = policy.make_socket(server_context, ::zmq::socket_type::rep, endpoint_role::server);
  configure(rep, size, bounds.io_timeout);
  // Short, so that the echo loop notices a stop request quickly.
  rep.set(::zmq::sockopt::rcvtimeo, 100);
  rep.bind(k_bind_endpoint);
  socket_t req = policy.make_socket(client_context, ::zmq::socket_type::req, endpoint_role::client);
  configure(req, size, bounds.io_timeout);
  req.connect(rep.get(::zmq::sockopt::last_endpoint));

  std::exception_ptr server_error;
  // Echoes every request; an empty one is the last.
  std::jthread server([&](std::stop_token stop) {
    try {
      ::zmq::message_t request;
      while (!stop.stop_requested() && clock::now() < deadline) {
        if (!rep.recv(request, ::zmq::recv_flags::none)) continue;
        const bool last = request.size() == 0;
        if (!rep.send(std::move(request), ::zmq::send_flags::none)) fail("echo timed out");
        if (last) return;
      }
    } catch (...) {
      server_error = std::current_exception();
    }
  });

  const auto payload = random_payload(size);
  const ::zmq::const_buffer buffer(payload.data(), payload.size());
  ::zmq::message_t reply;
  auto round_trip_once = [&] {
    if (!req.send(buffer, ::zmq::send_flags::none)) fail("timed out sending a request");
    recv_part(req, reply, "a reply");
    if (reply.size() != size) fail("reply of the wrong size");
  };
  for (int i = 0; i < warm_up_round_trips; ++i) round_trip_once();

  std::vector<double> round_trips_us;
  round_trips_us.reserve(
      static_cast<std::size_t>(std::min<std::uint64_t>(bounds.max_messages, 1U << 20)));
  const auto start = clock::now();
  while (round_trips_us.size() < bounds.max_messages) {
    const auto before = clock::now();
    round_trip_once();
    const auto after = clock::now();
    round_trips_us.push_back(std::chrono::duration<double, std::micro>(after - before).count());
    if (after - start >= bounds.window) break;
    if (after > deadline) fail("client ran past its deadline");
  }
  if (!req.send(::zmq::const_buffer(), ::zmq::send_flags::none)) fail("timed out sending the end");
  recv_part(req, reply, "the end");
  server.join();
  if (server_error) std::rethrow_exception(server_error);

  latency_sample sample;
  sample.p50_us = percentile(round_trips_us, 50);
  sample.p99_us = percentile(round_trips_us, 99);
  return sample;
}

}  // namespace cryptcom::bench
