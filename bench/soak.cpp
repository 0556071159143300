#include "soak.hpp"

#include "memory_usage.hpp"

namespace cryptcom::bench {

soak_result run_soak(messaging_system& system, std::size_t size, std::chrono::milliseconds duration,
                     std::chrono::milliseconds io_timeout, std::chrono::milliseconds sample_every) {
  soak_result result;
  run_bounds bounds;
  bounds.window = duration;
  bounds.max_messages = std::uint64_t{1} << 40;  // the window ends it
  bounds.io_timeout = io_timeout;
  bounds.progress_every = sample_every;
  bounds.on_progress = [&result](double seconds, std::uint64_t messages) {
    if (const auto rss = resident_bytes()) result.samples.push_back({seconds, *rss, messages});
  };
  result.msgs_per_s = system.one_way(size, 1, bounds).msgs_per_s;
  return result;
}

}  // namespace cryptcom::bench
