// The wipes the transport applies to plaintext it drops instead of handing it over (a delivery
// while the socket closes, a REQ's unexpected reply, deliveries and messages left when the I/O
// thread stops). Those drop paths free the memory right after, so a test of the whole socket
// cannot look at it; the helpers they all call are checked here, and in_place_test.cpp shows a
// frame opened in place and dropped while closing coming back wiped.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "wire_message.hpp"

namespace cryptcom::zmq::detail {
namespace {

bool all_zero(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  return std::all_of(p, p + size, [](unsigned char c) { return c == 0; });
}

TEST(zmq_wipe, a_dropped_delivery_s_plaintext_is_zeroed) {
  delivery d;
  const std::string text = "secret part one|secret part two";
  d.payload.assign(text.begin(), text.end());
  d.parts = {byte_view(d.payload.data(), 15), byte_view(d.payload.data() + 16, 15)};
  wipe(d);
  EXPECT_TRUE(all_zero(d.payload.data(), d.payload.size()));
  for (byte_view p : d.parts) EXPECT_TRUE(all_zero(p.data(), p.size()));
  delivery in_place;  // opened in place: no payload of its own, nothing to do here
  wipe(in_place);
}

TEST(zmq_wipe, dropped_messages_built_from_plaintext_are_zeroed_small_and_large) {
  std::vector<::zmq::message_t> parts;
  for (std::size_t n :
       {std::size_t{0}, std::size_t{5}, std::size_t{33}, std::size_t{34}, std::size_t{100000}}) {
    const auto bytes = test::random_bytes(n);
    parts.emplace_back(bytes.data(), bytes.size());
  }
  ASSERT_FALSE(all_zero(parts[4].data(), parts[4].size()));
  wipe(parts);
  for (const auto& m : parts) EXPECT_TRUE(all_zero(m.data(), m.size())) << m.size();
}

}  // namespace
}  // namespace cryptcom::zmq::detail
