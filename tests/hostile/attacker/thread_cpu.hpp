// thread_cpu: CPU time of individual threads of this process, by thread id: the kernel's
// per-thread CPU clock (nanoseconds), or /proc/self/task/<tid>/stat (clock ticks, usually 10 ms)
// where that clock is refused. This is how the target's CPU is told apart from the attacker's and
// the served client's when all three run in one process: the target's threads are the ones its
// construction started.
// Linux only. Thread-safety: free functions, reentrant.
#pragma once

#include <optional>
#include <span>
#include <vector>

namespace cryptcom::hostile {

// The kernel thread id of the calling thread.
int current_thread_id();
// Every thread of this process now.
std::vector<int> process_threads();
// The threads in `after` that are not in `before`.
std::vector<int> new_threads(std::span<const int> before, std::span<const int> after);
// CPU seconds (user + system) of one thread; nothing when it is gone.
std::optional<double> thread_cpu_seconds(int tid);
// The sum over `tids`, those that are gone counting 0.
double cpu_seconds(std::span<const int> tids);

}  // namespace cryptcom::hostile
