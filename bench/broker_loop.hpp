// The broker measurement (the ZeroMQ guide's load-balancing broker: clients -> broker ->
// workers, request/reply), written once for any broker policy as the loops of zmq_loops.hpp are
// for socket policies, and with their helpers:
//
//   struct some_broker_policy {
//     using socket_type = ...;  // as in zmq_loops.hpp
//     // bind_frontend(endpoint), bind_backend(endpoint), frontend_endpoint(),
//     // backend_endpoint(), run() until stop(), and stop() from another thread
//     using broker_type = ...;
//     // endpoint_role::client: a REQ client; endpoint_role::server: a DEALER worker
//     socket_type make_socket(::zmq::context_t& ctx, ::zmq::socket_type type, endpoint_role role);
//     std::unique_ptr<broker_type> make_broker(::zmq::context_t& ctx);
//   };
//
// Every loop is bounded in time and in count; a stall longer than bounds.io_timeout throws.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "pipeline_loop.hpp"
#include "summary.hpp"
#include "system.hpp"
#include "zmq_loops.hpp"

namespace cryptcom::bench {
namespace detail {

// A broker's run() on a thread of its own. finish() stops it, joins it and rethrows what run()
// threw; the destructor stops and joins it (a run that failed on another path).
template <class Broker>
class broker_thread {
 public:
  explicit broker_thread(Broker& broker)
      : broker_(broker), thread_([this] {
          try {
            broker_.run();
          } catch (...) {
            error_ = std::current_exception();
          }
        }) {}
  ~broker_thread() { stop(); }
  broker_thread(const broker_thread&) = delete;
  broker_thread& operator=(const broker_thread&) = delete;

  void finish() {
    stop();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void stop() noexcept {
    if (!thread_.joinable()) return;
    broker_.stop();
    thread_.join();
  }

  Broker& broker_;
  std::exception_ptr error_;
  std::thread thread_;
};

// A worker: echoes every request, all its parts as they came (the client's routing id the broker
// put in front, the REQ's empty delimiter, the body), until stopped; counts what it served. The
// socket's short rcvtimeo is how often it looks at the stop request.
template <class Socket>
void echo_requests(Socket& worker, const std::vector<std::size_t>& sizes,
                   std::atomic<std::uint64_t>& served, std::stop_token stop,
                   clock::time_point deadline) {
  std::vector<::zmq::message_t> parts;
  while (!stop.stop_requested()) {
    if (clock::now() > deadline) fail("a worker ran past its deadline");
    parts.clear();
    parts.emplace_back();
    if (!worker.recv(parts.back(), ::zmq::recv_flags::none)) continue;
    while (parts.back().more()) {
      parts.emplace_back();
      recv_part(worker, parts.back(), "the rest of a request");
    }
    if (parts.size() < 2) fail("a worker got a request without the client's routing id");
    if (std::find(sizes.begin(), sizes.end(), parts.back().size()) == sizes.end()) {
      fail("a worker got a request of the wrong size");
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto flags =
          i + 1 < parts.size() ? ::zmq::send_flags::sndmore : ::zmq::send_flags::none;
      if (!worker.send(std::move(parts[i]), flags)) fail("a worker's reply timed out");
    }
    served.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace detail

// `shape.clients` REQ clients (connect to the broker's frontend), driven by the calling thread
// through zmq_poll, each with one request in flight; `shape.workers` DEALER workers (connect to
// its backend), each on a thread of its own, echoing. One context per side (clients, broker,
// workers), as three processes would have. Start-up lasts until every client has had a reply
// and every worker has served a request. Then, for each size in turn, a warm-up and the window;
// a reply is counted in a size's window only if its request had that size. A round trip is timed
// from the send of a request to the zmq_poll that found its reply.
template <class Policy>
std::vector<broker_sample> measure_broker(Policy& policy, const std::vector<std::size_t>& sizes,
                                          const broker_shape& shape, const run_bounds& bounds) {
  using namespace detail;
  using socket_t = typename Policy::socket_type;
  if (sizes.empty() || std::find(sizes.begin(), sizes.end(), 0) != sizes.end() ||
      shape.clients < 1 || shape.workers < 1) {
    fail("broker needs sizes > 0, clients >= 1 and workers >= 1");
  }
  const auto client_count = static_cast<std::size_t>(shape.clients);
  const auto worker_count = static_cast<std::size_t>(shape.workers);
  const auto largest = *std::max_element(sizes.begin(), sizes.end());
  const auto per_size = bounds.warmup + bounds.window;
  const auto deadline =
      clock::now() + static_cast<int>(sizes.size()) * per_size + 4 * bounds.io_timeout;

  ::zmq::context_t client_context(1);
  ::zmq::context_t broker_context(1);
  ::zmq::context_t worker_context(1);
  const auto broker = policy.make_broker(broker_context);
  broker->bind_frontend(k_bind_endpoint);
  broker->bind_backend(k_bind_endpoint);
  broker_thread<typename Policy::broker_type> routing(*broker);

  std::vector<socket_t> workers;
  workers.reserve(worker_count);
  for (std::size_t i = 0; i < worker_count; ++i) {
    workers.push_back(
        policy.make_socket(worker_context, ::zmq::socket_type::dealer, endpoint_role::server));
    configure(workers.back(), largest, bounds.io_timeout);
    workers.back().set(::zmq::sockopt::rcvtimeo, 100);
    workers.back().connect(broker->backend_endpoint());
  }
  std::vector<std::atomic<std::uint64_t>> served(worker_count);
  std::vector<std::exception_ptr> worker_errors(worker_count);
  std::vector<std::jthread> worker_threads;
  for (std::size_t i = 0; i < worker_count; ++i) {
    worker_threads.emplace_back([&, i](std::stop_token stop) {
      try {
        echo_requests(workers[i], sizes, served[i], stop, deadline);
      } catch (...) {
        worker_errors[i] = std::current_exception();
      }
    });
  }
  // Stops the workers and throws the first one's error, if any: clients that starved are
  // usually the symptom, a worker's failure the cause.
  auto stop_workers = [&] {
    for (auto& thread : worker_threads) thread.request_stop();
    for (auto& thread : worker_threads) thread.join();
    for (const auto& error : worker_errors) {
      if (error) std::rethrow_exception(error);
    }
  };

  std::vector<socket_t> clients;
  clients.reserve(client_count);
  std::vector<::zmq::pollitem_t> items;
  for (std::size_t c = 0; c < client_count; ++c) {
    clients.push_back(
        policy.make_socket(client_context, ::zmq::socket_type::req, endpoint_role::client));
    configure(clients.back(), largest, bounds.io_timeout);
    clients.back().connect(broker->frontend_endpoint());
  }
  for (auto& client : clients) items.push_back({client.handle(), 0, ZMQ_POLLIN, 0});

  const auto payload = random_payload(largest);
  std::size_t size = sizes.front();  // of the requests sent now
  std::vector<std::size_t> sent_size(client_count, 0);
  std::vector<clock::time_point> sent_at(client_count);
  std::vector<bool> answered(client_count, false);
  std::uint64_t replies = 0;  // to requests of `size`
  std::vector<double> round_trips_us;
  auto send_request = [&](std::size_t c) {
    if (!clients[c].send(::zmq::const_buffer(payload.data(), size), ::zmq::send_flags::none)) {
      fail("timed out sending a request");
    }
    sent_at[c] = clock::now();
    sent_size[c] = size;
  };
  // Takes every reply there is (waiting in zmq_poll for the first) and sends each of those
  // clients its next request.
  ::zmq::message_t reply;
  auto last_reply = clock::now();
  auto serve_replies = [&](bool timed) {
    ::zmq::poll(items, std::chrono::milliseconds(50));
    const auto now = clock::now();
    bool any = false;
    for (std::size_t c = 0; c < client_count; ++c) {
      if ((items[c].revents & ZMQ_POLLIN) == 0) continue;
      if (!clients[c].recv(reply, ::zmq::recv_flags::dontwait)) continue;
      if (reply.more() || reply.size() != sent_size[c]) fail("a reply of the wrong size");
      any = true;
      answered[c] = true;
      if (sent_size[c] == size) {
        ++replies;
        if (timed) {
          round_trips_us.push_back(
              std::chrono::duration<double, std::micro>(now - sent_at[c]).count());
        }
      }
      send_request(c);
    }
    if (any) {
      last_reply = now;
    } else if (now - last_reply > bounds.io_timeout) {
      fail("no reply to any client for the io timeout");
    }
    if (now > deadline) fail("clients ran past their deadline");
  };
  auto all_started = [&] {
    for (const bool a : answered) {
      if (!a) return false;
    }
    for (const auto& n : served) {
      if (n.load(std::memory_order_relaxed) == 0) return false;
    }
    return true;
  };
  auto served_now = [&] {
    std::vector<std::uint64_t> counts;
    for (const auto& n : served) counts.push_back(n.load(std::memory_order_relaxed));
    return counts;
  };

  std::vector<broker_sample> samples;
  try {
    const auto first = clock::now();
    for (std::size_t c = 0; c < client_count; ++c) send_request(c);
    while (!all_started()) serve_replies(false);
    const double startup_ms =
        std::chrono::duration<double, std::milli>(clock::now() - first).count();
    for (const auto next_size : sizes) {
      size = next_size;
      for (const auto warm_until = clock::now() + bounds.warmup; clock::now() < warm_until;) {
        serve_replies(false);
      }
      const auto served_before = served_now();
      const auto replies_before = replies;
      round_trips_us.clear();
      std::uint64_t requests = 0;
      const auto start = clock::now();
      const double cpu_start = process_cpu_us();
      // At least one reply: a loaded machine may leave a short window without any.
      while (requests < bounds.max_messages &&
             (clock::now() - start < bounds.window || requests == 0)) {
        serve_replies(true);
        requests = replies - replies_before;
      }
      const double seconds = std::chrono::duration<double>(clock::now() - start).count();
      const double cpu_us = process_cpu_us() - cpu_start;
      const auto served_after = served_now();
      if (seconds <= 0 || requests == 0) fail("empty measurement window");
      std::vector<std::uint64_t> per_worker(worker_count);
      for (std::size_t i = 0; i < worker_count; ++i) {
        per_worker[i] = served_after[i] - served_before[i];
      }
      broker_sample sample;
      sample.size = size;
      sample.startup_ms = startup_ms;
      sample.requests_per_s = static_cast<double>(requests) / seconds;
      sample.cpu_us_per_request = cpu_us / static_cast<double>(requests);
      sample.p50_us = percentile(round_trips_us, 50);
      sample.p99_us = percentile(round_trips_us, 99);
      sample.worker_spread = spread_of(per_worker);
      samples.push_back(sample);
    }
  } catch (...) {
    stop_workers();
    throw;
  }
  stop_workers();
  routing.finish();
  return samples;
}

}  // namespace cryptcom::bench
