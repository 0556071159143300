// The ZeroMQ behaviour an application relies on, kept by cryptcom sockets: polling with
// zmq_poll / zmq::poll on handle() (and zmq::poller_t
// where cppzmq's draft API is available), EAGAIN for "nothing yet", EFSM for REQ/REP misuse,
// timeouts, option pass-through and refusal, refused socket types, close and move.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

TEST(zmq_semantics, unsupported_types_are_refused_at_construction_with_the_supported_ones_named) {
  ::zmq::context_t ctx;
  try {
    socket s(ctx, st::stream, test_options());
    FAIL() << "constructed a STREAM socket";
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("XSUB"), std::string::npos) << e.what();
  }
  // Publish/subscribe types are supported (docs/PROTOCOL.md §11.8).
  for (st t : {st::pub, st::sub, st::xpub, st::xsub})
    EXPECT_NO_THROW(socket(ctx, t, test_options()));
}

TEST(zmq_semantics, the_engine_s_refusal_of_inconsistent_options_is_an_einval) {
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.engine.key_ttl = std::chrono::seconds(1);
  o.engine.expiry_margin = std::chrono::seconds(5);
  try {
    socket s(ctx, st::dealer, o);
    FAIL() << "inconsistent options accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.num(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("key_ttl"), std::string::npos) << e.what();
  }
}

TEST(zmq_semantics, polling_handle_wakes_for_application_messages_and_not_for_protocol_frames) {
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  auto dealer = make(ctx, st::dealer);
  dealer.connect(bind_any(router, transport::tcp));

  ::zmq::socket_ref ref = router;  // what zmq::poller_t::add takes
  std::vector<::zmq::pollitem_t> items{{ref.handle(), 0, ZMQ_POLLIN, 0}};
  // The dealer asks the router for keys right after connect: protocol frames reach the router,
  // and they must not wake the application.
  EXPECT_EQ(::zmq::poll(items, 300ms), 0);
  EXPECT_GT(router.stats().engine.total.frames_received, 0u);
  ::zmq::message_t m;
  EXPECT_FALSE(router.recv(m, ::zmq::recv_flags::dontwait));  // EAGAIN: nothing yet

  ASSERT_TRUE(dealer.send(::zmq::str_buffer("ping")));
  ASSERT_EQ(::zmq::poll(items, 10s), 1);
  EXPECT_TRUE(items[0].revents & ZMQ_POLLIN);
  auto got = recv_strings(router, ::zmq::recv_flags::dontwait);  // the poll promised a message
  ASSERT_TRUE(got);
  EXPECT_EQ(got->back(), "ping");
  // Nothing else is readable: the acknowledgements and key offers that followed stay internal.
  EXPECT_EQ(::zmq::poll(items, 100ms), 0);
}

#if defined(ZMQ_BUILD_DRAFT_API) && defined(ZMQ_HAVE_POLLER)
// zmq::poller_t is a draft API of cppzmq, present only with a libzmq built with drafts (Debian's
// is not).
TEST(zmq_semantics, a_poller_t_accepts_a_cryptcom_socket) {
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  auto dealer = make(ctx, st::dealer);
  dealer.connect(bind_any(router, transport::inproc));
  ::zmq::poller_t<> poller;
  poller.add(router, ::zmq::event_flags::pollin);
  std::vector<::zmq::poller_event<>> events(1);
  ASSERT_TRUE(dealer.send(::zmq::str_buffer("ping")));
  ASSERT_EQ(poller.wait_all(events, 10s), 1u);
  EXPECT_TRUE(recv_strings(router, ::zmq::recv_flags::dontwait));
}
#endif

TEST(zmq_semantics, zmq_poll_serves_several_sockets_each_getting_its_own_replies) {
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  const std::string ep = bind_any(router, transport::ipc);
  std::vector<socket> dealers;
  for (int i = 0; i < 3; ++i) {
    dealers.push_back(make(ctx, st::dealer));
    dealers.back().connect(ep);
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_strings(dealers[static_cast<std::size_t>(i)], {"from " + std::to_string(i)}));
  }
  for (int i = 0; i < 3; ++i) {
    auto got = recv_strings(router);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 2u);
    ASSERT_TRUE(send_strings(router, {(*got)[0], "to " + (*got)[1].substr(5)}));
  }
  std::vector<::zmq::pollitem_t> items;
  for (auto& d : dealers) items.push_back({d.handle(), 0, ZMQ_POLLIN, 0});
  int answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (answered < 3 && std::chrono::steady_clock::now() < deadline) {
    ::zmq::poll(items, 1000ms);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      auto got = recv_strings(dealers[i], ::zmq::recv_flags::dontwait);
      ASSERT_TRUE(got);
      EXPECT_EQ(got->back(), "to " + std::to_string(i));
      ++answered;
    }
  }
  EXPECT_EQ(answered, 3);
}

TEST(zmq_semantics, req_and_rep_enforce_their_alternation_with_efsm) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.connect(bind_any(rep, transport::inproc));
  ::zmq::message_t m;
  try {
    (void)req.recv(m);
    FAIL() << "REQ received before sending";
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), EFSM);
  }
  try {
    (void)rep.send(::zmq::str_buffer("unasked"));
    FAIL() << "REP sent before receiving";
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), EFSM);
  }
  ASSERT_TRUE(req.send(::zmq::str_buffer("one")));
  EXPECT_THROW((void)req.send(::zmq::str_buffer("two")), ::zmq::error_t);
  // Also on the first part of a multipart message.
  EXPECT_THROW((void)req.send(::zmq::str_buffer("two"), ::zmq::send_flags::sndmore),
               ::zmq::error_t);
  ASSERT_TRUE(rep.recv(m));
  EXPECT_THROW((void)rep.recv(m, ::zmq::recv_flags::dontwait), ::zmq::error_t);
  ASSERT_TRUE(rep.send(::zmq::str_buffer("reply")));
  ASSERT_TRUE(req.recv(m));
  EXPECT_EQ(m.to_string(), "reply");
}

TEST(zmq_semantics, rcvtimeo_bounds_a_blocking_recv_and_reports_eagain) {
  ::zmq::context_t ctx;
  auto dealer = make(ctx, st::dealer);
  dealer.set(::zmq::sockopt::rcvtimeo, 100);
  EXPECT_EQ(dealer.get(::zmq::sockopt::rcvtimeo), 100);
  dealer.connect("tcp://127.0.0.1:1");  // nobody there
  const auto t0 = std::chrono::steady_clock::now();
  ::zmq::message_t m;
  EXPECT_FALSE(dealer.recv(m));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 90ms);
  EXPECT_LT(waited, 5s);
}

TEST(zmq_semantics, options_pass_through_to_the_right_socket_and_unsafe_ones_are_refused) {
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  EXPECT_EQ(router.get(::zmq::sockopt::type), static_cast<int>(st::router));
  router.set(::zmq::sockopt::routing_id, std::string("named"));
  EXPECT_EQ(router.get(::zmq::sockopt::routing_id), "named");
  router.set(::zmq::sockopt::sndhwm, 50);
  EXPECT_EQ(router.get(::zmq::sockopt::sndhwm), 50);
  router.set(::zmq::sockopt::linger, 0);
  EXPECT_EQ(router.get(::zmq::sockopt::linger), 0);
  router.set(::zmq::sockopt::immediate, true);
  EXPECT_FALSE(router.get(::zmq::sockopt::rcvmore));
  const std::string ep = bind_any(router, transport::tcp);
  EXPECT_EQ(ep.rfind("tcp://127.0.0.1:", 0), 0u);

  EXPECT_THROW(router.set(::zmq::sockopt::conflate, true), error);
  EXPECT_THROW(router.set(::zmq::sockopt::probe_router, true), error);
  auto req = make(ctx, st::req);
  EXPECT_THROW(req.set(::zmq::sockopt::req_relaxed, true), error);
  // libzmq's own refusals come through as zmq::error_t.
  EXPECT_THROW(router.bind("nonsense://x"), ::zmq::error_t);
}

TEST(zmq_semantics, close_is_idempotent_and_a_closed_or_moved_from_socket_refuses_work) {
  ::zmq::context_t ctx;
  auto a = make(ctx, st::dealer);
  EXPECT_TRUE(a);
  EXPECT_NE(a.handle(), nullptr);
  socket b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT: testing the moved-from state
  EXPECT_TRUE(b);
  EXPECT_THROW((void)a.send(::zmq::str_buffer("x")), error);
  b.close();
  b.close();
  EXPECT_FALSE(b);
  EXPECT_EQ(b.handle(), nullptr);
  try {
    b.connect("tcp://127.0.0.1:1");
    FAIL() << "a closed socket connected";
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), ENOTSOCK);
  }
  socket never_opened;
  EXPECT_FALSE(never_opened);
  never_opened.close();
}

TEST(zmq_semantics, each_socket_has_its_own_protocol_instance) {
  ::zmq::context_t ctx;
  auto a = make(ctx, st::dealer);
  auto b = make(ctx, st::dealer);
  EXPECT_FALSE(a.instance().is_zero());
  EXPECT_NE(a.instance(), b.instance());
}

TEST(zmq_semantics, terminating_the_context_stops_the_socket_and_close_still_returns) {
  auto ctx = std::make_unique<::zmq::context_t>();
  auto dealer = make(*ctx, st::dealer);
  dealer.connect("tcp://127.0.0.1:1");
  std::thread closer([&] { ctx->shutdown(); });
  ::zmq::message_t m;
  try {
    (void)dealer.recv(m);
    ADD_FAILURE() << "recv returned after shutdown";
  } catch (const ::zmq::error_t& e) {
    EXPECT_EQ(e.num(), ETERM);
  }
  closer.join();
  dealer.close();
  const auto events = drain_events(dealer);
  bool reported = false;
  for (const auto& e : events) reported |= e.kind == event_kind::transport_error;
  EXPECT_TRUE(reported);
  ctx.reset();  // returns: every socket of the context was closed
}

}  // namespace
}  // namespace cryptcom::zmq::test
