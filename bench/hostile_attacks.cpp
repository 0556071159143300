#include "hostile_attacks.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "attacker/floods.hpp"
#include "attacker/forge.hpp"
#include "attacker/key_hoarder.hpp"
#include "attacker/raw_peer.hpp"
#include "attacker/speaker.hpp"

namespace cryptcom::bench {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using hostile::bytes;
using hostile::echo_server;
using hostile::raw_peer;

// How long an attack may take to be in force (65,536 forged peers, 65,536 hoarded keys).
constexpr auto setup_limit = 60s;

std::uint64_t wire_read(const echo_server& target) {
  return target.stats().transport.wire_messages_received;
}

// Waits (polling the target's stats, less often as time goes: each poll copies every peer's
// counters on the target's I/O thread) until it has read `frames` wire messages more than
// `before`. Throws when it has not within setup_limit.
void wait_read(const echo_server& target, std::uint64_t before, std::uint64_t frames,
               const std::string& what) {
  const auto deadline = clock_type::now() + setup_limit;
  auto pause = 5ms;
  for (std::uint64_t read = 0; (read = wire_read(target)) < before + frames;) {
    if (clock_type::now() >= deadline) {
      throw std::runtime_error(what + ": the target read " + std::to_string(read - before) +
                               " of the attack's " + std::to_string(frames) + " frames in 60 s");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 3 / 2, std::chrono::milliseconds(200));
  }
}

std::string megabytes(std::uint64_t count) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(count) / 1e6);
  return text;
}

// What the body of a threaded attack is given.
struct attack_control {
  const std::atomic<bool>& stop;   // stop sending
  const std::atomic<bool>& close;  // close the connections and return
  std::promise<void>& ready;       // fulfil once the attack is in force
  std::atomic<std::uint64_t>& frames;
  std::atomic<std::uint64_t>& bytes;

  // Keeps the caller's connections open until the attack is closed.
  void hold() const {
    while (!close) std::this_thread::sleep_for(10ms);
  }
};

// An attack that runs on a thread of its own. `body` sends until `stop`, then holds its
// connections until `close`; it fulfils `ready` once the attack is in force (or throws the
// reason it cannot be).
class threaded_attack : public running_attack {
 public:
  using body_type = std::function<void(const attack_control&)>;
  explicit threaded_attack(body_type body) {
    std::promise<void> ready;
    auto in_force = ready.get_future();
    thread_ = std::thread([this, body = std::move(body), ready = std::move(ready)]() mutable {
      const attack_control control{stop_, close_, ready, frames_, bytes_};
      try {
        body(control);
      } catch (...) {
        try {
          ready.set_exception(std::current_exception());
        } catch (const std::future_error&) {
          // Already in force: the attack ended on its own; the rows say what it did.
        }
      }
    });
    try {
      in_force.get();
    } catch (...) {
      stop_ = close_ = true;
      thread_.join();
      throw;
    }
  }
  ~threaded_attack() override {
    stop_ = close_ = true;
    thread_.join();
  }
  void stop() override { stop_ = true; }
  std::string tally() const override {
    return std::to_string(frames_.load()) + " frames, " + megabytes(bytes_.load());
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> close_{false};
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::thread thread_;
};

// Finding 1: the attacker sends a 64 KiB request with a reply key of its own, opens the echo, and
// from then on rejects the echo's key with a block of 1,024 `authentication_failed` every 100 ms.
std::unique_ptr<running_attack> forged_rejections(echo_server& target) {
  const std::string endpoint = target.endpoint();
  return std::make_unique<threaded_attack>([endpoint](const attack_control& c) {
    ::zmq::context_t ctx;
    auto wire = raw_peer::dealer(ctx, endpoint, "amplifier");
    hostile::speaker s(wire);
    if (s.obtain_keys(4, 1, 5s) == 0) throw std::runtime_error("the target offered no key");
    const std::vector<std::string> request{std::string(64 * 1024, 'r')};
    if (!s.send_sealed(request, true)) throw std::runtime_error("the request did not go out");
    const auto echo = s.receive_data(5s);
    if (!echo) throw std::runtime_error("no echo to reject: " + s.last_error());
    const bytes block = hostile::rejections(s.instance(), echo->key_id, errc::authentication_failed,
                                            hostile::max_rejections_per_block);
    c.ready.set_value();
    while (!c.stop) {
      if (s.send(block, 50ms)) {
        ++c.frames;
        c.bytes += block.size();
      }
      for (int i = 0; i < 10 && !c.stop; ++i) std::this_thread::sleep_for(10ms);
    }
    c.hold();
  });
}

class hoarding : public running_attack {
 public:
  hoarding(echo_server& target, int connections, int paths)
      : before_(wire_read(target)), hoarder_(target.endpoint(), connections, paths) {
    const auto deadline = clock_type::now() + setup_limit;
    while (hoarder_.first_round() < hoarder_.asks()) {
      if (clock_type::now() >= deadline) {
        throw std::runtime_error("the hoarders' first round did not go out within 60 s");
      }
      std::this_thread::sleep_for(10ms);
    }
    wait_read(target, before_, hoarder_.asks(), "key hoarding");
  }
  void stop() override { hoarder_.stop_asking(); }
  std::string tally() const override {
    return std::to_string(hoarder_.asks()) + " paths asking for 2^32-1 keys every 0.5 s";
  }

 private:
  std::uint64_t before_;
  hostile::key_hoarder hoarder_;
};

// Findings 3 and 4: `connections` connections of `paths` forged paths each, every path one empty
// control block (a new peer that only announces an instance), the connections then kept open.
std::unique_ptr<running_attack> forged_peers(echo_server& target, int connections, int paths) {
  const std::string endpoint = target.endpoint();
  const std::uint64_t before = wire_read(target);
  auto attack =
      std::make_unique<threaded_attack>([endpoint, connections, paths](const attack_control& c) {
        ::zmq::context_t ctx;
        std::vector<raw_peer> wires;
        for (int n = 0; n < connections && !c.stop; ++n) {
          wires.push_back(raw_peer::dealer(ctx, endpoint, "forger-" + std::to_string(n)));
          const auto t = hostile::flood_paths(
              wires.back(), 0, static_cast<std::uint64_t>(paths),
              [](std::uint64_t) { return hostile::key_request(hostile::random_guid(), 0); });
          c.frames += t.frames;
          c.bytes += t.bytes;
        }
        c.ready.set_value();
        c.hold();
      });
  wait_read(target, before,
            static_cast<std::uint64_t>(connections) * static_cast<std::uint64_t>(paths),
            "forged peers");
  return attack;
}

// Finding 5 and 7 and the garbage floods: one connection at full rate until stopped.
std::unique_ptr<running_attack> flood(echo_server& target, hostile::flood_kind kind) {
  const std::string endpoint = target.endpoint();
  return std::make_unique<threaded_attack>([endpoint, kind](const attack_control& c) {
    ::zmq::context_t ctx;
    const std::string id(hostile::name_of(kind));
    auto wire = raw_peer::dealer(ctx, endpoint, id);
    std::vector<wire::offered_key> keys;
    if (kind == hostile::flood_kind::failed_opens) {
      hostile::speaker s(wire);
      if (s.obtain_keys(64, 64, 5s) < 64) throw std::runtime_error("the target offered no keys");
      keys.assign(s.target_keys().begin(), s.target_keys().end());
    }
    const auto maker = hostile::make_flood(kind, std::move(keys));
    c.ready.set_value();
    hostile::flood_bounds bounds;
    bounds.duration = std::chrono::hours(1);
    bounds.stop = &c.stop;
    // In slices, so that the tally moves while the flood runs.
    while (!c.stop) {
      bounds.max_frames = 1000;
      const auto t = hostile::flood(wire, {}, maker, bounds);
      c.frames += t.frames;
      c.bytes += t.bytes;
    }
    c.hold();
  });
}

}  // namespace

std::vector<hostile_attack> hostile_attacks() {
  using hostile::flood_kind;
  std::vector<hostile_attack> attacks;
  attacks.push_back({"forged-rejections", "1",
                     "a 64 KiB echo rejected by 1,024 duplicate authentication_failed every 100 ms",
                     false, forged_rejections});
  attacks.push_back({"key-hoard-64", "2", "64 connections asking for 2^32-1 keys every 0.5 s", true,
                     [](echo_server& t) { return std::make_unique<hoarding>(t, 64, 0); }});
  attacks.push_back({"key-hoard-paths", "2",
                     "20,000 forged paths of one connection asking for 2^32-1 keys every 0.5 s",
                     true, [](echo_server& t) { return std::make_unique<hoarding>(t, 1, 20000); }});
  attacks.push_back({"forged-peers", "3", "65,536 forged paths from one connection", true,
                     [](echo_server& t) { return forged_peers(t, 1, 65536); }});
  attacks.push_back({"idle-peers", "4", "60,000 idle peers (60 connections x 1,000 paths)", false,
                     [](echo_server& t) { return forged_peers(t, 60, 1000); }});
  attacks.push_back({"instance-churn", "5",
                     "a new instance id asking for 2^32-1 keys on every frame, full rate", false,
                     [](echo_server& t) { return flood(t, flood_kind::instance_churn); }});
  attacks.push_back({"failed-opens", "7", "random enc to 64 live keys, full rate", false,
                     [](echo_server& t) { return flood(t, flood_kind::failed_opens); }});
  attacks.push_back({"malformed", "-", "random bytes of 1 to 256, full rate", false,
                     [](echo_server& t) { return flood(t, flood_kind::malformed); }});
  attacks.push_back({"random-guids", "-", "data frames to random key ids, full rate", false,
                     [](echo_server& t) { return flood(t, flood_kind::random_guids); }});
  return attacks;
}

}  // namespace cryptcom::bench
