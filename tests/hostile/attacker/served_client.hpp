// served_client: the well-behaved client whose service an attack must not take away: a cryptcom
// DEALER connected to the target that sends a message and waits for its echo, timing each round
// trip. Every message carries a sequence number, so an echo that comes after its round trip was
// given up is recognised and skipped instead of being taken for the next one's.
// Thread-safety: none (one thread drives it, as any ZeroMQ socket).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "cryptcom/zmq/socket.hpp"

namespace cryptcom::hostile {

class served_client {
 public:
  served_client(::zmq::context_t& context, const std::string& endpoint,
                cryptcom::zmq::socket_options options);

  // One echo of a `size`-byte message (at least 8); its round trip, or nothing within `timeout`.
  std::optional<std::chrono::nanoseconds> round_trip(std::size_t size,
                                                     std::chrono::milliseconds timeout);
  // Round trips one after the other for `window` or `max_count` of them, whichever ends first;
  // each one's time in microseconds. A round trip that times out ends the series (it is not in
  // the result; `timed_out()` says it happened).
  std::vector<double> round_trips_us(std::size_t size, std::chrono::milliseconds window,
                                     std::size_t max_count, std::chrono::milliseconds timeout);
  bool timed_out() const noexcept { return timed_out_; }

  cryptcom::zmq::socket& socket() noexcept { return socket_; }

 private:
  cryptcom::zmq::socket socket_;
  std::uint64_t next_ = 1;
  bool timed_out_ = false;
};

// A newcomer: a fresh client (with a context of its own) that connects while an attack is on;
// the time from connect to its first echo of a 64-byte message, or nothing within `timeout`.
// Issue 9: "a new client gets its first echo within 1 s".
std::optional<std::chrono::milliseconds> first_echo(const std::string& endpoint,
                                                    const cryptcom::zmq::socket_options& options,
                                                    std::chrono::milliseconds timeout);

// The q-quantile (0..1) of `samples` by the nearest-rank method; NaN when there are none.
double quantile(std::vector<double> samples, double q);

}  // namespace cryptcom::hostile
