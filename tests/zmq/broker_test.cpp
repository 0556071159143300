// End to end through a broker: cryptcom clients (REQ and DEALER) and a cryptcom worker (REP)
// connected through a plain zmq_proxy (ROUTER frontend, DEALER backend) with its capture socket
// on. Every request and reply is delivered, and the capture (everything that crossed the broker)
// never contains the bytes of any message: the broker forwards what it cannot read, and holds no
// key at all. (CurveZMQ encrypts hop by hop, so its broker sees plaintext; this does not.)
//
// One worker per broker: a load-balancing broker would hand a request sealed to one worker's key
// to another worker, which cannot open it (see cryptcom/zmq/socket.hpp, Limitation).
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "proxy_tap.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

std::string random_text() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string("secret-") + hex;
}

TEST(zmq_broker, clients_and_a_worker_talk_through_zmq_proxy_which_never_sees_plaintext) {
  constexpr int req_clients = 4;
  constexpr int dealer_clients = 2;
  constexpr int per_client = 40;
  ::zmq::context_t ctx;
  proxy_tap b(ctx);

  auto worker = make(ctx, st::rep);
  worker.connect(b.backend());
  std::atomic<bool> stop{false};
  std::vector<std::string> worker_saw;
  std::thread worker_thread([&] {
    worker.set(::zmq::sockopt::rcvtimeo, 100);
    while (!stop) {
      auto got = recv_strings(worker);
      if (!got) continue;
      worker_saw.insert(worker_saw.end(), got->begin(), got->end());
      // The reply is as secret as the request: derived from it, never seen on the wire.
      std::vector<std::string> reply;
      for (const auto& p : *got) reply.push_back("reply-to-" + p);
      ASSERT_TRUE(send_strings(worker, reply));
    }
  });

  std::vector<std::string> secrets;  // every request part and reply part
  std::mutex secrets_mutex;
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int c = 0; c < req_clients + dealer_clients; ++c) {
    clients.emplace_back([&, c] {
      const bool dealer = c >= req_clients;
      auto s = make(ctx, dealer ? st::dealer : st::req);
      s.connect(b.frontend());
      for (int i = 0; i < per_client; ++i) {
        const std::vector<std::string> parts{random_text(), random_text()};
        {
          std::lock_guard lock(secrets_mutex);
          for (const auto& p : parts) {
            secrets.push_back(p);
            secrets.push_back("reply-to-" + p);
          }
        }
        std::vector<std::string> out = parts;
        if (dealer) out.insert(out.begin(), "");  // a DEALER speaks to a REP with a delimiter
        ASSERT_TRUE(send_strings(s, out));
        auto got = recv_strings(s);
        ASSERT_TRUE(got) << "client " << c << " timed out";
        if (dealer) {
          ASSERT_FALSE(got->empty());
          EXPECT_EQ(got->front(), "");
          got->erase(got->begin());
        }
        ASSERT_EQ(got->size(), 2u);
        EXPECT_EQ((*got)[0], "reply-to-" + parts[0]);
        EXPECT_EQ((*got)[1], "reply-to-" + parts[1]);
        ++answered;
      }
      const auto stats = s.stats();
      EXPECT_EQ(stats.engine.total.messages_opened, static_cast<std::uint64_t>(per_client));
    });
  }
  for (auto& t : clients) t.join();
  stop = true;
  worker_thread.join();
  b.stop();

  EXPECT_EQ(answered.load(), (req_clients + dealer_clients) * per_client);
  EXPECT_EQ(worker_saw.size(),
            static_cast<std::size_t>((req_clients + dealer_clients) * per_client * 2));
  // The worker kept one engine peer per client, all behind the one broker connection.
  EXPECT_EQ(worker.stats().transport.peers, static_cast<std::size_t>(req_clients + dealer_clients));

  const auto wire = b.frames();
  ASSERT_GT(wire.size(), static_cast<std::size_t>(4 * per_client));
  std::size_t leaks = 0;
  for (const auto& frame : wire) {
    for (const auto& secret : secrets) {
      if (frame.find(secret) != std::string::npos) ++leaks;
    }
  }
  EXPECT_EQ(leaks, 0u) << "plaintext crossed the broker";
  // And not even a 12-byte piece of one (each secret has 39 bytes): nothing of it is on the wire.
  for (const auto& frame : wire) {
    for (std::size_t i = 0; i < secrets.size(); i += 7) {
      EXPECT_EQ(frame.find(secrets[i].substr(7, 12)), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace cryptcom::zmq::test
