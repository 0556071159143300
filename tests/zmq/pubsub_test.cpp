// PUB/SUB with one-time keys over real sockets (docs/PROTOCOL.md §11.8): each subscriber opens
// exactly what matches its subscriptions, directly and through a plain zmq_proxy(XSUB, XPUB)
// forwarder with two publishers, and nothing travels in clear.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth_support.hpp"
#include "proxy_tap.hpp"
#include "pubsub_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using namespace std::chrono_literals;
using st = ::zmq::socket_type;

class pubsub : public ::testing::TestWithParam<transport> {};

TEST_P(pubsub, each_subscriber_opens_exactly_what_matches_its_topics) {
  ::zmq::context_t ctx;
  socket pub = make(ctx, st::pub);
  const std::string endpoint = bind_any(pub, GetParam());
  const std::vector<std::string> topics = {"alpha.", "beta.", "gamma."};
  std::vector<std::unique_ptr<socket>> subs;
  // Subscriber i takes topic i; subscriber 3 takes alpha and gamma; subscriber 4 everything.
  for (int i = 0; i < 5; ++i) {
    subs.push_back(std::make_unique<socket>(make(ctx, st::sub)));
    if (i < 3) subs.back()->set(::zmq::sockopt::subscribe, topics[i]);
    if (i == 3) {
      subs.back()->set(::zmq::sockopt::subscribe, "alpha.");
      subs.back()->set(::zmq::sockopt::subscribe, "gamma.");
    }
    if (i == 4) subs.back()->set(::zmq::sockopt::subscribe, "");
    subs.back()->connect(endpoint);
  }
  std::vector<socket*> raw;
  for (auto& s : subs) raw.push_back(s.get());
  wait_until_subscribed(pub, raw, topics);

  const int n = 300;
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(send_strings(pub, {topics[i % 3] + std::to_string(i), "body"}));
  const std::vector<int> expected = {n / 3, n / 3, n / 3, 2 * n / 3, n};
  for (std::size_t k = 0; k < subs.size(); ++k) {
    std::set<std::string> got;
    for (int j = 0; j < expected[k]; ++j) {
      auto m = recv_strings(*subs[k]);
      ASSERT_TRUE(m) << "subscriber " << k << " got " << got.size();
      ASSERT_EQ(m->size(), 2u);
      EXPECT_TRUE(got.insert(m->front()).second) << "twice: " << m->front();
      if (k < 3) {
        EXPECT_TRUE(m->front().starts_with(topics[k])) << m->front();
      }
      if (k == 3) {
        EXPECT_FALSE(m->front().starts_with("beta.")) << m->front();
      }
    }
    subs[k]->set(::zmq::sockopt::rcvtimeo, 200);
    EXPECT_FALSE(recv_strings(*subs[k])) << "subscriber " << k << " got more than it matches";
  }
  // Every copy sealed for a subscriber was opened there and acknowledged, none twice.
  std::this_thread::sleep_for(200ms);
  const auto s = pub.stats();
  EXPECT_EQ(s.engine.total.messages_undeliverable, 0u);
  EXPECT_GE(s.engine.total.messages_acknowledged, static_cast<std::uint64_t>(n / 3 * 7));
}

// Two publishers behind a plain forwarder: each subscriber hears both, and nothing on the
// forwarder's capture is plaintext.
TEST_P(pubsub, through_a_plain_forwarder_with_two_publishers) {
  ::zmq::context_t ctx;
  ::zmq::socket_t xsub(ctx, st::xsub), xpub(ctx, st::xpub), capture(ctx, st::pull),
      capture_in(ctx, st::push), control(ctx, st::pair), control_in(ctx, st::pair);
  control_in.bind("inproc://pubsub-control");
  control.connect("inproc://pubsub-control");
  const std::string front = bind_any(xsub, GetParam());
  const std::string back = bind_any(xpub, GetParam());
  capture.bind("inproc://pubsub-capture");
  capture_in.connect("inproc://pubsub-capture");
  std::thread forwarder([&] {
    try {
      ::zmq::proxy_steerable(::zmq::socket_ref(xsub), ::zmq::socket_ref(xpub),
                             ::zmq::socket_ref(capture_in), ::zmq::socket_ref(control_in));
    } catch (const ::zmq::error_t&) {
    }
  });
  {
    socket p1 = make(ctx, st::pub), p2 = make(ctx, st::pub);
    p1.connect(front);
    p2.connect(front);
    socket s1 = make(ctx, st::sub), s2 = make(ctx, st::sub);
    s1.set(::zmq::sockopt::subscribe, "one");
    s2.set(::zmq::sockopt::subscribe, "two");
    s1.connect(back);
    s2.connect(back);
    wait_until_subscribed(p1, {&s1}, {"one"});
    wait_until_subscribed(p2, {&s2}, {"two"});
    wait_until_subscribed(p1, {&s2}, {"two"});
    wait_until_subscribed(p2, {&s1}, {"one"});
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(send_strings(p1, {"one", "secret-one-from-p1-" + std::to_string(i)}));
      ASSERT_TRUE(send_strings(p2, {"one", "secret-one-from-p2-" + std::to_string(i)}));
      ASSERT_TRUE(send_strings(p1, {"two", "secret-two-from-p1-" + std::to_string(i)}));
    }
    std::map<std::string, int> s1_from, s2_from;
    for (int i = 0; i < 200; ++i) {
      auto m = recv_strings(s1);
      ASSERT_TRUE(m);
      ASSERT_EQ(m->front(), "one");
      ++s1_from[m->back().substr(0, 17)];
    }
    for (int i = 0; i < 100; ++i) {
      auto m = recv_strings(s2);
      ASSERT_TRUE(m);
      ASSERT_EQ(m->front(), "two");
    }
    EXPECT_EQ(s1_from["secret-one-from-p"], 200);
  }
  control.send(::zmq::str_buffer("TERMINATE"), ::zmq::send_flags::none);
  forwarder.join();
  std::size_t frames = 0;
  ::zmq::message_t m;
  while (capture.recv(m, ::zmq::recv_flags::dontwait)) {
    ++frames;
    EXPECT_EQ(m.to_string().find("secret-"), std::string::npos) << "plaintext at the forwarder";
  }
  EXPECT_GT(frames, 300u);
}

// Authenticated mode: each subscriber is an initiator holding the publisher's public key; the
// publisher's allow-list decides who gets anything.
TEST_P(pubsub, authenticated_subscribers_on_the_allow_list_get_their_topics_others_nothing) {
  ::zmq::context_t ctx;
  const keypair publisher_id = make_keypair(), allowed_id = make_keypair(),
                stranger_id = make_keypair();
  socket pub = make(ctx, st::pub);
  make_server(pub, publisher_id, {allowed_id});
  const std::string endpoint = bind_any(pub, GetParam());
  socket allowed = make(ctx, st::sub), stranger = make(ctx, st::sub);
  make_client(allowed, allowed_id, publisher_id);
  make_client(stranger, stranger_id, publisher_id);
  for (socket* s : {&allowed, &stranger}) {
    s->set(::zmq::sockopt::subscribe, "news");
    s->connect(endpoint);
  }
  wait_until_subscribed(pub, {&allowed}, {"news"});
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(send_strings(pub, {"news", std::to_string(i)}));
  for (int i = 0; i < 50; ++i) {
    auto m = recv_strings(allowed);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->back(), std::to_string(i));
  }
  stranger.set(::zmq::sockopt::rcvtimeo, 300);
  EXPECT_FALSE(recv_strings(stranger)) << "a subscriber not on the allow-list got a message";
  EXPECT_GE(pub.stats().engine.total.handshakes_refused, 1u);
}

INSTANTIATE_TEST_SUITE_P(transports, pubsub, ::testing::Values(transport::tcp, transport::ipc),
                         [](const auto& p) { return std::string(name_of(p.param)); });

}  // namespace
}  // namespace cryptcom::zmq::test
