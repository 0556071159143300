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
  // A context's pool lives only while a socket of it does, so the context is alive and the
  // count read now is its own (an address freed and reused by another context holds no pool).
  const int count = zmq_ctx_get(context, ZMQ_IO_THREADS);
  auto pool =
      std::make_shared<io_pool>(static_cast<std::size_t>(std::clamp(count, 1, max_threads)));
  slot = pool;
  return pool;
}

io_thread& io_pool::least_loaded() {
  std::lock_guard lock(mutex_);
  io_thread* best = nullptr;
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    if (best == nullptr || threads_[i]->load() < best->load()) best = threads_[i].get();
  }
  // A thread not started yet has no loop: it is the least loaded unless one started has none.
  if ((best == nullptr || best->load() > 0) && threads_.size() < wanted_) {
    threads_.push_back(std::make_unique<io_thread>());
    best = threads_.back().get();
  }
  return *best;
}

std::shared_ptr<key_pool> io_pool::shared_keys() {
  std::lock_guard lock(mutex_);
  if (!keys_) keys_ = std::shared_ptr<key_pool>(make_key_pool(key_pool_options{}));
  return keys_;
}

}  // namespace detail

void set_io_threads(void* context, int threads) {
  if (context == nullptr) throw ::zmq::error_t(EFAULT);
  if (threads < 1 || threads > detail::io_pool::max_threads) {
    throw error(EINVAL, "cryptcom::zmq::set_io_threads: " + std::to_string(threads) +
                            " threads; the count is 1 to " +
                            std::to_string(detail::io_pool::max_threads));
  }
  if (zmq_ctx_set(context, ZMQ_IO_THREADS, threads) != 0) throw ::zmq::error_t();
}

void set_io_threads(::zmq::context_t& context, int threads) {
  set_io_threads(context.handle(), threads);
}

int io_threads(void* context) {
  if (context == nullptr) throw ::zmq::error_t(EFAULT);
  const int count = zmq_ctx_get(context, ZMQ_IO_THREADS);
  if (count < 0) throw ::zmq::error_t();
  return std::clamp(count, 1, detail::io_pool::max_threads);
}

int io_threads(::zmq::context_t& context) { return io_threads(context.handle()); }

}  // namespace cryptcom::zmq
