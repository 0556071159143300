// A deterministic simulated network for engines: virtual time, a seeded random source, and
// configurable loss, duplication, reordering and delay. Endpoints can be restarted (a new engine
// with a new instance replaces the old one, losing all its state), like a process that crashed.
// Everything is driven by one seed, so a failing scenario replays exactly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cryptcom/engine.hpp"

namespace cryptcom::sim {

struct network_faults {
  double loss = 0.0;       // probability a frame is dropped
  double duplicate = 0.0;  // probability a frame is delivered twice
  double tamper = 0.0;     // probability one byte of a frame is flipped
  duration min_delay = std::chrono::milliseconds(1);
  duration max_delay = std::chrono::milliseconds(5);  // spread = reordering
};

struct in_flight {
  time_point arrives;
  std::uint64_t order;  // tie-break, keeps the queue deterministic
  std::size_t from;
  std::size_t to;
  std::vector<byte> frame;
  bool carries_data;
};

// One endpoint: an engine plus the deterministic sources it runs on.
struct endpoint {
  std::unique_ptr<key_source> keys;
  std::unique_ptr<random_source> random;
  std::unique_ptr<engine> eng;
  std::uint64_t generation = 0;  // restarts so far
};

class network {
 public:
  network(std::uint64_t seed, std::size_t endpoints, const options& opts, network_faults faults)
      : rng_(seed),
        seed_(seed),
        opts_(opts),
        faults_(faults),
        now_(time_point{} + std::chrono::hours(1)) {
    for (std::size_t i = 0; i < endpoints; ++i) {
      endpoints_.emplace_back();
      start(i);
    }
  }

  time_point now() const { return now_; }
  engine& at(std::size_t i) { return *endpoints_[i].eng; }
  std::size_t size() const { return endpoints_.size(); }
  network_faults& faults() { return faults_; }

  // Replaces endpoint i by a fresh engine: all its keys and queues are gone.
  void restart(std::size_t i) {
    ++endpoints_[i].generation;
    start(i);
  }

  // Moves every frame the engines want to send into the network, applying faults.
  void collect() {
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      while (auto t = endpoints_[i].eng->poll_transmit()) {
        ++frames_sent_;
        if (t->carries_data) ++data_frames_sent_;
        const std::size_t to = static_cast<std::size_t>(t->peer);
        if (chance(faults_.loss)) continue;
        int copies = chance(faults_.duplicate) ? 2 : 1;
        for (int c = 0; c < copies; ++c) {
          in_flight f{now_ + delay(), order_++, i, to, t->frame, t->carries_data};
          // Only data frames are tampered with: they are the ones the protocol authenticates.
          // Control frames are not integrity-protected in base mode (docs/ARCHITECTURE.md).
          if (t->carries_data && chance(faults_.tamper) && !f.frame.empty()) {
            std::uniform_int_distribution<std::size_t> pos(0, f.frame.size() - 1);
            f.frame[pos(rng_)] ^= static_cast<byte>(1u << (rng_() % 8));
          }
          flight_.push_back(std::move(f));
        }
      }
    }
  }

  // Advances virtual time to the next frame arrival or engine timer (at most `limit`), then
  // delivers what is due and fires timers. Returns false if nothing was pending before `limit`.
  bool step(time_point limit) {
    collect();
    std::optional<time_point> next;
    for (const auto& f : flight_) {
      if (!next || f.arrives < *next) next = f.arrives;
    }
    for (auto& e : endpoints_) {
      if (auto t = e.eng->poll_timeout(); t && (!next || *t < *next)) next = *t;
    }
    if (!next || *next > limit) {
      now_ = std::max(now_, limit);
      tick_all();
      return false;
    }
    now_ = std::max(now_, *next);
    deliver_due();
    tick_all();
    collect();
    return true;
  }

  // Runs until `limit`. Returns false if the engines asked to be woken at a time that had
  // already passed more than `max_stalls` times in a row: a timer that never clears (livelock).
  bool run_until(time_point limit, int max_stalls = 10000) {
    int stalls = 0;
    time_point last = now_;
    while (step(limit)) {
      stalls = now_ == last ? stalls + 1 : 0;
      last = now_;
      if (stalls > max_stalls) {
        livelocked_ = true;
        return false;
      }
    }
    return true;
  }
  bool livelocked() const { return livelocked_; }

  bool run_for(duration d) { return run_until(now_ + d); }

  // Every frame that was put on the wire, for replay tests.
  const std::vector<in_flight>& delivered_data_frames() const { return delivered_data_; }

  std::uint64_t frames_sent() const { return frames_sent_; }
  std::uint64_t data_frames_sent() const { return data_frames_sent_; }
  std::uint64_t seed() const { return seed_; }

  bool chance(double p) {
    if (p <= 0.0) return false;
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  void start(std::size_t i) {
    auto& e = endpoints_[i];
    const std::uint64_t s = seed_ * 1000003 + i * 7919 + e.generation * 104729;
    e.keys = make_deterministic_key_source(s);
    e.random = make_deterministic_random(s ^ 0x5eed);
    e.eng = std::make_unique<engine>(opts_, *e.keys, *e.random, now_);
  }

  duration delay() {
    const auto lo = faults_.min_delay.count();
    const auto hi = std::max(lo, faults_.max_delay.count());
    return duration(std::uniform_int_distribution<duration::rep>(lo, hi)(rng_));
  }

  void deliver_due() {
    // Deliver in arrival order; frames added while delivering wait for the next step.
    std::vector<in_flight> due;
    std::vector<in_flight> later;
    for (auto& f : flight_) (f.arrives <= now_ ? due : later).push_back(std::move(f));
    flight_ = std::move(later);
    std::sort(due.begin(), due.end(), [](const in_flight& a, const in_flight& b) {
      return a.arrives != b.arrives ? a.arrives < b.arrives : a.order < b.order;
    });
    for (auto& f : due) {
      (void)endpoints_[f.to].eng->receive(f.from, f.frame, now_);
      if (f.carries_data) delivered_data_.push_back(f);
    }
  }

  void tick_all() {
    for (auto& e : endpoints_) e.eng->tick(now_);
  }

  std::mt19937_64 rng_;
  std::uint64_t seed_;
  options opts_;
  network_faults faults_;
  time_point now_;
  std::vector<endpoint> endpoints_;
  std::vector<in_flight> flight_;
  std::vector<in_flight> delivered_data_;
  std::uint64_t order_ = 0;
  bool livelocked_ = false;
  std::uint64_t frames_sent_ = 0;
  std::uint64_t data_frames_sent_ = 0;
};

}  // namespace cryptcom::sim
