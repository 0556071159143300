// shared_state: what the application's thread and a socket's I/O thread share: the queue of
// commands for the I/O thread (bind, connect, options, stats, close) and the doorbell that
// announces them, the events for poll_event(), and the last stats once the I/O thread has
// stopped. Everything else each thread owns alone; application messages travel through the
// inproc pipe, not through here.
// Thread-safety: every member is guarded by `mutex`, except the doorbell, which is its own, and
// `loop`, guarded by `turn_mutex`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>

#include "cryptcom/zmq/event.hpp"
#include "doorbell.hpp"

namespace cryptcom::zmq::detail {

class io_loop;

// How a command failed, as a value: an exception_ptr handed between threads is reference counted
// inside libstdc++, where ThreadSanitizer cannot see the ordering, so the application's thread
// rethrows a fresh exception built from this instead.
struct command_failure {
  enum class type : std::uint8_t { none, cryptcom, zmq, other } what_type = type::none;
  int num = 0;
  std::string what;
};

struct command {
  std::function<void(io_loop&)> run;
  std::promise<command_failure> done;
};

class shared_state {
 public:
  explicit shared_state(std::size_t max_events) : max_events_(max_events) {}

  // Queues a command and rings the doorbell; false once the I/O thread no longer takes any.
  bool post(command&& c, std::string* why_not);
  doorbell& bell() noexcept { return bell_; }
  std::deque<command> take_commands();
  // The I/O thread stops taking commands; those still queued fail with `why`.
  void stop_accepting(const std::string& why);

  void push_event(event e);
  std::optional<event> pop_event();
  std::uint64_t events_dropped() const;
  // PUB/XPUB: messages the application sent while the pipe to the I/O thread was full, dropped
  // as libzmq's PUB drops at its high-water mark (counted here by the application's thread).
  std::atomic<std::uint64_t> publisher_drops{0};
  // REQ: the socket's io_loop is turned by whichever thread holds this mutex, the I/O
  // thread or the application's inside its send and recv (socket.cpp). `loop` is the loop while
  // it lives (the I/O thread clears it, holding the mutex, before destroying the loop).
  std::mutex turn_mutex;
  io_loop* loop = nullptr;

  void set_final_stats(socket_stats s);
  std::optional<socket_stats> final_stats() const;

  // The I/O thread destroyed the socket's io_loop (its sockets are closed); wait_stopped()
  // returns from then on.
  void mark_stopped();
  void wait_stopped();

 private:
  doorbell bell_;
  mutable std::mutex mutex_;
  std::deque<command> commands_;
  bool accepting_ = true;
  std::string stopped_because_;
  std::deque<event> events_;
  std::size_t max_events_;
  std::uint64_t events_dropped_ = 0;
  std::optional<socket_stats> final_stats_;
  bool stopped_ = false;
  std::condition_variable stopped_changed_;
};

}  // namespace cryptcom::zmq::detail
