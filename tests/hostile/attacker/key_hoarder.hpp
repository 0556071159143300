// key_hoarder: issue 9's finding 2 as an attack that runs in the background: `connections` raw
// DEALERs, each with `paths` forged routing paths (0: just the connection), every path asking
// the target for all the keys it can (wanted = 2^32-1), then asking again every `every` with the
// same instance id (so it is no restart) until stop_asking() or destruction; the connections stay
// open until destruction.
// Thread-safety: the public members may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace cryptcom::hostile {

class key_hoarder {
 public:
  key_hoarder(const std::string& endpoint, int connections, int paths,
              std::chrono::milliseconds every = std::chrono::milliseconds(500));
  ~key_hoarder();
  key_hoarder(const key_hoarder&) = delete;
  key_hoarder& operator=(const key_hoarder&) = delete;

  // Stops asking; the connections stay open (their peers and the keys granted to them stay).
  void stop_asking() noexcept { quiet_ = true; }
  // Requests the first round put on the wire: connections * max(paths, 1) once it is complete.
  std::uint64_t first_round() const noexcept { return first_round_.load(); }
  std::uint64_t asks() const noexcept { return asks_; }
  // The routing id of connection `c` ("hoarder-<c>").
  static std::string routing_id(int c) { return "hoarder-" + std::to_string(c); }

 private:
  void run(const std::string& endpoint, int connections, int paths,
           std::chrono::milliseconds every);

  std::uint64_t asks_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> quiet_{false};
  std::atomic<std::uint64_t> first_round_{0};
  std::thread thread_;
};

}  // namespace cryptcom::hostile
