// cryptcom::zmq::broker over real sockets: clients and workers with through_broker, the broker
// routing by key id without reading (docs/PROTOCOL.md §11.7). The basic paths: requests answered
// by several workers, a worker that joins later is announced and used, a worker that goes is
// announced gone and the stream goes on with the others.
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
#include "cryptcom/zmq/broker.hpp"

namespace cryptcom::zmq::test {
namespace {

using namespace std::chrono_literals;
using st = ::zmq::socket_type;

socket_options broker_side_options() {
  socket_options o = test_options();
  o.through_broker = true;
  return o;
}

// A worker: a cryptcom DEALER behind the broker that answers [client, "", request] with
// [client, "", request + "@" + name] until stopped.
class worker {
 public:
  worker(::zmq::context_t& ctx, const std::string& backend, std::string name,
         const keypair* service = nullptr, const keypair* client = nullptr)
      : name_(std::move(name)), socket_(make(ctx, st::dealer, broker_side_options())) {
    if (service != nullptr) make_server(socket_, *service, {*client});
    socket_.set(::zmq::sockopt::rcvtimeo, 20);
    socket_.connect(backend);
    thread_ = std::thread([this] { run(); });
  }
  ~worker() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t served() const { return served_.load(); }

 private:
  void run() {
    while (!stopping_) {
      auto got = recv_strings(socket_);
      if (!got) continue;
      auto reply = *got;
      reply.back() += "@" + name_;
      if (send_strings(socket_, reply)) ++served_;
    }
  }
  std::string name_;
  socket socket_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> served_{0};
  std::thread thread_;
};

struct running_broker {
  explicit running_broker(::zmq::context_t& ctx, transport t) : b(ctx) {
    b.bind_frontend(bind_endpoint(t));
    b.bind_backend(bind_endpoint(t));
    thread = std::thread([this] { b.run(); });
  }
  ~running_broker() {
    b.stop();
    thread.join();
  }
  broker b;
  std::thread thread;
};

class key_blind_broker : public ::testing::TestWithParam<transport> {};

TEST_P(key_blind_broker, requests_are_answered_by_every_worker_and_the_broker_reads_nothing) {
  ::zmq::context_t ctx;
  running_broker rb(ctx, GetParam());
  std::vector<std::unique_ptr<worker>> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(
        std::make_unique<worker>(ctx, rb.b.backend_endpoint(), "w" + std::to_string(i)));
  socket client = make(ctx, st::req, broker_side_options());
  client.connect(rb.b.frontend_endpoint());
  std::map<std::string, int> by_worker;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    const std::string request = "request-" + std::to_string(i);
    ASSERT_TRUE(send_strings(client, {request}));
    auto reply = recv_strings(client);
    ASSERT_TRUE(reply) << "no reply to " << request;
    ASSERT_EQ(reply->size(), 1u);
    ASSERT_EQ(reply->front().rfind(request + "@w", 0), 0u) << reply->front();
    ++by_worker[reply->front().substr(request.size() + 1)];
  }
  EXPECT_EQ(by_worker.size(), 3u) << "every worker answered some";
  const broker_stats s = rb.b.stats();
  EXPECT_EQ(s.workers, 3u);
  EXPECT_EQ(s.clients, 1u);
  EXPECT_GE(s.data_frames_routed, static_cast<std::uint64_t>(n));
  EXPECT_EQ(s.refused_unknown_key + s.refused_forged_issuer + s.refused_unknown_worker +
                s.refused_unknown_client + s.refused_malformed,
            0u);
  for (const auto& e : drain_events(client))
    EXPECT_NE(e.kind, event_kind::message_undeliverable) << e.detail;
}

TEST_P(key_blind_broker, a_worker_that_joins_is_used_and_one_that_goes_is_passed_over) {
  ::zmq::context_t ctx;
  running_broker rb(ctx, GetParam());
  auto first = std::make_unique<worker>(ctx, rb.b.backend_endpoint(), "first");
  socket client = make(ctx, st::dealer, broker_side_options());
  client.connect(rb.b.frontend_endpoint());
  auto round_trip = [&](const std::string& request) -> std::string {
    if (!send_strings(client, {"", request})) return "send failed";
    auto reply = recv_strings(client);
    return reply && reply->size() == 2 ? reply->back() : "no reply";
  };
  EXPECT_EQ(round_trip("a"), "a@first");

  worker second(ctx, rb.b.backend_endpoint(), "second");
  const auto joined = std::chrono::steady_clock::now();
  bool used = false;
  while (!used && std::chrono::steady_clock::now() - joined < 3s) {
    used = round_trip("b") == "b@second";
  }
  EXPECT_TRUE(used) << "the new worker was not used within 3 s";
  EXPECT_LT(std::chrono::steady_clock::now() - joined, 1s) << "took over a second";

  first->stop();
  first.reset();  // its socket closes: the broker's probe finds the connection gone
  const auto gone_by = std::chrono::steady_clock::now() + 3s;
  while (rb.b.stats().workers_gone == 0 && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(rb.b.stats().workers_gone, 1u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(round_trip("c" + std::to_string(i)), "c" + std::to_string(i) + "@second");
  EXPECT_EQ(client.stats().transport.workers_gone, 1u);
}

// Authenticated mode through the broker: every worker holds the service's identity, the client
// knows the service's public key; each worker runs its own handshake with the client through
// the broker, which forwards the version 2 frames byte for byte.
TEST_P(key_blind_broker, authenticated_clients_and_workers_talk_through_it) {
  ::zmq::context_t ctx;
  running_broker rb(ctx, GetParam());
  const keypair service = make_keypair();
  const keypair me = make_keypair();
  worker w0(ctx, rb.b.backend_endpoint(), "w0", &service, &me);
  worker w1(ctx, rb.b.backend_endpoint(), "w1", &service, &me);
  socket client = make(ctx, st::req, broker_side_options());
  make_client(client, me, service);
  client.connect(rb.b.frontend_endpoint());
  std::set<std::string> answered_by;
  for (int i = 0; i < 100; ++i) {
    const std::string request = "secret-" + std::to_string(i);
    ASSERT_TRUE(send_strings(client, {request}));
    auto reply = recv_strings(client);
    ASSERT_TRUE(reply) << "no reply to " << request;
    ASSERT_EQ(reply->front().rfind(request + "@w", 0), 0u) << reply->front();
    answered_by.insert(reply->front().substr(request.size() + 1));
  }
  EXPECT_EQ(answered_by.size(), 2u);
  const auto s = client.stats();
  EXPECT_EQ(s.engine.total.handshakes_completed, 2u) << "one session per worker";
  EXPECT_EQ(rb.b.stats().refused_malformed, 0u);
}

INSTANTIATE_TEST_SUITE_P(transports, key_blind_broker,
                         ::testing::Values(transport::tcp, transport::ipc),
                         [](const auto& p) { return std::string(name_of(p.param)); });

}  // namespace
}  // namespace cryptcom::zmq::test
