// A messaging_system made from a socket policy (see zmq_loops.hpp): the policy says how sockets
// are made, the shared loops do the measuring. Adding a system is writing a policy and listing
// pattern_system<policy> in a make_*_systems() function. Not thread-safe, like the interface.
#pragma once

#include <string>
#include <utility>

#include "system.hpp"
#include "zmq_loops.hpp"

namespace cryptcom::bench {

// Which measurements a pattern_system takes part in.
enum class pattern : unsigned char { both, one_way_only, round_trip_only };

template <class Policy>
class pattern_system final : public messaging_system {
 public:
  pattern_system(std::string name, Policy policy, pattern which = pattern::both)
      : name_(std::move(name)), policy_(std::move(policy)), which_(which) {}

  [[nodiscard]] std::string name() const override { return name_; }

  [[nodiscard]] throughput_sample one_way(std::size_t size, int peers,
                                          const run_bounds& bounds) override {
    return measure_one_way(policy_, size, peers, bounds);
  }

  [[nodiscard]] latency_sample round_trip(std::size_t size, const run_bounds& bounds) override {
    return measure_round_trip(policy_, size, bounds);
  }

  [[nodiscard]] bool has_one_way() const override { return which_ != pattern::round_trip_only; }
  [[nodiscard]] bool has_round_trip() const override { return which_ != pattern::one_way_only; }

 private:
  std::string name_;
  Policy policy_;
  pattern which_;
};

}  // namespace cryptcom::bench
