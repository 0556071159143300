#include "attacker/echo_server.hpp"

#include <chrono>
#include <future>
#include <zmq_addon.hpp>

#include "attacker/thread_cpu.hpp"

namespace cryptcom::hostile {
namespace {

cryptcom::zmq::socket_options with_room_for_events(cryptcom::zmq::socket_options o) {
  o.max_events = echo_server::max_kept_events;
  return o;
}

}  // namespace

echo_server::echo_server(cryptcom::zmq::socket_options options)
    : options_(with_room_for_events(std::move(options))), context_(1) {
  const std::vector<int> before = process_threads();
  socket_ = cryptcom::zmq::socket(context_, ::zmq::socket_type::router, options_);
  socket_.bind("tcp://127.0.0.1:*");
  endpoint_ = socket_.get(::zmq::sockopt::last_endpoint);
  socket_.set(::zmq::sockopt::rcvtimeo, 20);
  std::promise<void> started;
  thread_ = std::thread([this, &started] {
    started.set_value();
    run();
  });
  started.get_future().wait();
  threads_ = new_threads(before, process_threads());
}

echo_server::~echo_server() {
  stop_ = true;
  thread_.join();
  socket_.set(::zmq::sockopt::linger, 0);
  socket_.close();
}

void echo_server::run() {
  while (!stop_) {
    take_events();
    std::vector<::zmq::message_t> parts;
    try {
      if (!recv_multipart(socket_, std::back_inserter(parts))) continue;
    } catch (const ::zmq::error_t&) {
      return;  // the context went away
    }
    if (parts.size() < 2) continue;
    const std::string first = parts.front().to_string();
    (void)send_multipart(socket_, parts, ::zmq::send_flags::dontwait);
    ++served_;
    std::lock_guard lock(mutex_);
    ++served_from_[first];
  }
  take_events();
}

void echo_server::take_events() {
  std::vector<cryptcom::zmq::event> fresh;
  while (auto e = socket_.poll_event()) fresh.push_back(std::move(*e));
  if (fresh.empty()) return;
  std::lock_guard lock(mutex_);
  for (auto& e : fresh) {
    if (events_.size() >= max_kept_events) events_.pop_front();
    events_.push_back(std::move(e));
  }
}

std::vector<cryptcom::zmq::event> echo_server::events() const {
  std::lock_guard lock(mutex_);
  return {events_.begin(), events_.end()};
}

std::uint64_t echo_server::served_from(const std::string& first_frame) const {
  std::lock_guard lock(mutex_);
  auto it = served_from_.find(first_frame);
  return it == served_from_.end() ? 0 : it->second;
}

std::optional<std::uint64_t> echo_server::peer_of(const std::vector<std::string>& route) const {
  for (const auto& [id, r] : stats().routes) {
    if (r == route) return id;
  }
  return std::nullopt;
}

std::size_t echo_server::routes_from(const std::string& first_frame) const {
  std::size_t n = 0;
  for (const auto& [id, r] : stats().routes) {
    if (!r.empty() && r.front() == first_frame) ++n;
  }
  return n;
}

double echo_server::cpu_seconds() const { return hostile::cpu_seconds(threads_); }

}  // namespace cryptcom::hostile
