// The PUSH/PULL measurement (the ZeroMQ guide's pipeline: a ventilator's PUSH spreading a stream
// over workers' PULLs), written once for any socket policy as the loops of zmq_loops.hpp are, and
// with their helpers. How the stream is spread is the PUSH's own doing: libzmq round-robins over
// the PULLs whose pipes have room, cryptcom over the PULLs whose one-time keys it holds
// (docs/PROTOCOL.md §11.5). Every loop is bounded in time and in count.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "system.hpp"
#include "zmq_loops.hpp"

namespace cryptcom::bench {
namespace detail {

// What each PULL has received: payloads (`size` bytes) and hellos (`size` + 1 bytes).
struct pull_counts {
  explicit pull_counts(std::size_t pulls) : payloads(pulls, 0), hellos(pulls, 0) {}
  std::vector<std::uint64_t> payloads;
  std::vector<std::uint64_t> hellos;
};

// Takes what is already there on every PULL, at most `batch` messages from each, without
// waiting; returns how many messages that was. A message of any other size fails the run.
template <class Socket>
std::uint64_t drain_pulls(std::vector<Socket>& pulls, std::size_t size, pull_counts& counts,
                          ::zmq::message_t& message) {
  constexpr int batch = 256;
  std::uint64_t taken = 0;
  for (std::size_t i = 0; i < pulls.size(); ++i) {
    for (int n = 0; n < batch && pulls[i].recv(message, ::zmq::recv_flags::dontwait); ++n) {
      if (message.more()) fail("unexpected multipart message on a PULL");
      if (message.size() == size) {
        ++counts.payloads[i];
      } else if (message.size() == size + 1) {
        ++counts.hellos[i];
      } else {
        fail("PULL received a message of the wrong size");
      }
      ++taken;
    }
  }
  return taken;
}

// (most - fewest) / mean of the per-worker counts; 0 for an even spread or a single worker.
inline double spread_of(const std::vector<std::uint64_t>& per_worker) {
  if (per_worker.size() < 2) return 0;
  const auto [low, high] = std::minmax_element(per_worker.begin(), per_worker.end());
  const double total =
      static_cast<double>(std::accumulate(per_worker.begin(), per_worker.end(), std::uint64_t{0}));
  if (total <= 0) return 0;
  return static_cast<double>(*high - *low) / (total / static_cast<double>(per_worker.size()));
}

}  // namespace detail

// One PUSH (binds) on a sender thread, `workers` PULLs (connect) read by the calling thread, as
// measure_one_way's DEALERs and ROUTER are: one context per end, the same high-water marks, the
// same sender, the clock started after a warm-up. The rate is the sum over the PULLs.
template <class Policy>
throughput_sample measure_pipeline(Policy& policy, std::size_t size, int workers,
                                   const run_bounds& bounds) {
  using namespace detail;
  using socket_t = typename Policy::socket_type;
  if (size == 0 || workers < 1) fail("pipeline needs size > 0 and workers >= 1");
  const auto worker_count = static_cast<std::size_t>(workers);
  const auto deadline = clock::now() + bounds.warmup + bounds.window + 4 * bounds.io_timeout;

  ::zmq::context_t sender_context(1);
  ::zmq::context_t worker_context(1);
  std::vector<socket_t> push;  // one; a vector for send_until_stopped
  push.push_back(
      policy.make_socket(sender_context, ::zmq::socket_type::push, endpoint_role::server));
  configure(push.front(), size, bounds.io_timeout);
  push.front().bind(k_bind_endpoint);
  const std::string endpoint = push.front().get(::zmq::sockopt::last_endpoint);
  std::vector<socket_t> pulls;
  pulls.reserve(worker_count);
  std::vector<::zmq::pollitem_t> items;
  for (std::size_t i = 0; i < worker_count; ++i) {
    pulls.push_back(
        policy.make_socket(worker_context, ::zmq::socket_type::pull, endpoint_role::client));
    configure(pulls.back(), size, bounds.io_timeout);
    pulls.back().connect(endpoint);
  }
  for (auto& pull : pulls) items.push_back({pull.handle(), 0, ZMQ_POLLIN, 0});

  // As the guide's ventilator waits for its workers: hellos until every PULL has had one, so
  // that the first PULL to connect does not take the whole start of the stream (for cryptcom:
  // until the PUSH holds keys of every PULL). A hello is one byte longer than a payload.
  pull_counts counts(worker_count);
  ::zmq::message_t message;
  {
    const std::vector<unsigned char> hello(size + 1, 'h');
    const ::zmq::const_buffer hello_buffer(hello.data(), hello.size());
    auto served = [&] {
      return std::all_of(counts.hellos.begin(), counts.hellos.end(),
                         [](std::uint64_t n) { return n > 0; });
    };
    while (!served()) {
      if (clock::now() > deadline) fail("not every PULL received a hello");
      (void)push.front().send(hello_buffer, ::zmq::send_flags::dontwait);  // full: try again
      ::zmq::poll(items, std::chrono::milliseconds(1));
      drain_pulls(pulls, size, counts, message);
    }
  }

  const auto payload = random_payload(size);
  const std::uint64_t max_sends = bounds.warmup.count() > 0 ? UINT64_MAX : bounds.max_messages + 1;
  auto payloads = [&] {
    return std::accumulate(counts.payloads.begin(), counts.payloads.end(), std::uint64_t{0});
  };
  // Takes what is there, else waits in zmq_poll; fails when nothing came for io_timeout.
  auto last_arrival = clock::now();
  auto receive_some = [&] {
    if (drain_pulls(pulls, size, counts, message) > 0) {
      last_arrival = clock::now();
      return;
    }
    ::zmq::poll(items, std::chrono::milliseconds(50));
    const auto now = clock::now();
    if (now - last_arrival > bounds.io_timeout) fail("timed out waiting for a payload");
    if (now > deadline) fail("receiver ran past its deadline");
  };

  std::uint64_t received = 0;
  std::vector<std::uint64_t> per_worker(worker_count, 0);
  auto start = clock::now();
  auto now = start;
  double cpu_start = 0;
  double cpu_end = 0;
  receive_while_sending(push, payload, max_sends, deadline, [&] {
    while (payloads() == 0) receive_some();
    for (const auto warm_until = clock::now() + bounds.warmup; clock::now() < warm_until;) {
      receive_some();
    }
    const auto before = counts.payloads;
    const auto received_before = payloads();
    start = clock::now();
    cpu_start = process_cpu_us();
    while (received < bounds.max_messages) {
      receive_some();
      received = payloads() - received_before;
      now = clock::now();
      // At least one message, as the one-way receiver's blocking recv waits for one.
      if (now - start >= bounds.window && received > 0) break;
    }
    now = clock::now();
    cpu_end = process_cpu_us();
    for (std::size_t i = 0; i < worker_count; ++i) per_worker[i] = counts.payloads[i] - before[i];
  });

  throughput_sample sample = throughput_of(
      received, std::chrono::duration<double>(now - start).count(), size, cpu_end - cpu_start);
  sample.worker_spread = spread_of(per_worker);
  return sample;
}

}  // namespace cryptcom::bench
