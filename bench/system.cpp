#include "system.hpp"

#include <stdexcept>

namespace cryptcom::bench {
namespace {

[[noreturn]] void not_measured(const messaging_system& system, const char* measurement) {
  throw std::logic_error(system.name() + " takes no part in the " + measurement + " measurement");
}

}  // namespace

throughput_sample messaging_system::one_way(std::size_t, int, const run_bounds&) {
  not_measured(*this, "one-way");
}

latency_sample messaging_system::round_trip(std::size_t, const run_bounds&) {
  not_measured(*this, "REQ/REP");
}

throughput_sample messaging_system::pipeline(std::size_t, int, const run_bounds&) {
  not_measured(*this, "PUSH/PULL");
}

std::vector<broker_sample> messaging_system::broker(const std::vector<std::size_t>&,
                                                    const broker_shape&, const run_bounds&) {
  not_measured(*this, "broker");
}

std::vector<fan_out_sample> messaging_system::fan_out(const std::vector<std::size_t>&, int,
                                                      const run_bounds&) {
  not_measured(*this, "PUB/SUB");
}

}  // namespace cryptcom::bench
