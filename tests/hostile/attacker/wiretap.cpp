#include "attacker/wiretap.hpp"

#include <array>
#include <chrono>
#include <utility>
#include <zmq_addon.hpp>

namespace cryptcom::hostile {

wiretap::wiretap(::zmq::context_t& context, const std::string& server_endpoint)
    : front_(context, ::zmq::socket_type::router), back_(context, ::zmq::socket_type::dealer) {
  for (auto* s : {&front_, &back_}) {
    s->set(::zmq::sockopt::linger, 0);
    s->set(::zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(-1));
  }
  front_.bind("tcp://127.0.0.1:*");
  endpoint_ = front_.get(::zmq::sockopt::last_endpoint);
  back_.connect(server_endpoint);
  // The sockets move to the thread here; its start is the memory barrier ZeroMQ asks for.
  thread_ = std::thread([this] { run(); });
}

wiretap::~wiretap() {
  stop_ = true;
  thread_.join();
}

void wiretap::run() {
  std::array<::zmq::pollitem_t, 2> items{
      {{front_.handle(), 0, ZMQ_POLLIN, 0}, {back_.handle(), 0, ZMQ_POLLIN, 0}}};
  while (!stop_) {
    ::zmq::poll(items.data(), items.size(), std::chrono::milliseconds(20));
    for (int side = 0; side < 2; ++side) {
      if (!(items[static_cast<std::size_t>(side)].revents & ZMQ_POLLIN)) continue;
      auto& from = side == 0 ? front_ : back_;
      auto& to = side == 0 ? back_ : front_;
      for (int n = 0; n < 256; ++n) {
        std::vector<::zmq::message_t> parts;
        if (!::zmq::recv_multipart(from, std::back_inserter(parts), ::zmq::recv_flags::dontwait)) {
          break;
        }
        if (parts.empty()) continue;
        capture c;
        c.dir = side == 0 ? direction::to_server : direction::to_client;
        const auto* data = static_cast<const byte*>(parts.back().data());
        c.frame.assign(data, data + parts.back().size());
        // Forwarded as it came: the ROUTER's routing id frame addresses the DEALER's side, and
        // comes back first on the answers.
        (void)::zmq::send_multipart(to, parts, ::zmq::send_flags::dontwait);
        std::lock_guard lock(mutex_);
        if (c.dir == direction::to_client) {
          if (auto d = wire::decode(c.frame, wire::decode_limits{}); d.ok()) {
            const wire::control_block* block = nullptr;
            if (d->kind == wire::frame_kind::control) block = &d->control;
            if (d->kind == wire::frame_kind::data && d->data.control) block = &*d->data.control;
            if (block) offers_.insert(offers_.end(), block->offers.begin(), block->offers.end());
          }
        }
        captured_.push_back(std::move(c));
      }
    }
  }
}

std::vector<wiretap::capture> wiretap::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(captured_, {});
}

std::vector<wire::offered_key> wiretap::offers_to_client() {
  std::lock_guard lock(mutex_);
  return offers_;
}

}  // namespace cryptcom::hostile
