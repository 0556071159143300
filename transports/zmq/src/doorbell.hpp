// doorbell: how the application's thread wakes a socket's I/O thread for a command (bind,
// connect, options, stats, close). A plain file descriptor that zmq_poll watches beside the
// ZeroMQ sockets: an eventfd on Linux, a non-blocking pipe elsewhere.
//
// Not an inproc ZeroMQ socket: zmq_poll checks every ZeroMQ socket's mailbox with a system call
// of its own before and after it waits, so a third socket polled on every iteration of the I/O
// loop cost two system calls per wake-up for a bell that rings a handful of times per socket
// lifetime. A plain descriptor costs nothing beyond the poll itself.
// Thread-safety: ring() from any thread; clear() and fd() from the I/O thread.
#pragma once

namespace cryptcom::zmq::detail {

class doorbell {
 public:
  doorbell();  // throws cryptcom::zmq::error when the system has no descriptor to give
  ~doorbell();
  doorbell(const doorbell&) = delete;
  doorbell& operator=(const doorbell&) = delete;

  void ring() noexcept;
  // Consumes every ring so far: the descriptor polls readable again only after the next ring.
  void clear() noexcept;
  int fd() const noexcept { return read_fd_; }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;  // the same as read_fd_ for an eventfd
};

}  // namespace cryptcom::zmq::detail
