// Helpers of the publish/subscribe tests (docs/PROTOCOL.md §11.8): getting past the late-joiner
// window before a test counts what its subscribers receive.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {

// Publishes `topic + "ready"` on every topic until each subscriber has received one, so that
// every subscription set has reached the publisher (a late joiner misses what came before).
inline void wait_until_subscribed(socket& pub, std::vector<socket*> subs,
                                  const std::vector<std::string>& topics) {
  using namespace std::chrono_literals;
  std::vector<bool> ready(subs.size(), false);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (auto* s : subs) s->set(::zmq::sockopt::rcvtimeo, 10);
  while (std::chrono::steady_clock::now() < deadline &&
         std::find(ready.begin(), ready.end(), false) != ready.end()) {
    for (const auto& t : topics) ASSERT_TRUE(send_strings(pub, {t + "ready"}));
    for (std::size_t i = 0; i < subs.size(); ++i) {
      while (auto got = recv_strings(*subs[i])) {
        if (got->front().ends_with("ready")) ready[i] = true;
      }
    }
  }
  for (std::size_t i = 0; i < subs.size(); ++i) ASSERT_TRUE(ready[i]) << "subscriber " << i;
  // What is still on its way is read and dropped.
  std::this_thread::sleep_for(100ms);
  for (auto* s : subs) {
    while (recv_strings(*s)) {
    }
    s->set(::zmq::sockopt::rcvtimeo, io_timeout_ms);
  }
}

}  // namespace cryptcom::zmq::test
