// How the PUB/SUB measurement (pubsub_loop.hpp) keeps every copy it publishes: the publisher
// runs only so far ahead of its slowest subscriber, and waits for it beyond that.
//
// A ZeroMQ PUB drops a copy when its own view of that subscriber's queue reaches the high-water
// mark, and that view lags: the sending thread learns of the reader's progress only when it
// processes commands (at most every millisecond or so while it keeps sending) and only every
// half mark of messages read. Measured here: at 64 B, a plain PUB with marks of 1000 (and 2000)
// dropped copies for a subscriber that kept up, with never more than 250 (500) really in flight;
// so would a cryptcom SUB's I/O thread, a PUB end handing messages to the application. So the
// measurement's sockets have no high-water mark, and this pacing bounds every queue instead: in
// bytes, in messages, and in time (how many messages the slowest subscriber receives in 100 ms).
//
// Not thread-safe except fan_out_progress, which is the one object the publisher (the calling
// thread) and the subscribers' receiver threads share.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <zmq.hpp>

#include "zmq_loops.hpp"

namespace cryptcom::bench::detail {

// No high-water mark (0: unlimited) on any socket of the measurement: the pacing bounds the
// queues instead (see above).
inline constexpr int k_fan_out_hwm = 0;
// Copies in flight to all subscribers together, at most: 100 subscribers of 64 KiB each may have
// 5 messages in flight (32 MiB), not 500 (3.3 GB).
inline constexpr std::size_t k_fan_out_in_flight_bytes = std::size_t{32} << 20;
// Messages in flight, at most: half of ZeroMQ's default high-water mark, and of cryptcom's queue
// for a subscriber whose keys have not arrived yet (options::max_queued_per_peer, 1000), which
// drops beyond it.
inline constexpr std::uint64_t k_fan_out_max_in_flight = 500;
// And in time: no more messages in flight than the slowest subscriber received in this time, at
// the rate measured over the last k_fan_out_rate_every (at least k_fan_out_min_in_flight). So
// every system gets as deep a queue as it can use, and no deeper: a million messages a second
// are bounded by the 500 above, cryptcom's hundred a second to 100 subscribers by about 10, and
// the end of a window waits about this long for the copies in flight, whatever the system.
inline constexpr std::chrono::milliseconds k_fan_out_lead{100};
inline constexpr std::chrono::milliseconds k_fan_out_rate_every{20};
inline constexpr std::uint64_t k_fan_out_min_in_flight = 4;
// The slowest subscriber receiving nothing for this long while the publisher waits is a stall
// (see the ramp of pubsub_loop.hpp).
inline constexpr std::chrono::milliseconds k_fan_out_stall{250};
// Bytes delivered to all subscribers together in one window, at most: on a machine fast enough
// to reach it, the window ends early instead of copying gigabytes.
inline constexpr std::size_t k_fan_out_window_bytes = std::size_t{1} << 30;

// The most messages in flight for `subscribers` of `size` bytes: within the byte budget and
// k_fan_out_max_in_flight, and at least k_fan_out_min_in_flight.
inline std::uint64_t fan_out_max_in_flight(std::size_t size, std::size_t subscribers) {
  const std::uint64_t by_bytes =
      k_fan_out_in_flight_bytes / (std::max<std::size_t>(size, 1) * subscribers);
  return std::clamp(by_bytes, k_fan_out_min_in_flight, k_fan_out_max_in_flight);
}

// The most messages one window publishes, from k_fan_out_window_bytes (and at least 16).
inline std::uint64_t fan_out_window_messages(std::size_t size, std::size_t subscribers,
                                             std::uint64_t max_messages) {
  const std::uint64_t by_bytes =
      k_fan_out_window_bytes / (std::max<std::size_t>(size, 1) * subscribers);
  return std::min(std::max<std::uint64_t>(by_bytes, 16), max_messages);
}

// What each subscriber has received so far, counted by its receiver thread and read by the
// publisher, which waits on it when it is too far ahead. Thread-safe.
class fan_out_progress {
 public:
  explicit fan_out_progress(std::size_t subscribers)
      : subscribers_(subscribers), counts_(new std::atomic<std::uint64_t>[subscribers]) {
    for (std::size_t i = 0; i < subscribers_; ++i) counts_[i].store(0, std::memory_order_relaxed);
  }

  // Receiver of subscriber `i` (its only writer): one more message.
  void count(std::size_t i) {
    const std::uint64_t n = counts_[i].load(std::memory_order_relaxed) + 1;
    counts_[i].store(n, std::memory_order_relaxed);
    // The publisher waits for `wanted_`: the subscriber that reaches it may be the last one.
    if (n == wanted_.load(std::memory_order_relaxed)) wake();
  }
  // A receiver stopped (or failed); a waiting publisher returns at once.
  void end() {
    {
      std::lock_guard lock(mutex_);
      ended_ = true;
    }
    ready_.notify_one();
  }

  [[nodiscard]] std::uint64_t count_of(std::size_t i) const {
    return counts_[i].load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t slowest() const {
    std::uint64_t least = UINT64_MAX;
    for (std::size_t i = 0; i < subscribers_; ++i) least = std::min(least, count_of(i));
    return least;
  }
  [[nodiscard]] std::uint64_t total() const {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < subscribers_; ++i) sum += count_of(i);
    return sum;
  }
  // Whether a receiver stopped; once true, what it wrote before end() may be read.
  [[nodiscard]] bool ended() {
    std::lock_guard lock(mutex_);
    return ended_;
  }

  // Publisher: waits until the slowest subscriber has `target` messages, a receiver ended, or
  // `until`; returns the slowest count then.
  std::uint64_t wait_for(std::uint64_t target, clock::time_point until) {
    std::unique_lock lock(mutex_);
    wanted_.store(target, std::memory_order_relaxed);
    // A receiver reaching `target` wakes us under the mutex, so no wake-up is lost between the
    // check and the wait; the 10 ms are a safety net only (a subscriber already past it).
    while (!ended_ && slowest() < target && clock::now() < until) {
      ready_.wait_until(lock, std::min(until, clock::now() + std::chrono::milliseconds(10)));
    }
    wanted_.store(UINT64_MAX, std::memory_order_relaxed);
    return slowest();
  }

 private:
  void wake() {
    { std::lock_guard lock(mutex_); }
    ready_.notify_one();
  }

  std::size_t subscribers_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::uint64_t> wanted_{UINT64_MAX};
  std::mutex mutex_;
  std::condition_variable ready_;
  bool ended_ = false;  // guarded by mutex_
};

// The publisher of one size: publishes `payload` while the pacing allows, waits for the slowest
// subscriber when it does not. A wait without any progress for io_timeout (a copy was dropped,
// or delivery stalled), a receiver that stopped, or the deadline throws std::runtime_error.
template <class Socket>
class paced_publisher {
 public:
  // `max_in_flight`: the bound in messages (fan_out_max_in_flight); `clock_every`: the clock is
  // read after this many messages (and after every wait).
  paced_publisher(Socket& pub, ::zmq::const_buffer payload, std::uint64_t max_in_flight,
                  std::uint64_t clock_every, fan_out_progress& progress,
                  std::chrono::milliseconds io_timeout, clock::time_point deadline)
      : pub_(pub),
        payload_(payload),
        max_in_flight_(std::clamp(max_in_flight, k_fan_out_min_in_flight, k_fan_out_max_in_flight)),
        clock_every_(std::max<std::uint64_t>(clock_every, 1)),
        progress_(progress),
        io_timeout_(io_timeout),
        deadline_(deadline),
        now_(clock::now()),
        rate_from_(now_),
        last_stall_end_(now_),
        in_flight_(static_cast<double>(k_fan_out_min_in_flight)) {}

  // Publishes one message, first waiting as long as the pacing asks.
  void publish() {
    if (published_ - slowest_ >= allowed()) {
      slowest_ = progress_.slowest();
      // Half of what is in flight back before going on: fewer wake-ups than one per message.
      if (published_ - slowest_ >= allowed()) await(published_ - allowed() / 2);
    }
    if (!pub_.send(payload_, ::zmq::send_flags::dontwait)) fail("the publisher refused a message");
    if (++published_ % clock_every_ == 0) tick();
  }

  // Waits until every subscriber has received every message published.
  void await_all() { await(published_); }

  [[nodiscard]] std::uint64_t published() const { return published_; }
  // The clock as last read: at most clock_every messages ago.
  [[nodiscard]] clock::time_point now() const { return now_; }
  // When the slowest subscriber last resumed after a stall; the construction time if it never
  // stalled.
  [[nodiscard]] clock::time_point last_stall_end() const { return last_stall_end_; }

 private:
  [[nodiscard]] std::uint64_t allowed() const { return static_cast<std::uint64_t>(in_flight_); }

  // Reads the clock, and every k_fan_out_rate_every the slowest subscriber's rate, from which
  // the messages allowed in flight follow (halfway from the last value, against noise).
  void tick() {
    now_ = clock::now();
    if (now_ - rate_from_ < k_fan_out_rate_every) return;
    const std::uint64_t slowest = progress_.slowest();
    const double seconds = std::chrono::duration<double>(now_ - rate_from_).count();
    const double rate = static_cast<double>(slowest - rate_slowest_) / seconds;
    const double lead = std::chrono::duration<double>(k_fan_out_lead).count();
    in_flight_ =
        std::clamp((in_flight_ + rate * lead) / 2, static_cast<double>(k_fan_out_min_in_flight),
                   static_cast<double>(max_in_flight_));
    rate_from_ = now_;
    rate_slowest_ = slowest;
  }

  void await(std::uint64_t target) {
    auto progressed_at = clock::now();
    auto stalled_at = progressed_at + io_timeout_;
    bool stalled = false;
    while (slowest_ < target) {
      const std::uint64_t before = slowest_;
      // Until the next stall would begin, then until io_timeout or the deadline.
      const auto until = std::min(stalled_at, deadline_);
      slowest_ = progress_.wait_for(
          target, stalled ? until : std::min(progressed_at + k_fan_out_stall, until));
      const auto now = clock::now();
      if (slowest_ > before) {
        if (stalled) last_stall_end_ = now;
        stalled = false;
        progressed_at = now;
        stalled_at = now + io_timeout_;
        continue;
      }
      if (progress_.ended()) fail("the subscribers' receiver stopped");
      if (now - progressed_at >= k_fan_out_stall) stalled = true;
      if (now >= stalled_at || now >= deadline_) {
        fail("the slowest subscriber stopped at " + std::to_string(slowest_) + " of " +
             std::to_string(published_) + " messages of " + std::to_string(payload_.size()) +
             " bytes (a copy was dropped, or delivery stalled)");
      }
    }
    tick();
  }

  Socket& pub_;
  ::zmq::const_buffer payload_;
  std::uint64_t max_in_flight_;
  std::uint64_t clock_every_;
  fan_out_progress& progress_;
  std::chrono::milliseconds io_timeout_;
  clock::time_point deadline_;
  clock::time_point now_;
  clock::time_point rate_from_;  // the start of the current rate measurement
  clock::time_point last_stall_end_;
  std::uint64_t rate_slowest_ = 0;  // the slowest subscriber's count at rate_from_
  double in_flight_;                // messages allowed in flight now; grows from the minimum
  std::uint64_t published_ = 0;
  std::uint64_t slowest_ = 0;  // the slowest subscriber's count, as last read
};

}  // namespace cryptcom::bench::detail
