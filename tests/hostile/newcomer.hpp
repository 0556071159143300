// newcomer: a client that connects while an attack is on and times how long it takes to get its
// first echo: issue 9's "a new client gets its first echo within 1 s".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "attacker/served_client.hpp"
#include "cryptcom/zmq/socket_options.hpp"

namespace cryptcom::hostile::test {

// From connect to the first echo of a 64-byte message; nothing within `timeout`.
inline std::optional<std::chrono::milliseconds> first_echo(
    const std::string& endpoint, const cryptcom::zmq::socket_options& options,
    std::chrono::milliseconds timeout) {
  ::zmq::context_t ctx;
  const auto start = std::chrono::steady_clock::now();
  served_client client(ctx, endpoint, options);
  if (!client.round_trip(64, timeout)) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

}  // namespace cryptcom::hostile::test
