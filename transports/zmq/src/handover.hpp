// handover: explicit release/acquire around every hand-over of message memory between threads
// through libzmq, compiled in only under ThreadSanitizer.
//
// libzmq hands messages between threads through lock-free pipes with correct memory ordering,
// but libzmq is not built with TSan, so TSan cannot see that ordering and would report the bytes
// a thread wrote into a message and another read as a data race. Before a message leaves a thread
// (a send on the inproc pipe, a zero-copy wire frame) that thread calls handover_release(); the
// thread that gets it (after recv, or in a zero-copy free function) calls handover_acquire().
// The counter's release sequence makes every earlier hand-over happen before every later acquire,
// which is what libzmq guarantees anyway. Without TSan both calls compile to nothing.
// Thread-safety: any thread.
#pragma once

#include <atomic>
#include <cstdint>

#if defined(__SANITIZE_THREAD__)
#define CRYPTCOM_ZMQ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CRYPTCOM_ZMQ_TSAN 1
#endif
#endif

namespace cryptcom::zmq::detail {

#if defined(CRYPTCOM_ZMQ_TSAN)
inline std::atomic<std::uint64_t> handover_counter{0};
inline void handover_release() noexcept {
  handover_counter.fetch_add(1, std::memory_order_release);
}
inline void handover_acquire() noexcept { (void)handover_counter.load(std::memory_order_acquire); }
#else
inline void handover_release() noexcept {}
inline void handover_acquire() noexcept {}
#endif

}  // namespace cryptcom::zmq::detail
