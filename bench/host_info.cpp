#include "host_info.hpp"

#include <sched.h>
#include <sodium.h>
#include <zmq.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string_view>
#include <thread>

#ifndef CRYPTCOM_BENCH_VERSION
#define CRYPTCOM_BENCH_VERSION "unknown"
#endif

namespace cryptcom::bench {
namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(text, length);
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  // The first processor's block holds the model name within a few dozen lines.
  for (int i = 0; i < 1000 && std::getline(cpuinfo, line); ++i) {
    if (!line.starts_with("model name")) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    auto value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    return first == std::string::npos ? "unknown" : value.substr(first);
  }
  return "unknown";
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

std::string shell_quoted(std::string_view arg) {
  constexpr std::string_view plain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+%@";
  if (!arg.empty() && arg.find_first_not_of(plain) == std::string_view::npos) {
    return std::string(arg);
  }
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string load_average() {
  std::ifstream loadavg("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(loadavg >> one >> five >> fifteen)) return "unknown";
  return one + " " + five + " " + fifteen;
}

}  // namespace

host_info collect_host_info(const std::vector<std::string>& argv, bool cryptcom_rows) {
  host_info info;
  info.date = utc_now();
  info.cpu = cpu_model();
  info.cores = usable_cores();
  info.limit_threads = info.cores > 1 ? info.cores : 1;
  int major = 0, minor = 0, patch = 0;
  zmq_version(&major, &minor, &patch);
  info.libzmq = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  info.libsodium = sodium_version_string();
  info.load_average = load_average();
  info.cryptcom = CRYPTCOM_BENCH_VERSION;
  if (!cryptcom_rows) info.cryptcom += " (no cryptcom rows)";
  for (const auto& arg : argv) {
    if (!info.command.empty()) info.command += ' ';
    info.command += shell_quoted(arg);
  }
  return info;
}

}  // namespace cryptcom::bench
