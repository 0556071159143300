// A messaging_system made from a socket policy (see zmq_loops.hpp): the policy says how sockets
// are made, the shared loops do the measuring. Adding a system is writing a policy and listing
// pattern_system<policy> in a make_*_systems() function. Not thread-safe, like the interface.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "pipeline_loop.hpp"
#include "pubsub_loop.hpp"
#include "system.hpp"
#include "zmq_loops.hpp"

namespace cryptcom::bench {

// Which measurements a pattern_system takes part in: one-way and REQ/REP (both, or one of
// them), or PUSH/PULL alone, or PUB/SUB fan-out alone.
enum class pattern : unsigned char {
  both,
  one_way_only,
  round_trip_only,
  pipeline_only,
  fan_out_only
};

template <class Policy>
class pattern_system final : public messaging_system {
 public:
  pattern_system(std::string name, Policy policy, pattern which = pattern::both)
      : name_(std::move(name)), policy_(std::move(policy)), which_(which) {}

  [[nodiscard]] std::string name() const override { return name_; }

  [[nodiscard]] throughput_sample one_way(std::size_t size, int peers,
                                          const run_bounds& bounds) override {
    if (!has_one_way()) return messaging_system::one_way(size, peers, bounds);
    return measure_one_way(policy_, size, peers, bounds);
  }

  [[nodiscard]] latency_sample round_trip(std::size_t size, const run_bounds& bounds) override {
    if (!has_round_trip()) return messaging_system::round_trip(size, bounds);
    return measure_round_trip(policy_, size, bounds);
  }

  [[nodiscard]] throughput_sample pipeline(std::size_t size, int workers,
                                           const run_bounds& bounds) override {
    if (!has_pipeline()) return messaging_system::pipeline(size, workers, bounds);
    return measure_pipeline(policy_, size, workers, bounds);
  }

  [[nodiscard]] std::vector<fan_out_sample> fan_out(const std::vector<std::size_t>& sizes,
                                                    int subscribers,
                                                    const run_bounds& bounds) override {
    if (!has_fan_out()) return messaging_system::fan_out(sizes, subscribers, bounds);
    return measure_fan_out(policy_, sizes, subscribers, bounds);
  }

  [[nodiscard]] bool has_one_way() const override {
    return which_ == pattern::both || which_ == pattern::one_way_only;
  }
  [[nodiscard]] bool has_round_trip() const override {
    return which_ == pattern::both || which_ == pattern::round_trip_only;
  }
  [[nodiscard]] bool has_pipeline() const override { return which_ == pattern::pipeline_only; }
  [[nodiscard]] bool has_fan_out() const override { return which_ == pattern::fan_out_only; }

 private:
  std::string name_;
  Policy policy_;
  pattern which_;
};

}  // namespace cryptcom::bench
