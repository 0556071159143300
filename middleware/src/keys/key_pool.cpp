// make_key_pool: the production key_source. Background threads keep up to `capacity` X25519
// pairs ready, their private halves in one locked chunk; next() hands one out under a mutex and
// never waits for a generator (a dry pool generates on the caller's thread instead).
//
// Refill has hysteresis: generators start when fewer than low_watermark pairs are ready and stop
// when the pool is full, so a steady trickle of next() calls does not wake a thread per key.
// Generators write a private key into a slot they own outside the lock; handing it over under the
// lock (ready_) orders that write before any taker's read.
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "cryptcom/key_source.hpp"
#include "keys/locked_arena.hpp"

namespace cryptcom {
namespace {

// HPKE's GenerateKeyPair for DHKEM(X25519): 32 random bytes, public = X25519(sk, base point).
// Written straight into `secret` (locked memory): no copy of the private key exists elsewhere.
public_key generate(std::span<byte, secret_key_size> secret) noexcept {
  public_key pub;
  do {
    randombytes_buf(secret.data(), secret.size());
    // Fails only for an all-zero result, which a clamped scalar cannot give; retry regardless.
  } while (crypto_scalarmult_base(pub.bytes.data(), secret.data()) != 0);
  return pub;
}

// Generators run under SCHED_IDLE on Linux: key generation is work for later, and the threads
// that seal and open are the latency path. nice 19 was not enough: current kernels (EEVDF) let a
// running task finish its slice, so on a machine with fewer cores than busy threads a generator
// refilling the pool held a core for milliseconds. Measured on 2 cores, REQ/REP at 64 B, four
// interleaved runs of 10,000 round trips: p99 3.9-4.3 ms with nice 19, 0.6-0.9 ms with
// SCHED_IDLE (p50 unchanged or lower). A SCHED_IDLE task yields its core as soon as a normal task
// wants it. A generator starved that way costs nothing in throughput: a dry pool makes the taker
// generate inline, so the work gets done either way. Where SCHED_IDLE is refused, nice 19 is the
// fallback; both are best effort.
void run_at_low_priority() noexcept {
#ifdef __linux__
  // Named for top -H, perf and gdb; at most 15 characters.
  (void)pthread_setname_np(pthread_self(), "cryptcom-keygen");
  sched_param idle{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) != 0) {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
  }
#endif
}

class threaded_key_pool final : public key_pool {
 public:
  explicit threaded_key_pool(const key_pool_options& o)
      : capacity_(o.capacity),
        low_watermark_(std::min(o.low_watermark, o.capacity)),
        arena_(secret_key_size, std::max<std::size_t>(o.capacity, 1), o.capacity) {
    if (capacity_ == 0 || o.threads == 0) {
      filling_ = false;  // every next() generates on the caller's thread
      return;
    }
    // All locked memory up front: generators then never make a system call for it, and the
    // stats tell at once whether it could be locked.
    if (!arena_.reserve(capacity_).ok()) {
      filling_ = false;  // no locked memory: degrade to generating on the caller's thread
      return;
    }
    ready_.reserve(capacity_);
    try {
      for (std::size_t i = 0; i < o.threads; ++i) threads_.emplace_back([this] { run(); });
    } catch (...) {
      stop_and_join();
      throw;
    }
  }

  ~threaded_key_pool() override {
    stop_and_join();
    // sodium_free would zero them too; releasing says so here.
    for (const ready_pair& p : ready_) arena_.release(p.slot);
  }

  threaded_key_pool(const threaded_key_pool&) = delete;
  threaded_key_pool& operator=(const threaded_key_pool&) = delete;

  public_key next(mutable_secret_key_view secret_out) override {
    std::unique_lock lock(mutex_);
    ++taken_;
    if (!ready_.empty()) {
      const ready_pair p = ready_.back();
      ready_.pop_back();
      const std::span<const byte> secret = arena_.bytes(p.slot);
      std::memcpy(secret_out.data(), secret.data(), secret_key_size);
      arena_.release(p.slot);  // zeroes the pool's copy
      start_refill_if_low();
      return p.pub;
    }
    ++generated_inline_;
    start_refill_if_low();
    lock.unlock();
    return generate(secret_out);
  }

  key_pool_stats stats() const override {
    const std::lock_guard lock(mutex_);
    key_pool_stats s;
    s.generated = generated_;
    s.generated_inline = generated_inline_;
    s.taken = taken_;
    s.ready = ready_.size();
    s.fully_locked = arena_.fully_locked();
    return s;
  }

 private:
  struct ready_pair {
    keys::locked_arena::slot slot;
    public_key pub;
  };

  // Under mutex_.
  bool wanted() const noexcept { return filling_ && ready_.size() + in_flight_ < capacity_; }

  // Under mutex_.
  void start_refill_if_low() {
    if (filling_ || threads_.empty() || ready_.size() >= low_watermark_) return;
    filling_ = true;
    work_.notify_all();
  }

  void run() {
    run_at_low_priority();
    std::unique_lock lock(mutex_);
    for (;;) {
      work_.wait(lock, [this] { return stop_ || wanted(); });
      if (stop_) return;
      // Cannot fail: capacity_ slots were reserved and ready_ + in_flight_ stays below it.
      auto slot = arena_.allocate();
      if (!slot.ok()) {
        filling_ = false;
        continue;
      }
      const std::span<byte> secret = arena_.bytes(*slot);
      ++in_flight_;
      lock.unlock();
      const public_key pub =
          generate(std::span<byte, secret_key_size>(secret.data(), secret.size()));
      lock.lock();
      --in_flight_;
      ready_.push_back(ready_pair{*slot, pub});  // reserved to capacity_: no allocation
      ++generated_;
      if (ready_.size() + in_flight_ >= capacity_) filling_ = false;
    }
  }

  void stop_and_join() noexcept {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    work_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  const std::size_t capacity_;
  const std::size_t low_watermark_;

  mutable std::mutex mutex_;
  std::condition_variable work_;  // generators wait here for stop_ or wanted()
  // Everything below is guarded by mutex_, except the bytes of a slot while its generator
  // owns it (allocated, not yet in ready_).
  keys::locked_arena arena_;
  std::vector<ready_pair> ready_;
  std::size_t in_flight_ = 0;
  bool filling_ = true;
  bool stop_ = false;
  std::uint64_t generated_ = 0;
  std::uint64_t generated_inline_ = 0;
  std::uint64_t taken_ = 0;
  std::vector<std::thread> threads_;
};

static_assert(crypto_scalarmult_SCALARBYTES == secret_key_size);
static_assert(crypto_scalarmult_BYTES == public_key_size);

}  // namespace

std::unique_ptr<key_pool> make_key_pool(const key_pool_options& options) {
  return std::make_unique<threaded_key_pool>(options);
}

}  // namespace cryptcom
