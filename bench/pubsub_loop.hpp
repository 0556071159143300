// The PUB/SUB fan-out measurement, written once for any socket policy as the loops of
// zmq_loops.hpp are, and with their helpers: one PUB, N SUBs subscribed to everything, every
// message delivered to every subscriber.
//
// ZeroMQ's PUB drops a subscriber's copy when that subscriber's queue is at its high-water mark,
// and a subscriber misses whatever was published before its subscription reached the publisher
// (the slow joiner). A publisher that simply sends as fast as it can would count messages that
// were never delivered, so:
//  - the measurement starts only after every subscriber has received a hello (its subscription,
//    and for CURVE and cryptcom its handshake or keys, are in place);
//  - the publisher runs only so far ahead of its slowest subscriber (fan_out_pacing.hpp), so
//    that no copy is dropped anywhere: the figures are the rate at which every subscriber gets
//    every message;
//  - the rate is what the subscribers counted, not what was sent; after each window the
//    publisher waits until every subscriber has counted every message published, and a
//    subscriber short of one (or with one too many) fails the measurement.
// Every loop is bounded in time and in count.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "attacker/thread_cpu.hpp"
#include "fan_out_pacing.hpp"
#include "system.hpp"
#include "zmq_loops.hpp"

namespace cryptcom::bench {
namespace detail {

// What the publisher sends until every subscriber has joined; no payload is this short.
inline constexpr std::size_t k_hello_size = 1;
// The first size's warm-up (the ramp, see measure_fan_out) lasts until every subscriber has
// received this many messages and the stream has run this long without a stall.
inline constexpr std::uint64_t k_fan_out_ramp_messages = 64;
inline constexpr std::chrono::milliseconds k_fan_out_smooth{250};
// A subscriber's receiver waits this long in recv at a time (its rcvtimeo while it receives).
inline constexpr std::chrono::milliseconds k_receive_poll{50};

// Takes the hellos already there on every subscriber, without waiting, counting them in
// `hellos`; anything else fails the run (nothing else has been published yet).
template <class Socket>
void take_hellos(std::vector<Socket>& subs, std::vector<std::uint64_t>& hellos,
                 ::zmq::message_t& message) {
  for (std::size_t i = 0; i < subs.size(); ++i) {
    while (subs[i].recv(message, ::zmq::recv_flags::dontwait)) {
      if (message.more() || message.size() != k_hello_size) {
        fail("a subscriber received something else than a hello");
      }
      ++hellos[i];
    }
  }
}

// Publishes a hello every 2 ms per 10 subscribers until every subscriber has received one: from
// then on each subscriber's subscription (and its handshake, its keys) is in place at the
// publisher, and nothing published afterwards is lost to the slow joiner. (A cryptcom publisher
// seals each hello once per subscriber that has joined: hellos any faster would keep its I/O
// thread from the joining itself.)
template <class Socket>
void wait_for_subscribers(Socket& pub, std::vector<Socket>& subs, clock::time_point deadline) {
  std::vector<std::uint64_t> hellos(subs.size(), 0);
  std::vector<::zmq::pollitem_t> items;
  for (auto& sub : subs) items.push_back({sub.handle(), 0, ZMQ_POLLIN, 0});
  const unsigned char hello = 'h';
  const auto interval = std::chrono::milliseconds(2 * (1 + (subs.size() - 1) / 10));
  ::zmq::message_t message;
  while (std::find(hellos.begin(), hellos.end(), 0) != hellos.end()) {
    if (clock::now() > deadline) {
      const auto joined =
          std::count_if(hellos.begin(), hellos.end(), [](std::uint64_t n) { return n > 0; });
      fail("only " + std::to_string(joined) + " of " + std::to_string(subs.size()) +
           " subscribers received a hello before the deadline");
    }
    if (!pub.send(::zmq::const_buffer(&hello, k_hello_size), ::zmq::send_flags::dontwait))
      fail("the publisher refused a hello");
    for (const auto next = clock::now() + interval; clock::now() < next;) {
      ::zmq::poll(items, interval);
      take_hellos(subs, hellos, message);
    }
  }
}

// The receiver thread of subscriber `i` for one size, as the subscriber's own process would
// read: blocking in recv (k_receive_poll at a time, to see a stop request), counting each
// message of `size` bytes, ignoring hellos, failing on anything else.
template <class Socket>
void receive_deliveries(Socket& sub, std::size_t i, std::size_t size, fan_out_progress& progress,
                        std::stop_token stop, clock::time_point deadline) {
  ::zmq::message_t message;
  while (!stop.stop_requested()) {
    if (!sub.recv(message, ::zmq::recv_flags::none)) {
      if (clock::now() > deadline) fail("a subscriber's receiver ran past its deadline");
      continue;
    }
    if (message.more()) fail("a subscriber received a multipart message");
    if (message.size() == size) {
      progress.count(i);
    } else if (message.size() != k_hello_size) {
      fail("a subscriber received a message of the wrong size");
    }
  }
}

// The publisher's threads: the calling thread, those started since `before` (making the
// publisher's context and socket: libzmq's I/O and reaper threads, a cryptcom socket's I/O
// thread) and, when the policy names them, the publisher end's threads that exist beforehand
// (`policy.server_threads()`: a cryptcom key pool's).
template <class Policy>
std::vector<int> publisher_threads(const Policy& policy, const std::vector<int>& before) {
  std::vector<int> threads = hostile::new_threads(before, hostile::process_threads());
  threads.push_back(hostile::current_thread_id());
  if constexpr (requires { policy.server_threads(); }) {
    for (const int t : policy.server_threads()) threads.push_back(t);
  }
  return threads;
}

}  // namespace detail

// One PUB (binds, on the calling thread) and `subscribers` SUBs (connect, subscribed to
// everything, each read by a receiver thread of its own), each end on a context of its own as in
// measure_one_way. One sample per size of `sizes`, in that order, measured one after the other
// on the same sockets so that joining (connections, handshakes, keys) is paid once.
//
// The first size's warm-up is also the ramp: it lasts at least bounds.warmup, until every
// subscriber has received k_fan_out_ramp_messages, and until the stream has run
// k_fan_out_smooth without a stall (the slowest subscriber receiving nothing for
// k_fan_out_stall while the publisher waits), 2 * io_timeout at most. It is there for a stream
// that starts in steps: a cryptcom subscriber grants its publisher keys in proportion to what
// the publisher has used, and a request granted in part is asked again only after
// options::key_request_retry (1 s). While subscribers granted 4 keys to begin with (their
// pool_target, lowered by the transport, before engine::set_pool_target), the stream started in
// 1 s steps, about 3 s in all, and the flow between two steps could outlast k_fan_out_smooth,
// hence the count too (64 used: an allowance of 128). An allowance lasts for key_ttl, over every
// size.
// fan_out_sample::ramp_ms is how long after joining the last stall ended (0: none).
template <class Policy>
std::vector<fan_out_sample> measure_fan_out(Policy& policy, const std::vector<std::size_t>& sizes,
                                            int subscribers, const run_bounds& bounds) {
  using namespace detail;
  using socket_t = typename Policy::socket_type;
  if (sizes.empty() || subscribers < 1) fail("fan_out needs sizes and subscribers >= 1");
  if (*std::min_element(sizes.begin(), sizes.end()) <= k_hello_size) {
    fail("fan_out needs sizes of 2 bytes or more (1 byte is the hello)");
  }
  const auto sub_count = static_cast<std::size_t>(subscribers);
  const std::size_t largest = *std::max_element(sizes.begin(), sizes.end());
  // Joining, the ramp, and each size (warm-up, window and the wait for the last copies).
  const auto deadline =
      clock::now() + 4 * bounds.io_timeout +
      (bounds.warmup + bounds.window + 2 * bounds.io_timeout) * static_cast<int>(sizes.size());

  const auto threads_before = hostile::process_threads();
  ::zmq::context_t publisher_context(1);
  socket_t pub =
      policy.make_socket(publisher_context, ::zmq::socket_type::pub, endpoint_role::server);
  auto set_up = [&](socket_t& socket) {
    configure(socket, largest, bounds.io_timeout);
    socket.set(::zmq::sockopt::sndhwm, k_fan_out_hwm);
    socket.set(::zmq::sockopt::rcvhwm, k_fan_out_hwm);
  };
  set_up(pub);
  pub.bind(k_bind_endpoint);
  const std::vector<int> pub_threads = publisher_threads(policy, threads_before);
  const std::string endpoint = pub.get(::zmq::sockopt::last_endpoint);

  ::zmq::context_t subscriber_context(1);
  std::vector<socket_t> subs;
  subs.reserve(sub_count);
  for (std::size_t i = 0; i < sub_count; ++i) {
    subs.push_back(
        policy.make_socket(subscriber_context, ::zmq::socket_type::sub, endpoint_role::client));
    set_up(subs.back());
    subs.back().set(::zmq::sockopt::subscribe, "");
    subs.back().connect(endpoint);
  }
  wait_for_subscribers(pub, subs, std::min(deadline, clock::now() + 2 * bounds.io_timeout));
  for (auto& sub : subs)
    sub.set(::zmq::sockopt::rcvtimeo, static_cast<int>(k_receive_poll.count()));
  const auto joined_at = clock::now();

  std::vector<fan_out_sample> samples;
  for (const std::size_t size : sizes) {
    const auto payload = random_payload(size);
    // One receiver thread per subscriber, as each subscriber's own process would have.
    fan_out_progress progress(sub_count);
    std::vector<std::exception_ptr> receiver_errors(sub_count);
    std::vector<std::jthread> receivers;
    receivers.reserve(sub_count);
    for (std::size_t i = 0; i < sub_count; ++i) {
      receivers.emplace_back([&, i](std::stop_token stop) {
        try {
          receive_deliveries(subs[i], i, size, progress, stop, deadline);
        } catch (...) {
          receiver_errors[i] = std::current_exception();
          progress.end();
        }
      });
    }
    // A receiver's error, when there is one, is the cause of whatever else failed.
    auto stop_receivers = [&] {
      for (auto& r : receivers) r.request_stop();
      for (auto& r : receivers) r.join();
      for (const auto& e : receiver_errors) {
        if (e) std::rethrow_exception(e);
      }
    };

    // The clock is read after every 4 KiB of copies: often enough for a row of a hundred
    // messages a second, rarely enough not to matter at a million.
    paced_publisher<socket_t> publisher(pub, ::zmq::const_buffer(payload.data(), payload.size()),
                                        fan_out_max_in_flight(size, sub_count),
                                        4096 / (size * sub_count), progress, bounds.io_timeout,
                                        deadline);
    fan_out_sample sample;
    sample.size = size;
    try {
      const bool ramp = samples.empty();
      const auto warm_from = clock::now();
      auto warm = [&] {
        const auto now = publisher.now();
        if (now - warm_from < bounds.warmup) return false;
        if (!ramp || now - warm_from >= 2 * bounds.io_timeout) return true;
        return progress.slowest() >= k_fan_out_ramp_messages &&
               now - publisher.last_stall_end() >= k_fan_out_smooth;
      };
      while (!warm()) publisher.publish();
      if (ramp && publisher.last_stall_end() > warm_from) {
        sample.ramp_ms =
            std::chrono::duration<double, std::milli>(publisher.last_stall_end() - joined_at)
                .count();
      }

      const auto start = clock::now();
      const double cpu_start = process_cpu_us();
      const double publisher_cpu_start = hostile::cpu_seconds(pub_threads);
      const std::uint64_t published_start = publisher.published();
      const std::uint64_t delivered_start = progress.total();
      const std::uint64_t most = fan_out_window_messages(size, sub_count, bounds.max_messages);
      while (publisher.published() - published_start < most &&
             publisher.now() - start < bounds.window) {
        publisher.publish();
      }
      const auto end = clock::now();
      const double cpu_end = process_cpu_us();
      const double publisher_cpu_end = hostile::cpu_seconds(pub_threads);
      const std::uint64_t delivered = progress.total() - delivered_start;
      const auto published = static_cast<double>(publisher.published() - published_start);
      const double seconds = std::chrono::duration<double>(end - start).count();
      if (seconds <= 0 || delivered == 0 || published == 0) fail("empty measurement window");
      sample.msgs_per_s = static_cast<double>(delivered) / static_cast<double>(sub_count) / seconds;
      sample.bytes_per_s = sample.msgs_per_s * static_cast<double>(size);
      sample.cpu_us_per_msg = (cpu_end - cpu_start) / published;
      sample.publisher_cpu_us_per_msg = (publisher_cpu_end - publisher_cpu_start) * 1e6 / published;
      publisher.await_all();
    } catch (...) {
      stop_receivers();
      throw;
    }
    stop_receivers();
    // Every subscriber counted every message: none was dropped, none came twice.
    for (std::size_t i = 0; i < sub_count; ++i) {
      if (progress.count_of(i) != publisher.published()) {
        fail("subscriber " + std::to_string(i) + " received " +
             std::to_string(progress.count_of(i)) + " of " + std::to_string(publisher.published()) +
             " messages of " + std::to_string(size) + " bytes");
      }
    }
    samples.push_back(sample);
  }
  return samples;
}

}  // namespace cryptcom::bench
