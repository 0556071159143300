// io_pool: the I/O threads a context's cryptcom sockets share: as many as the context's
// ZMQ_IO_THREADS (cryptcom/zmq/io_threads.hpp; one by default). Each new socket's loop goes to the
// thread with the fewest loops; a thread is started when first needed. The pool lives while a
// socket of its context does: each socket holds it, the registry only remembers it, and the last
// socket to let go joins its threads. Thread-safety: all of it, from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "cryptcom/key_source.hpp"
#include "io_thread.hpp"

namespace cryptcom::zmq::detail {

class io_pool {
 public:
  explicit io_pool(std::size_t threads) : wanted_(threads) {}

  // The pool of `context`, made when none of its sockets holds one, with the context's count.
  static std::shared_ptr<io_pool> of(void* context);
  static constexpr int max_threads = 256;

  io_thread& least_loaded();
  // The key pool of the context's sockets that name none and keep the default key_pool_options,
  // made on first use: 100 sockets are then not 100 generator threads and 100 pools of locked
  // keys either.
  std::shared_ptr<key_pool> shared_keys();

 private:
  std::mutex mutex_;
  std::size_t wanted_;
  std::vector<std::unique_ptr<io_thread>> threads_;  // started so far, at most wanted_
  std::shared_ptr<key_pool> keys_;
};

}  // namespace cryptcom::zmq::detail
