// The first thing that must work: one request and its reply between a cryptcom REQ and REP.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

TEST(zmq_smoke, a_req_and_a_rep_exchange_one_message_over_tcp) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, ::zmq::socket_type::rep);
  auto req = make(ctx, ::zmq::socket_type::req);
  const std::string ep = bind_any(rep, transport::tcp);
  req.connect(ep);
  ASSERT_TRUE(req.send(::zmq::str_buffer("hello"), ::zmq::send_flags::none));
  ::zmq::message_t m;
  ASSERT_TRUE(rep.recv(m));
  EXPECT_EQ(m.to_string(), "hello");
  ASSERT_TRUE(rep.send(::zmq::str_buffer("world"), ::zmq::send_flags::none));
  ASSERT_TRUE(req.recv(m));
  EXPECT_EQ(m.to_string(), "world");
  const auto s = req.stats();
  EXPECT_GE(s.engine.total.messages_sealed, 1u);
  EXPECT_EQ(s.engine.total.messages_opened, 1u);
}

}  // namespace
}  // namespace cryptcom::zmq::test
