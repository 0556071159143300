#include "attacker/thread_cpu.hpp"

#include <dirent.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace cryptcom::hostile {

int current_thread_id() { return static_cast<int>(::syscall(SYS_gettid)); }

std::vector<int> process_threads() {
  std::vector<int> tids;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (const dirent* e = ::readdir(dir)) {
    const int tid = std::atoi(e->d_name);
    if (tid > 0) tids.push_back(tid);
  }
  ::closedir(dir);
  std::sort(tids.begin(), tids.end());
  return tids;
}

std::vector<int> new_threads(std::span<const int> before, std::span<const int> after) {
  std::vector<int> out;
  for (int t : after) {
    if (std::find(before.begin(), before.end(), t) == before.end()) out.push_back(t);
  }
  return out;
}

std::optional<double> thread_cpu_seconds(int tid) {
  // The kernel's per-thread CPU clock of any thread of this process, in nanoseconds: the clock id
  // glibc's pthread_getcpuclockid builds ((~tid << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED),
  // made from a thread id since the threads measured are not all ours (libzmq's, the pool's).
  const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 4u | 2u);
  timespec ts{};
  if (::clock_gettime(clock, &ts) == 0) {
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  // Elsewhere (or when the clock is refused), /proc in clock ticks (10 ms).
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: fields count from the
  // last ')'. utime and stime are fields 14 and 15, i.e. the 12th and 13th after it.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 1; i <= 13 && rest >> field; ++i) {
    if (i == 12) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 13) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  static const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return static_cast<double>(utime + stime) / tick;
}

double cpu_seconds(std::span<const int> tids) {
  double sum = 0;
  for (int t : tids) sum += thread_cpu_seconds(t).value_or(0.0);
  return sum;
}

}  // namespace cryptcom::hostile
