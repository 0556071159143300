// The I/O threads shared by a context's cryptcom sockets; see io_thread.hpp.
#include "io_thread.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "io_loop.hpp"

namespace cryptcom::zmq::detail {
namespace {

using clock_type = std::chrono::steady_clock;

// How long a round waits at most when a loop was being turned by its application's thread.
constexpr int busy_retry_ms = 1;

}  // namespace

io_thread::io_thread() : thread_([this] { run(); }) {
#ifdef __linux__
  // Named for top -H, perf and gdb (at most 15 characters), before the constructor returns.
  (void)pthread_setname_np(thread_.native_handle(), "cryptcom-io");
#endif
}

io_thread::~io_thread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  bell_.ring();
  thread_.join();
}

void io_thread::adopt(std::unique_ptr<io_loop> loop, std::function<void()> on_stopped) {
  load_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    member m{std::move(loop), std::move(on_stopped)};
    m.turned_by_application = m.loop->turned_by_application();
    m.loop->set_thread_bell(&bell_);
    arriving_.push_back(std::move(m));
  }
  bell_.ring();
}

bool io_thread::take_new() {
  bell_.clear();
  std::lock_guard lock(mutex_);
  if (!arriving_.empty()) {
    // Loops that ran alone waited in their own zmq_poll and kept no deadline for a shared wait:
    // each turns once before the thread waits for them all.
    for (member& m : members_) m.ready = true;
    for (member& m : arriving_) members_.push_back(std::move(m));
    arriving_.clear();
  }
  return !(stopping_ && members_.empty());
}

void io_thread::reap() {
  for (auto it = members_.begin(); it != members_.end();) {
    {
      // Once finished, no thread turns the loop again: the application's stops looking for it.
      std::lock_guard turning(it->loop->turn_mutex());
      if (!it->loop->finished()) {
        ++it;
        continue;
      }
      it->loop->forget_driver();
    }
    it->loop.reset();
    it->on_stopped();
    load_.fetch_sub(1, std::memory_order_relaxed);
    it = members_.erase(it);
  }
}

bool io_thread::turn_all() {
  std::vector<pollfd>& fds = fds_;
  fds.clear();
  time_point now = clock_type::now();
  int timeout = -1;
  auto wait_at_most = [&timeout](int t) { timeout = timeout < 0 ? t : std::min(timeout, t); };
  fds.push_back({bell_.fd(), POLLIN, 0});
  for (member& m : members_) {
    m.first_fd = m.end_fd = fds.size();
    // A loop its application's thread is turning right now is left out of this round, which
    // then looks again within busy_retry_ms (that thread's hand_back saw the last plan).
    std::unique_lock turning(m.loop->turn_mutex(), std::try_to_lock);
    if (!turning) {
      wait_at_most(busy_retry_ms);
      continue;
    }
    if (m.loop->take_turn_request()) m.ready = true;
    if (const auto wake = m.loop->plan(now, m.ready)) {
      wait_at_most(m.ready ? 0 : poll_timeout_until(*wake, now));
    }
    m.loop->watch(fds);
    m.end_fd = fds.size();
  }
  // Signals are blocked on this thread: EINTR cannot happen. Any other failure (ENOMEM) leaves
  // no descriptor marked: the loops that are ready or due are turned, the others at a later round.
  (void)::poll(fds.data(), fds.size(), timeout);
  now = clock_type::now();
  for (member& m : members_) {
    std::unique_lock turning(m.loop->turn_mutex(), std::try_to_lock);
    if (!turning) continue;  // its application's thread turns it (see above)
    const auto wake = m.loop->next_wake();
    const bool due = m.ready || (wake && *wake <= now) ||
                     std::any_of(fds.begin() + static_cast<std::ptrdiff_t>(m.first_fd),
                                 fds.begin() + static_cast<std::ptrdiff_t>(m.end_fd),
                                 [](const pollfd& p) { return p.revents != 0; });
    if (due) m.ready = m.loop->run_step(now);
  }
  return fds.front().revents != 0;
}

void io_thread::run() noexcept {
  // Signals are the application's business: blocking them here keeps EINTR out of this thread.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  // The doorbell is read (a system call) only when it rang.
  bool rang = true;
  while (!rang || take_new()) {
    reap();
    if (members_.empty()) {
      pollfd bell{bell_.fd(), POLLIN, 0};
      (void)::poll(&bell, 1, -1);
      rang = true;
    } else if (members_.size() == 1 && !members_.front().turned_by_application) {
      rang = members_.front().loop->run_blocking(bell_.fd());
    } else {
      rang = turn_all();
    }
  }
}

}  // namespace cryptcom::zmq::detail
