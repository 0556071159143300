// io_thread: a thread that runs the io_loops of many cryptcom sockets of one context, as one of
// libzmq's I/O threads serves many of its sockets, so that N sockets do not mean N threads.
//
// With one loop it waits in that loop's own zmq_poll (run_blocking), as a thread of its own
// would (but see below). With several it waits in one poll(2) on every loop's descriptors (its
// doorbell and its ZeroMQ sockets' ZMQ_FD) and its earliest deadline, then turns only the loops
// whose descriptors became readable, whose deadline came, or that still had something ready after
// their last turn (run_step). A zmq_poll over every loop's sockets would cost libzmq a system call
// per socket per wake-up; a loop's ZMQ_FD stays quiet until something changes for it.
//
// A loop handed over with adopt() is run until it finishes (close, context termination), then
// destroyed on this thread, and its `on_stopped` called. A loop its application's thread turns
// too (a REQ's: io_loop::turn_mutex) is always waited for with poll(2) and turned holding its
// mutex, even alone on the thread: a zmq_poll would touch its sockets while that thread might.
// Thread-safety: adopt() and load() from any thread; the rest is the thread's own.
#pragma once

#include <poll.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "doorbell.hpp"

namespace cryptcom::zmq::detail {

class io_loop;

class io_thread {
 public:
  io_thread();  // starts the thread
  // Stops and joins the thread. Every loop it was given must have finished and been destroyed
  // (the sockets wait for that before they let go of their thread).
  ~io_thread();
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  // The mutex taken here is the memory barrier ZeroMQ asks for when the loop's sockets, made on
  // the caller's thread, move to this one.
  void adopt(std::unique_ptr<io_loop> loop, std::function<void()> on_stopped);
  // Loops given and not yet destroyed.
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }

 private:
  struct member {
    std::unique_ptr<io_loop> loop;
    std::function<void()> on_stopped;
    bool ready = true;  // turn it without waiting (new, or something was still ready)
    // Its application's thread turns it too (io_loop::turn_mutex): never run_blocking.
    bool turned_by_application = false;
    std::size_t first_fd = 0;
    std::size_t end_fd = 0;
  };
  void run() noexcept;
  bool take_new();  // false: stop
  void reap();
  bool turn_all();  // true: the doorbell rang

  doorbell bell_;
  std::mutex mutex_;
  std::vector<member> arriving_;
  bool stopping_ = false;
  std::atomic<std::size_t> load_{0};
  std::vector<member> members_;  // the thread's own
  std::vector<pollfd> fds_;      // turn_all's, kept to spare an allocation per round
  std::thread thread_;
};

}  // namespace cryptcom::zmq::detail
