// The state shared by a socket's two threads; see shared_state.hpp.
#include "shared_state.hpp"

#include <cerrno>
#include <exception>
#include <utility>

#include "cryptcom/zmq/error.hpp"

namespace cryptcom::zmq::detail {

bool shared_state::post(command&& c, std::string* why_not) {
  {
    std::lock_guard lock(mutex_);
    if (!accepting_) {
      if (why_not != nullptr) *why_not = stopped_because_;
      return false;
    }
    commands_.push_back(std::move(c));
  }
  bell_.ring();
  return true;
}

std::deque<command> shared_state::take_commands() {
  std::lock_guard lock(mutex_);
  std::deque<command> out;
  out.swap(commands_);
  return out;
}

void shared_state::stop_accepting(const std::string& why) {
  std::deque<command> left;
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
    stopped_because_ = why;
    left.swap(commands_);
  }
  for (auto& c : left) {
    c.done.set_value({command_failure::type::cryptcom, ETERM, why});
  }
}

void shared_state::push_event(event e) {
  std::lock_guard lock(mutex_);
  if (max_events_ == 0) {
    ++events_dropped_;
    return;
  }
  while (events_.size() >= max_events_) {
    events_.pop_front();
    ++events_dropped_;
  }
  events_.push_back(std::move(e));
}

std::optional<event> shared_state::pop_event() {
  std::lock_guard lock(mutex_);
  if (events_.empty()) return std::nullopt;
  event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::uint64_t shared_state::events_dropped() const {
  std::lock_guard lock(mutex_);
  return events_dropped_;
}

void shared_state::set_final_stats(socket_stats s) {
  std::lock_guard lock(mutex_);
  final_stats_ = std::move(s);
}

std::optional<socket_stats> shared_state::final_stats() const {
  std::lock_guard lock(mutex_);
  return final_stats_;
}

void shared_state::mark_stopped() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  stopped_changed_.notify_all();
}

void shared_state::wait_stopped() {
  std::unique_lock lock(mutex_);
  stopped_changed_.wait(lock, [this] { return stopped_; });
}

}  // namespace cryptcom::zmq::detail
