// A messaging_system of the broker rows made from a broker policy (see broker_loop.hpp): the
// policy says how clients, workers and the broker are made, the shared loop does the measuring.
// Not thread-safe, like the interface.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "broker_loop.hpp"
#include "system.hpp"

namespace cryptcom::bench {

template <class Policy>
class broker_system final : public messaging_system {
 public:
  broker_system(std::string name, Policy policy)
      : name_(std::move(name)), policy_(std::move(policy)) {}

  [[nodiscard]] std::string name() const override { return name_; }

  [[nodiscard]] std::vector<broker_sample> broker(const std::vector<std::size_t>& sizes,
                                                  const broker_shape& shape,
                                                  const run_bounds& bounds) override {
    return measure_broker(policy_, sizes, shape, bounds);
  }

  [[nodiscard]] bool has_broker() const override { return true; }

 private:
  std::string name_;
  Policy policy_;
};

}  // namespace cryptcom::bench
