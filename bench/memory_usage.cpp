#include "memory_usage.hpp"

#include <malloc.h>

#include <charconv>
#include <fstream>
#include <string>
#include <string_view>

namespace cryptcom::bench {

std::optional<std::int64_t> resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  constexpr std::string_view key = "VmRSS:";
  // /proc/self/status has a few dozen lines; the bound guards against a surprising file.
  for (int i = 0; i < 200 && std::getline(status, line); ++i) {
    if (!line.starts_with(key)) continue;
    std::string_view rest(line);
    rest.remove_prefix(key.size());
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    std::int64_t kib = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
    if (ec != std::errc{} || std::string_view(end, rest.data() + rest.size()) != " kB") {
      return std::nullopt;
    }
    return kib * 1024;
  }
  return std::nullopt;
}

void release_free_memory() { malloc_trim(0); }

}  // namespace cryptcom::bench
