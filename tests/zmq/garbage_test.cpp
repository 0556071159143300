// Garbage from a raw ZeroMQ peer: random bytes, truncated and tampered copies of real frames,
// replays of real frames, oversized envelopes. All of it is rejected and counted, none of it
// reaches the application, and a well-behaved client on the same ROUTER keeps being served.
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tamper_relay.hpp"
#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

std::string random_string(std::size_t n) {
  std::string s(n, '\0');
  if (n > 0) randombytes_buf(s.data(), n);
  return s;
}

TEST(zmq_garbage, a_raw_peer_s_garbage_is_rejected_and_counted_while_a_good_client_is_served) {
  ::zmq::context_t ctx;
  auto server = make(ctx, st::router);
  const std::string server_ep = bind_any(server, transport::tcp);

  // The good client talks to the server through a plain proxy whose capture gives the attacker
  // real frames to replay and tamper with.
  ::zmq::socket_t front(ctx, st::router), back(ctx, st::dealer), cap_out(ctx, st::pair),
      cap_in(ctx, st::pair), ctl(ctx, st::pair), ctl_client(ctx, st::pair);
  front.bind("tcp://127.0.0.1:*");
  back.connect(server_ep);
  cap_in.bind("inproc://garbage-capture");
  cap_out.connect("inproc://garbage-capture");
  ctl.bind("inproc://garbage-control");
  ctl_client.connect("inproc://garbage-control");
  std::thread proxy([&] { ::zmq::proxy_steerable(::zmq::socket_ref(front), back, cap_out, ctl); });

  std::atomic<bool> stop{false};
  std::atomic<int> served_good{0}, served_other{0};
  std::thread serve([&] {
    server.set(::zmq::sockopt::rcvtimeo, 50);
    while (!stop) {
      std::vector<::zmq::message_t> parts;
      if (!recv_multipart(server, std::back_inserter(parts))) continue;
      if (parts.size() == 3 && parts[2].to_string().rfind("good ", 0) == 0) {
        ++served_good;
      } else {
        ++served_other;
      }
      ASSERT_TRUE(send_multipart(server, parts));  // echo, envelope included
    }
  });

  auto good = make(ctx, st::dealer);
  good.connect(front.get(::zmq::sockopt::last_endpoint));
  auto exchange = [&](int i) {
    const std::string p = "good " + std::to_string(i);
    ASSERT_TRUE(good.send(::zmq::buffer(p)));
    ::zmq::message_t m;
    ASSERT_TRUE(good.recv(m)) << "good client not served at message " << i;
    EXPECT_EQ(m.to_string(), p);
  };
  for (int i = 0; i < 20; ++i) exchange(i);

  // What crossed the proxy so far: the last frame of each captured message is an engine frame.
  std::vector<std::string> real;
  {
    cap_in.set(::zmq::sockopt::rcvtimeo, 100);
    std::vector<::zmq::message_t> parts;
    while (recv_multipart(cap_in, std::back_inserter(parts))) {
      real.push_back(parts.back().to_string());
      parts.clear();
    }
  }
  ASSERT_GE(real.size(), 20u);

  ::zmq::socket_t attacker(ctx, st::dealer);
  attacker.set(::zmq::sockopt::routing_id, std::string("attacker"));
  attacker.set(::zmq::sockopt::linger, 0);
  attacker.connect(server_ep);
  std::uint64_t sent_to_engine = 0;
  auto attack = [&](const std::string& frame) {
    ASSERT_TRUE(attacker.send(::zmq::buffer(frame), ::zmq::send_flags::none));
    ++sent_to_engine;
  };
  int i = 20;
  constexpr int random_count = 100;
  for (int n = 0; n < random_count; ++n) {
    attack(random_string(static_cast<std::size_t>(n * 37 % 3000)));
    if (n % 10 == 0) exchange(i++);
  }
  std::size_t truncated = 0;
  for (const auto& f : real) {
    if (f.size() < 2) continue;
    attack(f.substr(0, f.size() / 2));
    attack(f.substr(0, f.size() - 1));
    truncated += 2;
  }
  exchange(i++);
  for (const auto& f : real) attack(f);  // replays
  exchange(i++);
  for (const auto& f : real) {  // tampered: one bit flipped somewhere
    std::string t = f;
    t[randombytes_uniform(static_cast<std::uint32_t>(t.size()))] ^= 0x10;
    attack(t);
  }
  exchange(i++);
  // Envelopes no ZeroMQ router chain would produce.
  constexpr int tall = 5;
  for (int n = 0; n < tall; ++n) {
    std::vector<::zmq::const_buffer> frames(40, ::zmq::str_buffer("x"));
    ASSERT_TRUE(::zmq::send_multipart(attacker, frames));
  }
  for (int n = 0; n < 10; ++n) exchange(i++);

  // Wait until the server's engine has seen every garbage frame.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  socket_stats s;
  std::uint64_t attacker_peer = 0;
  for (;;) {
    s = server.stats();
    for (const auto& [id, route] : s.routes) {
      if (route == std::vector<std::string>{"attacker"}) attacker_peer = id;
    }
    if (attacker_peer != 0 && s.engine.per_peer[attacker_peer].frames_received >= sent_to_engine &&
        s.transport.messages_dropped >= tall) {
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "garbage never fully processed";
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  serve.join();
  (void)ctl_client.send(::zmq::str_buffer("TERMINATE"));
  proxy.join();

  const counters& bad = s.engine.per_peer[attacker_peer];
  EXPECT_EQ(bad.frames_received, sent_to_engine);
  EXPECT_EQ(bad.messages_opened, 0u) << "garbage reached the application";
  EXPECT_EQ(served_other.load(), 0);
  EXPECT_GE(served_good.load(), i);
  // Random bytes and truncations never parse.
  EXPECT_GE(bad.rejected_malformed, static_cast<std::uint64_t>(random_count) + truncated);
  // Every replayed or tampered data frame is refused: replays by the used keys' tombstones or as
  // unknown keys (the replies were sealed to the client's keys, which the server never had),
  // tampered ones by the AEAD or the parser. Control frames among the replays are harmless
  // (a key request from the attacker is just served).
  const std::uint64_t data_frames =
      good.stats().engine.total.messages_sealed + s.engine.per_peer.begin()->second.messages_sealed;
  EXPECT_GE(bad.rejected_total(), static_cast<std::uint64_t>(random_count) + truncated);
  EXPECT_GT(bad.rejected_replay + bad.rejected_unknown_key, 0u);
  EXPECT_GT(bad.rejected_authentication + bad.rejected_malformed + bad.rejected_unknown_key, 0u);
  EXPECT_GE(s.transport.messages_dropped, static_cast<std::uint64_t>(tall));
  std::printf(
      "[ measured ] garbage frames %llu: malformed %llu, replay %llu, unknown key %llu, "
      "authentication %llu; data frames in the capture <= %llu\n",
      static_cast<unsigned long long>(sent_to_engine),
      static_cast<unsigned long long>(bad.rejected_malformed),
      static_cast<unsigned long long>(bad.rejected_replay),
      static_cast<unsigned long long>(bad.rejected_unknown_key),
      static_cast<unsigned long long>(bad.rejected_authentication),
      static_cast<unsigned long long>(data_frames));
  // The good client never saw a rejection: nothing it sent was disturbed.
  EXPECT_EQ(good.stats().engine.total.messages_resent, 0u);
}

}  // namespace
}  // namespace cryptcom::zmq::test

namespace cryptcom::zmq::test {
namespace {

// A man in the middle that flips a bit in every third data frame from client to server, while
// its key is still live: the AEAD refuses it, the sender hears why and sends the message again,
// and every message still arrives exactly once.
TEST(zmq_garbage, frames_tampered_in_flight_are_refused_and_their_messages_sent_again) {
  constexpr int count = 30;
  ::zmq::context_t ctx;
  auto server = make(ctx, st::router);
  const std::string server_ep = bind_any(server, transport::tcp);

  std::atomic<bool> stop{false};
  std::atomic<int> tampered{0};
  int data_frames = 0;  // the relay's thread only
  tamper_relay mitm(ctx, transport::tcp, server_ep, [&](::zmq::message_t& frame) {
    // docs/PROTOCOL.md: [version, kind, ...]; kind 2 is a data frame; its tag ends it.
    const bool data = frame.size() > 3 && static_cast<const char*>(frame.data())[2] == 2;
    if (data && ++data_frames % 3 == 0) {
      static_cast<char*>(frame.data())[frame.size() - 1] ^= 0x01;
      ++tampered;
    }
  });

  std::multiset<std::string> received;
  std::thread serve([&] {
    server.set(::zmq::sockopt::rcvtimeo, 50);
    while (!stop) {
      std::vector<::zmq::message_t> parts;
      if (!recv_multipart(server, std::back_inserter(parts))) continue;
      received.insert(parts.back().to_string());
      ASSERT_TRUE(send_multipart(server, parts));
    }
  });

  auto client = make(ctx, st::dealer);
  client.connect(mitm.endpoint());
  std::multiset<std::string> echoed;
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(send_strings(client, {"message " + std::to_string(i)}));
  }
  for (int i = 0; i < count; ++i) {
    auto got = recv_strings(client);
    ASSERT_TRUE(got) << "echo " << i << " missing";
    echoed.insert(got->back());
  }
  const auto ss = server.stats();
  const auto cs = client.stats();
  stop = true;
  serve.join();

  std::multiset<std::string> expected;
  for (int i = 0; i < count; ++i) expected.insert("message " + std::to_string(i));
  EXPECT_EQ(received, expected);  // each exactly once, tampered ones included
  EXPECT_EQ(echoed, expected);
  EXPECT_GT(tampered.load(), 0);
  EXPECT_GE(ss.engine.total.rejected_authentication, static_cast<std::uint64_t>(tampered.load()));
  EXPECT_GE(cs.engine.total.messages_resent, 1u);
}

}  // namespace
}  // namespace cryptcom::zmq::test

namespace cryptcom::zmq::test {
namespace {

TEST(zmq_garbage, a_frame_larger_than_any_message_allowed_is_never_allocated) {
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.engine.max_message_size = 4096;
  auto server = make(ctx, st::router, o);
  const std::string ep = bind_any(server, transport::tcp);
  // The wire socket refuses frames beyond the engine's bound: libzmq drops the connection that
  // announces one, before reading it.
  // (PROTOCOL.md §7: the message, 256 KiB for the largest control block, 16 bytes a part.)
  EXPECT_LT(server.get(::zmq::sockopt::maxmsgsize), 4096 + 256 * 1024 + 16 * 1000 + 8192);
  EXPECT_LT(server.get(::zmq::sockopt::maxmsgsize), 1 << 20);
  ::zmq::socket_t attacker(ctx, st::dealer);
  attacker.set(::zmq::sockopt::linger, 0);
  attacker.connect(ep);
  const std::string huge(1 << 20, 'x');
  ASSERT_TRUE(attacker.send(::zmq::buffer(huge), ::zmq::send_flags::none));
  std::this_thread::sleep_for(200ms);
  const auto s = server.stats();
  EXPECT_EQ(s.transport.wire_messages_received, 0u);
  EXPECT_EQ(s.transport.peers, 0u);
  // And a good client is served regardless.
  auto good = make(ctx, st::dealer, o);
  good.connect(ep);
  ASSERT_TRUE(good.send(::zmq::str_buffer("fine")));
  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->back(), "fine");
}

}  // namespace
}  // namespace cryptcom::zmq::test
