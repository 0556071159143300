// One ROUTER serving 50 DEALER clients at once, each with its own stream of messages; every
// reply must reach the client that asked, in order, intact.
//
// Scale: 50 clients x 1000 messages is ~50,000 round trips, each costing about eight X25519
// operations (four key generations, four agreements) on two cores. Under the sanitizers, which
// slow everything down several times, the count per client drops to 200; the environment
// variable CRYPTCOM_ZMQ_STRESS_MESSAGES sets it explicitly.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int default_messages = 200;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int default_messages = 200;
#else
constexpr int default_messages = 1000;
#endif
#else
constexpr int default_messages = 1000;
#endif

int messages_per_client() {
  if (const char* v = std::getenv("CRYPTCOM_ZMQ_STRESS_MESSAGES")) return std::max(1, std::atoi(v));
  return default_messages;
}

std::string payload(int client, int seq) {
  return "client " + std::to_string(client) + " message " + std::to_string(seq);
}

TEST(zmq_many_clients, one_router_serves_50_dealers_each_reply_reaching_the_right_client) {
  constexpr int clients = 50;
  constexpr int drivers = 5;  // application threads, each driving clients / drivers sockets
  constexpr int window = 8;   // requests in flight per client
  const int count = messages_per_client();

  ::zmq::context_t ctx(2);
  auto router = make(ctx, st::router);
  const std::string ep = bind_any(router, transport::tcp);

  std::atomic<bool> stop{false};
  std::atomic<long> served{0};
  std::thread server([&] {
    router.set(::zmq::sockopt::rcvtimeo, 200);
    while (!stop) {
      std::vector<::zmq::message_t> parts;
      if (!recv_multipart(router, std::back_inserter(parts))) continue;
      if (!send_multipart(router, parts)) ADD_FAILURE() << "router send failed";
      ++served;
    }
  });

  std::vector<socket> sockets;
  for (int c = 0; c < clients; ++c) {
    sockets.push_back(make(ctx, st::dealer));
    sockets.back().connect(ep);
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::vector<int> completed(clients, 0);
  std::vector<std::string> failures(drivers);
  for (int d = 0; d < drivers; ++d) {
    threads.emplace_back([&, d] {
      std::vector<int> mine;
      for (int c = d; c < clients; c += drivers) mine.push_back(c);
      std::vector<int> sent(mine.size(), 0), received(mine.size(), 0);
      std::vector<::zmq::pollitem_t> items;
      for (int c : mine)
        items.push_back({sockets[static_cast<std::size_t>(c)].handle(), 0, ZMQ_POLLIN, 0});
      const auto deadline = std::chrono::steady_clock::now() + 240s;
      bool all = false;
      while (!all && std::chrono::steady_clock::now() < deadline) {
        for (std::size_t i = 0; i < mine.size(); ++i) {
          auto& s = sockets[static_cast<std::size_t>(mine[i])];
          while (sent[i] < count && sent[i] - received[i] < window) {
            const std::string p = payload(mine[i], sent[i]);
            if (!s.send(::zmq::buffer(p), ::zmq::send_flags::dontwait)) break;
            ++sent[i];
          }
        }
        ::zmq::poll(items, 100ms);
        all = true;
        for (std::size_t i = 0; i < mine.size(); ++i) {
          auto& s = sockets[static_cast<std::size_t>(mine[i])];
          ::zmq::message_t m;
          while (s.recv(m, ::zmq::recv_flags::dontwait)) {
            const std::string want = payload(mine[i], received[i]);
            if (m.to_string() != want) {
              failures[static_cast<std::size_t>(d)] = "client " + std::to_string(mine[i]) +
                                                      " expected '" + want + "' got '" +
                                                      m.to_string() + "'";
              return;
            }
            ++received[i];
          }
          completed[static_cast<std::size_t>(mine[i])] = received[i];
          all = all && received[i] == count;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  server.join();

  for (const auto& f : failures) EXPECT_EQ(f, "");
  for (int c = 0; c < clients; ++c) {
    EXPECT_EQ(completed[static_cast<std::size_t>(c)], count) << "client " << c;
  }
  EXPECT_EQ(served.load(), static_cast<long>(clients) * count);
  const auto rs = router.stats();
  EXPECT_EQ(rs.transport.peers, static_cast<std::size_t>(clients));
  const auto& t = rs.engine.total;
  // Under load an acknowledgement can take longer than retransmit_after: the copy that follows is
  // refused as a replay (the original was delivered). Nothing else may be refused.
  EXPECT_EQ(t.rejected_total() - t.rejected_replay, 0u)
      << "malformed " << t.rejected_malformed << ", unknown key " << t.rejected_unknown_key
      << ", expired " << t.rejected_expired_key << ", authentication " << t.rejected_authentication
      << ", key requests trimmed " << t.key_requests_trimmed;
  EXPECT_EQ(rs.engine.total.messages_opened, static_cast<std::uint64_t>(clients) * count);
  std::printf(
      "[ measured ] %d clients x %d messages: %.2f s, %.0f round trips/s, %llu retransmitted "
      "copies refused as replays\n",
      clients, count, seconds, clients * count / seconds,
      static_cast<unsigned long long>(t.rejected_replay));
}

}  // namespace
}  // namespace cryptcom::zmq::test
