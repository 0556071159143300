// High-water marks set after construction (construct, then set: how cppzmq code is written)
// bound the socket without ever wedging a sustained stream, whatever their value.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;

TEST(zmq_high_water_mark, a_stream_many_times_longer_than_a_low_mark_flows_to_the_end) {
  for (int hwm : {1, 16, 200, 999, 3000}) {
    ::zmq::context_t server_ctx;
    ::zmq::context_t client_ctx;
    auto router = make(server_ctx, st::router);
    auto dealer = make(client_ctx, st::dealer);
    for (auto* s : {&router, &dealer}) {
      s->set(::zmq::sockopt::sndhwm, hwm);
      s->set(::zmq::sockopt::rcvhwm, hwm);
      // A wedged pipe must fail the test, not hang it for the usual 20 s per call.
      s->set(::zmq::sockopt::sndtimeo, 5000);
      s->set(::zmq::sockopt::rcvtimeo, 5000);
    }
    EXPECT_EQ(dealer.get(::zmq::sockopt::sndhwm), hwm);
    dealer.connect(bind_any(router, transport::tcp));

    // Enough to fill the application's pipe several times over (and libzmq's default of 1000).
    const int total = std::max(3 * hwm, 1200);
    std::exception_ptr sender_error;
    int sent = 0;
    std::thread sender([&] {
      try {
        for (; sent < total; ++sent) {
          const std::string body = std::to_string(sent);
          if (!dealer.send(::zmq::const_buffer(body.data(), body.size()))) return;
        }
      } catch (...) {
        sender_error = std::current_exception();
      }
    });
    int received = 0;
    for (; received < total; ++received) {
      auto parts = recv_strings(router);
      if (!parts) break;
      ASSERT_EQ(parts->size(), 2u);
      ASSERT_EQ((*parts)[1], std::to_string(received)) << "hwm " << hwm;
    }
    sender.join();
    if (sender_error) std::rethrow_exception(sender_error);
    EXPECT_EQ(sent, total) << "hwm " << hwm << ": the sender's pipe stayed full";
    EXPECT_EQ(received, total) << "hwm " << hwm << ": the stream stalled";
  }
}

}  // namespace
}  // namespace cryptcom::zmq::test
