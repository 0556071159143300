#include "attacker/served_client.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace cryptcom::hostile {
namespace {

using clock_type = std::chrono::steady_clock;

}  // namespace

served_client::served_client(::zmq::context_t& context, const std::string& endpoint,
                             cryptcom::zmq::socket_options options)
    : socket_(context, ::zmq::socket_type::dealer, std::move(options)) {
  socket_.set(::zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

std::optional<std::chrono::nanoseconds> served_client::round_trip(
    std::size_t size, std::chrono::milliseconds timeout) {
  std::string payload(std::max<std::size_t>(size, sizeof next_), 'e');
  const std::uint64_t seq = next_++;
  std::memcpy(payload.data(), &seq, sizeof seq);
  const auto start = clock_type::now();
  const auto deadline = start + timeout;
  socket_.set(::zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
  if (!socket_.send(::zmq::buffer(payload), ::zmq::send_flags::none)) return std::nullopt;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) return std::nullopt;
    socket_.set(::zmq::sockopt::rcvtimeo, static_cast<int>(left.count()));
    ::zmq::message_t reply;
    if (!socket_.recv(reply, ::zmq::recv_flags::none)) return std::nullopt;
    std::uint64_t got = 0;
    if (reply.size() >= sizeof got) std::memcpy(&got, reply.data(), sizeof got);
    if (got == seq) return clock_type::now() - start;
    // An echo of an earlier round trip that was given up: skipped.
  }
}

std::vector<double> served_client::round_trips_us(std::size_t size,
                                                  std::chrono::milliseconds window,
                                                  std::size_t max_count,
                                                  std::chrono::milliseconds timeout) {
  std::vector<double> out;
  timed_out_ = false;
  const auto end = clock_type::now() + window;
  while (out.size() < max_count && clock_type::now() < end) {
    const auto t = round_trip(size, timeout);
    if (!t) {
      timed_out_ = true;
      break;
    }
    out.push_back(std::chrono::duration<double, std::micro>(*t).count());
  }
  return out;
}

std::optional<std::chrono::milliseconds> first_echo(const std::string& endpoint,
                                                    const cryptcom::zmq::socket_options& options,
                                                    std::chrono::milliseconds timeout) {
  ::zmq::context_t ctx;
  const auto start = clock_type::now();
  served_client client(ctx, endpoint, options);
  if (!client.round_trip(64, timeout)) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
}

double quantile(std::vector<double> samples, double q) {
  if (samples.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(samples.begin(), samples.end());
  const double rank = std::ceil(q * static_cast<double>(samples.size()));
  const auto i = static_cast<std::size_t>(std::clamp(rank, 1.0, double(samples.size()))) - 1;
  return samples[i];
}

}  // namespace cryptcom::hostile
