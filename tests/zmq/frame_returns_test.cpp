// frame_returns: large frames' buffers on their way back from libzmq's thread to the engine's.
// A real ZeroMQ message closed on another thread puts its buffer back; at most 256 buffers and
// 16 MiB wait.
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "wire_message.hpp"

namespace cryptcom::zmq::detail {
namespace {

TEST(frame_returns, a_large_frame_s_buffer_comes_back_when_libzmq_is_done_with_it) {
  auto returns = std::make_shared<frame_returns>();
  std::vector<byte> frame(zero_copy_threshold + 1, 7);
  const byte* bytes = frame.data();
  ::zmq::message_t m = frame_message(std::move(frame), returns);
  EXPECT_EQ(m.data(), static_cast<const void*>(bytes)) << "handed over without a copy";
  EXPECT_TRUE(returns->take().empty()) << "still in use";
  std::thread([m = std::move(m)]() mutable { m = ::zmq::message_t(); }).join();
  auto back = returns->take();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].data(), bytes);
  EXPECT_TRUE(returns->take().empty());

  ::zmq::message_t small = frame_message(std::vector<byte>(16, 1), returns);
  small = ::zmq::message_t();
  EXPECT_TRUE(returns->take().empty()) << "a small frame is copied: nothing to give back";
}

TEST(frame_returns, at_most_256_buffers_and_16_mib_wait_and_the_rest_are_freed) {
  auto returns = std::make_shared<frame_returns>();
  for (int i = 0; i < 300; ++i) returns->put(std::vector<byte>(zero_copy_threshold));
  EXPECT_EQ(returns->take().size(), 256u);
  EXPECT_TRUE(returns->take().empty());
  for (int i = 0; i < 5; ++i) returns->put(std::vector<byte>(5u << 20));
  EXPECT_EQ(returns->take().size(), 3u) << "15 MiB; a fourth would pass 16";
}

}  // namespace
}  // namespace cryptcom::zmq::detail
