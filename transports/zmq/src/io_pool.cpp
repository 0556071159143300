// The I/O threads of a context; see io_pool.hpp.
#include "io_pool.hpp"

#include <algorithm>
#include <cerrno>
#include <string>
#include <unordered_map>

#include "cryptcom/zmq/error.hpp"
#include "cryptcom/zmq/io_threads.hpp"

namespace cryptcom::zmq {
namespace detail {
namespace {

struct registry {
  std::mutex mutex;
  std::unordered_map<void*, std::weak_ptr<io_pool>> pools;
  // Kept after the pool goes, so that a count set before the first socket, or between sockets,
  // holds for the next ones.
  std::unordered_map<void*, int> counts;
};

registry& the_registry() {
  static registry r;
  return r;
}

}  // namespace

std::shared_ptr<io_pool> io_pool::of(void* context) {
  registry& r = the_registry();
  std::lock_guard lock(r.mutex);
  std::weak_ptr<io_pool>& slot = r.pools[context];
  if (auto pool = slot.lock()) return pool;
  const auto count = r.counts.find(context);
  auto pool = std::make_shared<io_pool>(
      count == r.counts.end() ? std::size_t{1} : static_cast<std::size_t>(count->second));
  slot = pool;
  return pool;
}

void io_pool::set_threads(void* context, int threads) {
  if (context == nullptr) throw ::zmq::error_t(EFAULT);
  if (threads < 1 || threads > max_threads) {
    throw error(EINVAL, "cryptcom::zmq::set_io_threads: " + std::to_string(threads) +
                            " threads; the count is 1 to " + std::to_string(max_threads));
  }
  registry& r = the_registry();
  std::lock_guard lock(r.mutex);
  r.counts[context] = threads;
  if (auto pool = r.pools[context].lock()) pool->resize(static_cast<std::size_t>(threads));
}

int io_pool::threads(void* context) {
  registry& r = the_registry();
  std::lock_guard lock(r.mutex);
  const auto count = r.counts.find(context);
  return count == r.counts.end() ? 1 : count->second;
}

void io_pool::resize(std::size_t threads) {
  std::lock_guard lock(mutex_);
  wanted_ = threads;
}

io_thread& io_pool::least_loaded() {
  std::lock_guard lock(mutex_);
  io_thread* best = nullptr;
  for (std::size_t i = 0; i < std::min(wanted_, threads_.size()); ++i) {
    if (best == nullptr || threads_[i]->load() < best->load()) best = threads_[i].get();
  }
  // A thread not started yet has no loop: it is the least loaded unless one started has none.
  if ((best == nullptr || best->load() > 0) && threads_.size() < wanted_) {
    threads_.push_back(std::make_unique<io_thread>());
    best = threads_.back().get();
  }
  return *best;
}

}  // namespace detail

void set_io_threads(void* context, int threads) { detail::io_pool::set_threads(context, threads); }

void set_io_threads(::zmq::context_t& context, int threads) {
  set_io_threads(context.handle(), threads);
}

int io_threads(void* context) { return detail::io_pool::threads(context); }

int io_threads(::zmq::context_t& context) { return io_threads(context.handle()); }

}  // namespace cryptcom::zmq
