// Issue 15: a REQ's requests and a REP's replies are sealed with their agreement done ahead by
// the I/O thread (engine::prepare_seal), off the round trip's path; other patterns, whose next
// peer is not known, do no such work.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;

TEST(zmq_prepared_seal, req_and_rep_seal_with_the_agreement_done_ahead) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.connect(bind_any(rep, transport::tcp));
  constexpr int round_trips = 20;
  for (int i = 0; i < round_trips; ++i) {
    const std::string text = "request " + std::to_string(i);
    ASSERT_TRUE(req.send(::zmq::buffer(text)));
    ::zmq::message_t m;
    ASSERT_TRUE(rep.recv(m));
    ASSERT_EQ(str(m), text);
    ASSERT_TRUE(rep.send(m, ::zmq::send_flags::none));
    ASSERT_TRUE(req.recv(m));
    ASSERT_EQ(str(m), text);
  }
  const auto q = req.stats().engine.total;
  const auto p = rep.stats().engine.total;
  // Every request after the first: prepared when the one before it left.
  EXPECT_EQ(q.messages_sealed, static_cast<std::uint64_t>(round_trips));
  EXPECT_EQ(q.seals_prepared, static_cast<std::uint64_t>(round_trips - 1));
  // Every reply: prepared when its request was handed to the application.
  EXPECT_EQ(p.messages_sealed, static_cast<std::uint64_t>(round_trips));
  EXPECT_EQ(p.seals_prepared, static_cast<std::uint64_t>(round_trips));
  EXPECT_EQ(q.rejected_total() + p.rejected_total(), 0u);
}

TEST(zmq_prepared_seal, a_rep_with_requests_queued_prepares_each_reply_for_its_own_requester) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  const std::string endpoint = bind_any(rep, transport::tcp);
  auto first = make(ctx, st::req);
  auto second = make(ctx, st::req);
  first.connect(endpoint);
  second.connect(endpoint);
  ASSERT_TRUE(first.send(::zmq::str_buffer("first")));
  ::zmq::message_t m;
  ASSERT_TRUE(rep.recv(m));  // the first is in: the second queues behind it
  ASSERT_EQ(str(m), "first");
  ASSERT_TRUE(second.send(::zmq::str_buffer("second")));
  // Both requests are at the REP when the first is answered (its I/O thread has delivered the
  // second once the REP's stats, a command behind it, come back with it opened).
  for (int i = 0; i < 200 && rep.stats().engine.total.messages_opened < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(rep.stats().engine.total.messages_opened, 2u);
  ASSERT_TRUE(rep.send(::zmq::str_buffer("to first")));
  ASSERT_TRUE(rep.recv(m));
  ASSERT_EQ(str(m), "second");
  ASSERT_TRUE(rep.send(::zmq::str_buffer("to second")));
  ASSERT_TRUE(first.recv(m));
  EXPECT_EQ(str(m), "to first");
  ASSERT_TRUE(second.recv(m));
  EXPECT_EQ(str(m), "to second");
  // The second request, the last delivered, did not take the first reply's place.
  EXPECT_EQ(rep.stats().engine.total.seals_prepared, 2u);
}

TEST(zmq_prepared_seal, a_dealer_and_a_router_prepare_nothing) {
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  auto dealer = make(ctx, st::dealer);
  dealer.connect(bind_any(router, transport::tcp));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(dealer.send(::zmq::str_buffer("ping")));
    auto in = recv_strings(router);
    ASSERT_TRUE(in.has_value());
    ASSERT_EQ(in->size(), 2u);
    ASSERT_TRUE(send_strings(router, {in->at(0), "pong"}));
    auto back = recv_strings(dealer);
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(back->at(0), "pong");
  }
  EXPECT_EQ(dealer.stats().engine.total.seals_prepared, 0u);
  EXPECT_EQ(router.stats().engine.total.seals_prepared, 0u);
  EXPECT_EQ(router.stats().engine.total.messages_sealed, 10u);
}

}  // namespace
}  // namespace cryptcom::zmq::test
