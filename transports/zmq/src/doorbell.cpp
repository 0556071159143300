// The I/O thread's doorbell; see doorbell.hpp.
#include "doorbell.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "cryptcom/zmq/error.hpp"

#ifdef __linux__
#include <sys/eventfd.h>
#endif

namespace cryptcom::zmq::detail {

doorbell::doorbell() {
#ifdef __linux__
  read_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (read_fd_ < 0) {
    throw error(errno, std::string("cryptcom::zmq::socket: eventfd: ") + std::strerror(errno));
  }
  write_fd_ = read_fd_;
#else
  int fds[2];
  if (pipe(fds) != 0) {
    throw error(errno, std::string("cryptcom::zmq::socket: pipe: ") + std::strerror(errno));
  }
  for (int fd : fds) {
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
#endif
}

doorbell::~doorbell() {
  if (write_fd_ != read_fd_) (void)close(write_fd_);
  (void)close(read_fd_);
}

void doorbell::ring() noexcept {
  // A full pipe or a saturated counter already means "rung": EAGAIN loses nothing.
  const std::uint64_t one = 1;
  ssize_t n;
  do {
    n = write(write_fd_, &one, sizeof one);
  } while (n < 0 && errno == EINTR);
}

void doorbell::clear() noexcept {
  std::uint64_t drained[8];
  ssize_t n;
  do {
    n = read(read_fd_, drained, sizeof drained);
  } while (n > 0 || (n < 0 && errno == EINTR));
}

}  // namespace cryptcom::zmq::detail
