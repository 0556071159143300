#include "attacker/raw_peer.hpp"

#include <stdexcept>
#include <utility>
#include <zmq_addon.hpp>

namespace cryptcom::hostile {
namespace {

// The sockets of an attack hold little and never linger: an attacker does not wait for its
// frames to leave when it stops.
void common_setup(::zmq::socket_t& s) {
  s.set(::zmq::sockopt::linger, 0);
  // Large frames (a flood of 1024 rejections is 20 KB) and anything the target sends back.
  s.set(::zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(-1));
}

}  // namespace

raw_peer raw_peer::dealer(::zmq::context_t& context, const std::string& endpoint,
                          const std::string& routing_id) {
  ::zmq::socket_t s(context, ::zmq::socket_type::dealer);
  common_setup(s);
  if (!routing_id.empty()) s.set(::zmq::sockopt::routing_id, routing_id);
  s.connect(endpoint);
  return raw_peer(std::move(s));
}

raw_peer raw_peer::router(::zmq::context_t& context, const std::string& endpoint) {
  ::zmq::socket_t s(context, ::zmq::socket_type::router);
  common_setup(s);
  // A message to a client that is gone is an error here, not a silent drop: the attack code
  // wants to know.
  s.set(::zmq::sockopt::router_mandatory, true);
  s.bind(endpoint);
  return raw_peer(std::move(s));
}

bool raw_peer::send(std::span<const std::string> path, byte_view frame,
                    std::chrono::milliseconds timeout) {
  const int ms = static_cast<int>(timeout.count());
  if (ms != send_timeout_ms_) {
    socket_.set(::zmq::sockopt::sndtimeo, ms);
    send_timeout_ms_ = ms;
  }
  // All frames of a message are queued together once the first is accepted, so only the first
  // send can find no room.
  const auto more = ::zmq::send_flags::sndmore;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i].empty()) throw std::logic_error("raw_peer: an empty frame in a forged path");
    if (!socket_.send(::zmq::buffer(path[i]), more)) {
      if (i == 0) return false;
      throw std::logic_error("raw_peer: a message was cut after its first frame");
    }
  }
  if (!socket_.send(::zmq::const_buffer(frame.data(), frame.size()), ::zmq::send_flags::none)) {
    if (!path.empty()) throw std::logic_error("raw_peer: a message was cut after its first frame");
    return false;
  }
  ++messages_sent_;
  bytes_sent_ += frame.size();
  return true;
}

std::optional<wire_message> raw_peer::receive(std::chrono::milliseconds timeout) {
  ::zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (::zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<::zmq::message_t> parts;
  if (!::zmq::recv_multipart(socket_, std::back_inserter(parts), ::zmq::recv_flags::dontwait) ||
      parts.empty()) {
    return std::nullopt;
  }
  wire_message m;
  const auto* data = static_cast<const byte*>(parts.back().data());
  m.frame.assign(data, data + parts.back().size());
  parts.pop_back();
  for (const auto& p : parts) m.envelope.push_back(p.to_string());
  return m;
}

std::size_t raw_peer::drain() {
  std::size_t n = 0;
  for (;;) {
    std::vector<::zmq::message_t> parts;
    if (!::zmq::recv_multipart(socket_, std::back_inserter(parts), ::zmq::recv_flags::dontwait)) {
      return n;
    }
    ++n;
  }
}

std::string raw_peer::endpoint() const { return socket_.get(::zmq::sockopt::last_endpoint); }

}  // namespace cryptcom::hostile
