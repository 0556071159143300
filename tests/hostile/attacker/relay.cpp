#include "attacker/relay.hpp"

#include <array>
#include <chrono>
#include <utility>
#include <zmq_addon.hpp>

namespace cryptcom::hostile {
namespace {

std::size_t index(relay::direction d) { return d == relay::direction::to_server ? 0 : 1; }

}  // namespace

relay::relay(::zmq::context_t& context, topology shape, const std::string& front,
             const std::string& back)
    : front_(context, ::zmq::socket_type::router), back_(context, ::zmq::socket_type::dealer) {
  for (auto* s : {&front_, &back_}) {
    s->set(::zmq::sockopt::linger, 0);
    s->set(::zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(-1));
  }
  front_.bind(front);
  front_endpoint_ = front_.get(::zmq::sockopt::last_endpoint);
  if (shape == topology::proxy) {
    back_.connect(back);
    back_endpoint_ = back;
  } else {
    back_.bind(back);
    back_endpoint_ = back_.get(::zmq::sockopt::last_endpoint);
  }
  // The sockets move to the thread here; its start is the memory barrier ZeroMQ asks for.
  thread_ = std::thread([this] { run(); });
}

relay::~relay() {
  stop_ = true;
  thread_.join();
}

void relay::set_hook(hook h) {
  std::lock_guard lock(mutex_);
  hook_ = std::move(h);
}

void relay::inject(direction dir, v2::bytes frame) {
  std::lock_guard lock(mutex_);
  to_inject_.emplace_back(dir, std::move(frame));
}

std::vector<relay::capture> relay::captures() const {
  std::lock_guard lock(mutex_);
  return captured_;
}

std::size_t relay::forwarded(direction dir) const noexcept { return forwarded_[index(dir)]; }
std::size_t relay::injected(direction dir) const noexcept { return injected_[index(dir)]; }

void relay::run() {
  std::array<::zmq::pollitem_t, 2> items{
      {{front_.handle(), 0, ZMQ_POLLIN, 0}, {back_.handle(), 0, ZMQ_POLLIN, 0}}};
  auto send = [&](direction dir, const std::string& client, const v2::bytes& frame) {
    // Towards the client the ROUTER takes the client's id off; towards the server the DEALER
    // sends it in front, as the ROUTER put it there.
    auto& to = dir == direction::to_server ? back_ : front_;
    if (!to.send(::zmq::buffer(client), ::zmq::send_flags::sndmore | ::zmq::send_flags::dontwait)) {
      return false;
    }
    return to.send(::zmq::buffer(frame), ::zmq::send_flags::dontwait).has_value();
  };
  while (!stop_) {
    ::zmq::poll(items.data(), items.size(), std::chrono::milliseconds(5));
    for (int side = 0; side < 2; ++side) {
      if (!(items[static_cast<std::size_t>(side)].revents & ZMQ_POLLIN)) continue;
      auto& from = side == 0 ? front_ : back_;
      const direction dir = side == 0 ? direction::to_server : direction::to_client;
      for (int n = 0; n < 256; ++n) {
        std::vector<::zmq::message_t> parts;
        if (!::zmq::recv_multipart(from, std::back_inserter(parts), ::zmq::recv_flags::dontwait)) {
          break;
        }
        // [client id, frame] both ways: the ROUTER prepends the id, the server answers with it.
        if (parts.size() != 2) continue;
        const std::string client = parts.front().to_string();
        const auto* data = static_cast<const byte*>(parts.back().data());
        v2::bytes frame(data, data + parts.back().size());
        hook h;
        {
          std::lock_guard lock(mutex_);
          captured_.push_back({dir, frame});
          if (dir == direction::to_server) client_ = client;
          h = hook_;
        }
        if (h && !h(dir, frame)) continue;
        if (send(dir, client, frame)) ++forwarded_[index(dir)];
      }
    }
    std::deque<std::pair<direction, v2::bytes>> pending;
    std::string client;
    {
      std::lock_guard lock(mutex_);
      if (client_.empty()) continue;
      pending.swap(to_inject_);
      client = client_;
    }
    for (const auto& [dir, frame] : pending) {
      if (send(dir, client, frame)) ++injected_[index(dir)];
    }
  }
}

}  // namespace cryptcom::hostile
