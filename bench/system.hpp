// A "system" is one way of moving messages between two ZeroMQ endpoints: plain libzmq, libzmq
// with CURVE, and (once the transport exists) cryptcom's sockets. The benchmark compares systems
// by calling the same two measurements on each.
//
// Each call builds its own context, sockets and threads over tcp on 127.0.0.1 and tears them
// down before it returns, so the runner can interleave systems freely and one failed run leaves
// nothing behind. Not thread-safe: the runner makes one call at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cryptcom::bench {

// Every loop of a measurement is bounded by these, in time and in count.
struct run_bounds {
  std::chrono::milliseconds window{1000};      // length of the timed phase
  std::uint64_t max_messages = 1;              // the timed phase also ends after this many messages
  std::chrono::milliseconds io_timeout{5000};  // one send/recv waiting longer fails the run
};

struct throughput_sample {
  double msgs_per_s = 0;
  double bytes_per_s = 0;
  // Growth of VmRSS from just before the peers were created to when all of them had delivered a
  // first message, divided by the number of peers. Both ends live in this process, so this is
  // the cost of a connection on both sides. Can be slightly negative when the allocator reuses
  // memory.
  double rss_per_peer_bytes = 0;
};

struct latency_sample {
  double p50_us = 0;
  double p99_us = 0;
};

class messaging_system {
 public:
  virtual ~messaging_system() = default;

  // As written in the report and the JSON "system" field, e.g. "curve" or "cryptcom-push".
  [[nodiscard]] virtual std::string name() const = 0;

  // One-way throughput: `peers` DEALER sockets on a sender thread, each connected to one ROUTER
  // on a receiver thread, every message `size` bytes. Throws std::runtime_error on failure.
  [[nodiscard]] virtual throughput_sample one_way(std::size_t size, int peers,
                                                  const run_bounds& bounds) = 0;

  // Round trip: a REQ sends `size` bytes, a REP on another thread echoes them back; p50 and p99
  // over every round trip of the timed phase. Throws std::runtime_error on failure.
  [[nodiscard]] virtual latency_sample round_trip(std::size_t size, const run_bounds& bounds) = 0;
};

using system_list = std::vector<std::unique_ptr<messaging_system>>;

// "plaintext" and, when this libzmq was built with it, "curve".
system_list make_zmq_systems();

// "cryptcom-push" and "cryptcom-pull" once cryptcom::zmq::socket exists; empty before that.
system_list make_cryptcom_systems();

}  // namespace cryptcom::bench
