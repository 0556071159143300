// The ZAP client of a cryptcom socket's I/O thread; see zap_client.hpp.
#include "zap_client.hpp"

#include <array>
#include <iterator>
#include <string_view>
#include <utility>
#include <zmq_addon.hpp>

namespace cryptcom::zmq::detail {
namespace {

constexpr std::string_view zap_version = "1.0";
// Answers read per collect(): a handler flooding us cannot hold the loop.
constexpr int max_answers_per_collect = 256;

std::string_view text_of(const ::zmq::message_t& m) {
  return {static_cast<const char*>(m.data()), m.size()};
}

// The handler's words, for an event's readable sentence: printable ASCII only, bounded.
std::string printable(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

zap_client::zap_client(void* context, std::string domain, std::chrono::milliseconds timeout,
                       std::size_t max_in_flight)
    : context_(context),
      domain_(std::move(domain)),
      timeout_(timeout),
      max_in_flight_(max_in_flight) {}

std::optional<zap_client::verdict> zap_client::ask(peer_number peer, const public_key& key,
                                                   const std::string& address,
                                                   const std::string& routing_id, time_point now) {
  verdict refused{peer, key, false, {}, {}};
  if (in_flight_.size() >= max_in_flight_) {
    refused.why = "too many ZAP requests wait for an answer (" + std::to_string(max_in_flight_) +
                  ", max_pending_checks)";
    return refused;
  }
  if (socket_.handle() == nullptr) {
    socket_ = owned_socket(context_, ::zmq::socket_type::dealer);
    socket_.set(::zmq::sockopt::linger, 0);
    // Connecting to an inproc endpoint nobody has bound succeeds (the connection waits for the
    // bind); requests then wait in the pipe and their deadline refuses them.
    socket_.connect(zap_endpoint);
  }
  const std::uint64_t id = next_id_++;
  const std::string id_text = std::to_string(id);
  std::array<::zmq::const_buffer, 8> frames{
      ::zmq::const_buffer(nullptr, 0), ::zmq::buffer(zap_version),
      ::zmq::buffer(id_text),          ::zmq::buffer(domain_),
      ::zmq::buffer(address),          ::zmq::buffer(routing_id),
      ::zmq::str_buffer("CURVE"),      ::zmq::const_buffer(key.bytes.data(), key.bytes.size()),
  };
  if (!::zmq::send_multipart(socket_, frames, ::zmq::send_flags::dontwait)) {
    refused.why = "the ZAP handler at " + std::string(zap_endpoint) + " takes no more requests";
    return refused;
  }
  in_flight_.emplace(id, request{peer, key, now + timeout_});
  return std::nullopt;
}

std::optional<time_point> zap_client::next_deadline() const {
  if (in_flight_.empty()) return std::nullopt;
  return in_flight_.begin()->second.deadline;
}

std::vector<zap_client::verdict> zap_client::collect(time_point now) {
  std::vector<verdict> out;
  if (socket_.handle() != nullptr) read_answers(out);
  while (!in_flight_.empty() && in_flight_.begin()->second.deadline <= now) {
    const request& r = in_flight_.begin()->second;
    out.push_back({r.peer,
                   r.key,
                   false,
                   {},
                   "the ZAP handler at " + std::string(zap_endpoint) + " did not answer within " +
                       std::to_string(timeout_.count()) + " ms"});
    in_flight_.erase(in_flight_.begin());
  }
  return out;
}

void zap_client::read_answers(std::vector<verdict>& out) {
  for (int n = 0; n < max_answers_per_collect; ++n) {
    std::vector<::zmq::message_t> parts;
    if (!::zmq::recv_multipart(socket_, std::back_inserter(parts), ::zmq::recv_flags::dontwait)) {
      return;
    }
    // ["", "1.0", request id, status code, status text, user id, metadata]
    if (parts.size() != 7 || parts[0].size() != 0 || text_of(parts[1]) != zap_version) continue;
    std::uint64_t id = 0;
    const std::string_view id_text = text_of(parts[2]);
    bool digits = !id_text.empty() && id_text.size() <= 19;
    for (char c : id_text) {
      if (c < '0' || c > '9') digits = false;
    }
    if (!digits) continue;
    for (char c : id_text) id = id * 10 + static_cast<std::uint64_t>(c - '0');
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) continue;  // given up already, or never sent
    const std::string_view code = text_of(parts[3]);
    verdict v{it->second.peer, it->second.key, code == "200", {}, {}};
    if (v.accepted) {
      v.user_id = std::string(text_of(parts[5]));
    } else {
      v.why = "the ZAP handler answered " + printable(code, 3) + " " +
              printable(text_of(parts[4]), 200);
    }
    in_flight_.erase(it);
    out.push_back(std::move(v));
  }
}

}  // namespace cryptcom::zmq::detail
