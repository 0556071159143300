#include "attacker/key_hoarder.hpp"

#include <vector>
#include <zmq.hpp>

#include "attacker/forge.hpp"
#include "attacker/raw_peer.hpp"

namespace cryptcom::hostile {

using namespace std::chrono_literals;

key_hoarder::key_hoarder(const std::string& endpoint, int connections, int paths,
                         std::chrono::milliseconds every)
    : asks_(static_cast<std::uint64_t>(connections) *
            static_cast<std::uint64_t>(paths == 0 ? 1 : paths)),
      thread_([this, endpoint, connections, paths, every] {
        run(endpoint, connections, paths, every);
      }) {}

key_hoarder::~key_hoarder() {
  stop_ = true;
  thread_.join();
}

void key_hoarder::run(const std::string& endpoint, int connections, int paths,
                      std::chrono::milliseconds every) {
  ::zmq::context_t ctx;
  std::vector<raw_peer> wires;
  for (int c = 0; c < connections; ++c) {
    wires.push_back(raw_peer::dealer(ctx, endpoint, routing_id(c)));
  }
  const int per = paths == 0 ? 1 : paths;
  // One request per path, each from an instance of its own, sent again unchanged.
  std::vector<bytes> asks;
  asks.reserve(static_cast<std::size_t>(connections * per));
  for (int i = 0; i < connections * per; ++i) asks.push_back(key_request(random_guid(), all_keys));
  std::uint64_t sent = 0;
  for (bool first = true; !stop_; first = false) {
    for (int c = 0; c < connections && !stop_ && !quiet_; ++c) {
      for (int p = 0; p < per && !stop_ && !quiet_; ++p) {
        std::vector<std::string> path;
        if (paths > 0) path.push_back(forged_path_frame(static_cast<std::uint64_t>(p)));
        const auto& ask = asks[static_cast<std::size_t>(c * per + p)];
        // A target slow to read (generating the keys it granted) only delays the hoarder.
        while (!stop_ && !wires[static_cast<std::size_t>(c)].send(path, ask, 100ms)) {
        }
        ++sent;
      }
    }
    if (first) first_round_ = sent;
    const auto until = std::chrono::steady_clock::now() + every;
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

}  // namespace cryptcom::hostile
