// A "system" is one way of moving messages between ZeroMQ endpoints: plain libzmq, libzmq with
// CURVE, and cryptcom's sockets. The benchmark compares systems by calling the same measurements
// on each; a system takes part in those its has_*() name (cryptcom-push is the one-way row,
// cryptcom-pull the request/reply row, the *-pipeline systems the PUSH/PULL rows, the *-broker
// systems the load-balancing broker rows, the *-pubsub systems the PUB/SUB rows).
//
// Each call builds its own context, sockets and threads over tcp on 127.0.0.1 and tears them
// down before it returns, so the runner can interleave systems freely and one failed run leaves
// nothing behind. Not thread-safe: the runner makes one call at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cryptcom::bench {

// Every loop of a measurement is bounded by these, in time and in count.
struct run_bounds {
  run_bounds() = default;
  run_bounds(std::chrono::milliseconds window_, std::uint64_t max_messages_,
             std::chrono::milliseconds io_timeout_)
      : window(window_), max_messages(max_messages_), io_timeout(io_timeout_) {}

  std::chrono::milliseconds window{1000};  // length of the timed phase
  // One-way only: messages received for this long before the timed phase starts, so that
  // start-up (TCP slow start, a cryptcom sender's key pool growing to its stream's rate) is not
  // timed. Default: none (the runner uses a quarter of the window).
  std::chrono::milliseconds warmup{0};
  std::uint64_t max_messages = 1;              // the timed phase also ends after this many messages
  std::chrono::milliseconds io_timeout{5000};  // one send/recv waiting longer fails the run
  // Called by the one-way receiver about every `progress_every` of the timed phase with the
  // seconds elapsed and the messages received so far (a soak run samples memory with it).
  // Default: none.
  std::function<void(double seconds, std::uint64_t messages)> on_progress;
  std::chrono::milliseconds progress_every{1000};
};

struct throughput_sample {
  double msgs_per_s = 0;
  double bytes_per_s = 0;
  // Growth of VmRSS from just before the peers were created to when all of them had delivered a
  // first message, divided by the number of peers. Both ends live in this process, so this is
  // the cost of a connection on both sides. Can be slightly negative when the allocator reuses
  // memory.
  double rss_per_peer_bytes = 0;
  // CPU time (user + system, every thread of this process: both ends, their I/O and key
  // generation threads) over the timed window, per message received. Unlike msgs/s it hardly
  // depends on what else the machine runs.
  double cpu_us_per_msg = 0;
  // pipeline() with several workers: (most - fewest messages a worker got) / mean per worker, over
  // the timed window; 0 is an even spread. Not set by one_way().
  double worker_spread = 0;
};

struct latency_sample {
  double p50_us = 0;
  double p99_us = 0;
};

// How many clients and workers a broker measurement has.
struct broker_shape {
  int clients = 20;
  int workers = 5;
};

// One size of a broker measurement.
struct broker_sample {
  std::size_t size = 0;
  // From the clients' first requests until every client has had a reply and every worker has
  // served a request (connections, key requests): paid once per measurement, by its first size.
  double startup_ms = 0;
  double requests_per_s = 0;      // replies received by all clients together, over the window
  double cpu_us_per_request = 0;  // process CPU time (every thread) over the window, per request
  double p50_us = 0;  // round trip of one request, send to reply, over every one of the window
  double p99_us = 0;
  // (most - fewest requests a worker served) / mean per worker, over the window.
  double worker_spread = 0;
};

// One size of a PUB/SUB fan-out measurement.
struct fan_out_sample {
  std::size_t size = 0;
  // Messages each subscriber received per second over the window (what all of them counted,
  // divided by their number); every subscriber got every message published.
  double msgs_per_s = 0;
  double bytes_per_s = 0;
  // CPU time over the window per message published: every thread of this process (publisher,
  // subscribers, their I/O and key generation threads), and the publisher's threads alone.
  double cpu_us_per_msg = 0;
  double publisher_cpu_us_per_msg = 0;
  // First size only: from every subscriber having joined until the publisher's last long wait
  // for its slowest subscriber ended, the start-up of the stream (0: there was none).
  double ramp_ms = 0;
};

class messaging_system {
 public:
  virtual ~messaging_system() = default;

  // As written in the report and the JSON "system" field, e.g. "curve" or "cryptcom-push".
  [[nodiscard]] virtual std::string name() const = 0;

  // Each measurement throws std::runtime_error on failure, and std::logic_error when the system
  // does not take part in it (its has_*() is false: the defaults).

  // One-way throughput: `peers` DEALER sockets on a sender thread, each connected to one ROUTER
  // on a receiver thread, every message `size` bytes.
  [[nodiscard]] virtual throughput_sample one_way(std::size_t size, int peers,
                                                  const run_bounds& bounds);

  // Round trip: a REQ sends `size` bytes, a REP on another thread echoes them back; p50 and p99
  // over every round trip of the timed phase.
  [[nodiscard]] virtual latency_sample round_trip(std::size_t size, const run_bounds& bounds);

  // Load balancing one-way (the ZeroMQ guide's pipeline): one PUSH on a sender thread, `workers`
  // PULL sockets connected to it, read by one receiver thread; msgs/s summed over the PULLs.
  [[nodiscard]] virtual throughput_sample pipeline(std::size_t size, int workers,
                                                   const run_bounds& bounds);

  // Load balancing request/reply: `shape.clients` REQ clients -> a broker -> `shape.workers`
  // DEALER workers that echo each request; every client keeps one request in flight. One sample
  // per size of `sizes`, measured one after the other on the same clients, broker and workers,
  // so that their start-up is paid once.
  [[nodiscard]] virtual std::vector<broker_sample> broker(const std::vector<std::size_t>& sizes,
                                                          const broker_shape& shape,
                                                          const run_bounds& bounds);

  // PUB/SUB fan-out: one PUB, `subscribers` SUBs subscribed to everything; one sample per size
  // of `sizes`, measured one after the other on the same sockets so that joining is paid once.
  [[nodiscard]] virtual std::vector<fan_out_sample> fan_out(const std::vector<std::size_t>& sizes,
                                                            int subscribers,
                                                            const run_bounds& bounds);

  // Which measurements this system is run for. Default: none.
  [[nodiscard]] virtual bool has_one_way() const { return false; }
  [[nodiscard]] virtual bool has_round_trip() const { return false; }
  [[nodiscard]] virtual bool has_pipeline() const { return false; }
  [[nodiscard]] virtual bool has_broker() const { return false; }
  [[nodiscard]] virtual bool has_fan_out() const { return false; }
};

using system_list = std::vector<std::unique_ptr<messaging_system>>;

// "plaintext" and, when this libzmq was built with it, "curve"; "plaintext-pipeline" and
// "curve-pipeline" (PUSH/PULL); "plaintext-broker" (REQ clients -> zmq_proxy of a ROUTER
// frontend and a DEALER backend -> DEALER workers); "plaintext-pubsub" and "curve-pubsub"
// (PUB/SUB fan-out).
system_list make_zmq_systems();

// How cryptcom's sockets are set up for the run (the rest are the library's defaults).
struct cryptcom_settings {
  std::size_t keygen_threads = 1;  // key_pool_options::threads of each end's key pool
  bool aes_256_gcm = false;        // options::cipher; ChaCha20-Poly1305 otherwise
};

// "cryptcom-push" (one-way, DEALER to ROUTER) and "cryptcom-pull" (REQ/REP, the request sealed
// to a key the REP offered, the reply to a key the request carried), "cryptcom-auth-push"
// (cryptcom-push in authenticated mode), "cryptcom-pipeline" (PUSH/PULL), "cryptcom-broker"
// (REQ clients -> cryptcom::zmq::broker -> DEALER workers, through_broker) and "cryptcom-pubsub"
// (PUB/SUB fan-out, one sealed copy per subscriber, docs/PROTOCOL.md §11.8). Throws
// std::runtime_error when the settings cannot be used here (AES-256-GCM without hardware
// support).
system_list make_cryptcom_systems(const cryptcom_settings& settings);

}  // namespace cryptcom::bench
