// A messaging_system made from a socket policy (see zmq_loops.hpp): the policy says how sockets
// are made, the shared loops do the measuring. Adding a system is writing a policy and listing
// pattern_system<policy> in a make_*_systems() function. Not thread-safe, like the interface.
#pragma once

#include <string>
#include <utility>

#include "system.hpp"
#include "zmq_loops.hpp"

namespace cryptcom::bench {

template <class Policy>
class pattern_system final : public messaging_system {
 public:
  pattern_system(std::string name, Policy policy)
      : name_(std::move(name)), policy_(std::move(policy)) {}

  [[nodiscard]] std::string name() const override { return name_; }

  [[nodiscard]] throughput_sample one_way(std::size_t size, int peers,
                                          const run_bounds& bounds) override {
    return measure_one_way(policy_, size, peers, bounds);
  }

  [[nodiscard]] latency_sample round_trip(std::size_t size, const run_bounds& bounds) override {
    return measure_round_trip(policy_, size, bounds);
  }

 private:
  std::string name_;
  Policy policy_;
};

}  // namespace cryptcom::bench
