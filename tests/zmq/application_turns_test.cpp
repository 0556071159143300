// Issue 15: a REQ's application thread seals its request inside send and opens the reply it
// waits for inside recv (io_loop::drive), while the I/O thread keeps everything the application
// does not wait for moving: acknowledgements, keys, timers, commands. A REP leaves it all to its
// I/O thread, which prepares the reply's agreement meanwhile (prepared_seal_test).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

// Waits (bounded) until `done` holds; true when it did.
template <class Condition>
bool eventually(Condition done, std::chrono::milliseconds limit = 5000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class application_turns : public ::testing::TestWithParam<transport> {};

TEST_P(application_turns, a_req_seals_and_opens_on_its_own_thread_a_rep_on_its_io_thread) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.connect(bind_any(rep, GetParam()));
  constexpr int round_trips = 50;
  std::thread server([&] {
    for (int i = 0; i < round_trips; ++i) {
      ::zmq::message_t m;
      if (!rep.recv(m)) return;
      if (!rep.send(m, ::zmq::send_flags::none)) return;
    }
  });
  for (int i = 0; i < round_trips; ++i) {
    const std::string text = "request " + std::to_string(i);
    ASSERT_TRUE(req.send(::zmq::buffer(text)));
    ::zmq::message_t m;
    ASSERT_TRUE(req.recv(m));
    ASSERT_EQ(str(m), text);
  }
  server.join();
  const auto q = req.stats();
  const auto p = rep.stats();
  // What the REQ's application thread did is part of what was done...
  EXPECT_LE(q.transport.sealed_in_calls, q.engine.total.messages_sealed);
  EXPECT_LE(q.transport.opened_in_calls, q.transport.messages_received);
  // ... and the bulk of it: each request is sealed inside its send once the keys are there, and
  // each reply opened by the recv waiting for it (the I/O thread takes one now and then).
  EXPECT_GE(q.transport.sealed_in_calls, static_cast<std::uint64_t>(round_trips / 2));
  EXPECT_GE(q.transport.opened_in_calls, static_cast<std::uint64_t>(round_trips / 2));
  // The REP's calls only use the pipe.
  EXPECT_EQ(p.transport.sealed_in_calls, 0u);
  EXPECT_EQ(p.transport.opened_in_calls, 0u);
  EXPECT_EQ(p.engine.total.seals_prepared, static_cast<std::uint64_t>(round_trips));
  EXPECT_EQ(q.engine.total.rejected_total() + p.engine.total.rejected_total(), 0u);
}

TEST_P(application_turns, the_io_thread_acknowledges_a_reply_nobody_receives_yet) {
  // The REQ's application sends and then does something else: its I/O thread still reads the
  // reply when it comes and acknowledges it, so the REP's copy is released.
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.connect(bind_any(rep, GetParam()));
  ASSERT_TRUE(req.send(::zmq::str_buffer("ping")));
  ::zmq::message_t m;
  ASSERT_TRUE(rep.recv(m));
  ASSERT_TRUE(rep.send(::zmq::str_buffer("pong")));
  EXPECT_TRUE(eventually([&] { return rep.stats().engine.total.messages_acknowledged == 1; }))
      << "the REQ's I/O thread did not acknowledge the reply";
  EXPECT_EQ(req.stats().transport.opened_in_calls, 0u);
  ASSERT_TRUE(req.recv(m));
  EXPECT_EQ(str(m), "pong");
}

TEST_P(application_turns, a_recv_that_timed_out_hands_the_socket_back_to_the_io_thread) {
  // While the REQ's application waited in recv, its I/O thread stopped watching the network
  // (the application's thread did). After the timeout nobody calls: what comes must still be
  // read and acknowledged by the I/O thread.
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.set(::zmq::sockopt::rcvtimeo, 100);
  req.connect(bind_any(rep, GetParam()));
  ASSERT_TRUE(req.send(::zmq::str_buffer("ping")));
  ::zmq::message_t m;
  ASSERT_TRUE(rep.recv(m));
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(req.recv(m)) << "no reply was sent yet";
  EXPECT_GE(std::chrono::steady_clock::now() - before, 90ms) << "the receive timeout was cut short";
  ASSERT_TRUE(rep.send(::zmq::str_buffer("pong")));
  EXPECT_TRUE(eventually([&] { return rep.stats().engine.total.messages_acknowledged == 1; }))
      << "after the application's recv gave up, nobody read the reply";
  ASSERT_TRUE(req.recv(m));
  EXPECT_EQ(str(m), "pong");
}

TEST_P(application_turns, a_dontwait_recv_turns_the_socket_once_and_returns) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.connect(bind_any(rep, GetParam()));
  ASSERT_TRUE(req.send(::zmq::str_buffer("ping")));
  ::zmq::message_t m;
  EXPECT_FALSE(req.recv(m, ::zmq::recv_flags::dontwait)) << "no reply was sent yet";
  ASSERT_TRUE(rep.recv(m));
  ASSERT_TRUE(rep.send(::zmq::str_buffer("pong")));
  // Polling with dontwait gets the reply once it arrived, opened on this thread or the I/O
  // thread's, whichever came first.
  EXPECT_TRUE(eventually([&] { return req.recv(m, ::zmq::recv_flags::dontwait).has_value(); }));
  EXPECT_EQ(str(m), "pong");
}

TEST(application_turns_term, terminating_the_context_ends_a_recv_that_turns_the_socket) {
  // The REQ's application thread waits in recv on the socket's own descriptors; shutting the
  // context down must end that wait with ETERM, as it ends any ZeroMQ call.
  auto ctx = std::make_unique<::zmq::context_t>();
  auto rep = make(*ctx, st::rep);
  auto req = make(*ctx, st::req);
  req.connect(bind_any(rep, transport::tcp));
  ASSERT_TRUE(req.send(::zmq::str_buffer("never answered")));
  std::atomic<std::chrono::steady_clock::time_point> shutdown_at{
      std::chrono::steady_clock::time_point::max()};
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    shutdown_at = std::chrono::steady_clock::now();
    ctx->shutdown();
  });
  ::zmq::message_t m;
  try {
    (void)req.recv(m);
    ADD_FAILURE() << "recv returned after shutdown";
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), ETERM);
  }
  const auto ended = std::chrono::steady_clock::now();
  closer.join();
  // At once, not at the socket's next timer (its idle check, a second away).
  EXPECT_LT(ended - shutdown_at.load(), 800ms);
  req.close();
  rep.close();
  bool reported = false;
  for (const auto& e : drain_events(req)) reported |= e.kind == event_kind::transport_error;
  EXPECT_TRUE(reported);
  ctx.reset();  // returns: every socket of the context was closed
}

TEST(application_turns_fsm, a_recv_out_of_turn_fails_at_once_without_waiting) {
  // No request in flight: nothing to wait for, so EFSM at once, not after ZMQ_RCVTIMEO (20 s).
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.connect(bind_any(rep, transport::tcp));
  ::zmq::message_t m;
  for (int round = 0; round < 2; ++round) {
    const auto before = std::chrono::steady_clock::now();
    try {
      (void)req.recv(m);
      ADD_FAILURE() << "a REQ received with no request in flight";
    } catch (const ::zmq::error_t& e) {
      EXPECT_EQ(e.num(), EFSM);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
    // After a whole round trip, the next recv is out of turn again.
    ASSERT_TRUE(req.send(::zmq::str_buffer("ping")));
    ASSERT_TRUE(rep.recv(m));
    ASSERT_TRUE(rep.send(::zmq::str_buffer("pong")));
    ASSERT_TRUE(req.recv(m));
  }
}

INSTANTIATE_TEST_SUITE_P(transports, application_turns,
                         ::testing::Values(transport::tcp, transport::ipc, transport::inproc),
                         [](const auto& param_info) {
                           return std::string(name_of(param_info.param));
                         });

}  // namespace
}  // namespace cryptcom::zmq::test
