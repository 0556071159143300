// The I/O threads the sockets of a context share (cryptcom/zmq/io_threads.hpp): how many there
// are, that sockets sharing one all make progress (messages, timers, progress without the
// application, context termination), and that they go with the last socket.
#include <dirent.h>
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cryptcom/zmq/io_threads.hpp"
#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

// Threads of this process named as cryptcom names its I/O threads.
int io_thread_count() {
  int count = 0;
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return -1;
  while (const dirent* t = readdir(tasks)) {
    if (t->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + t->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name == "cryptcom-io") ++count;
  }
  closedir(tasks);
  return count;
}

// Thread exits are seen a little after join returns (the kernel reaps the task).
int io_thread_count_settled(int expected) {
  int n = io_thread_count();
  for (int i = 0; i < 100 && n != expected; ++i) {
    std::this_thread::sleep_for(10ms);
    n = io_thread_count();
  }
  return n;
}

TEST(zmq_io_threads, a_hundred_sockets_of_one_context_share_one_thread_and_all_get_through) {
  const int before = io_thread_count();
  ASSERT_GE(before, 0);
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  const std::string ep = bind_any(router, transport::tcp);
  constexpr int peers = 100;
  std::vector<socket> dealers;
  for (int i = 0; i < peers; ++i) {
    dealers.push_back(make(ctx, st::dealer));
    dealers.back().connect(ep);
  }
  EXPECT_EQ(io_thread_count(), before + 1);
  // Every dealer sends two messages; the router answers each; every answer comes back.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < peers; ++i) {
      ASSERT_TRUE(
          send_strings(dealers[i], {"d" + std::to_string(i) + "r" + std::to_string(round)}));
    }
  }
  std::set<std::string> seen;
  for (int n = 0; n < 2 * peers; ++n) {
    auto got = recv_strings(router);
    ASSERT_TRUE(got) << "after " << n << " messages";
    ASSERT_EQ(got->size(), 2u);
    seen.insert(got->back());
    ASSERT_TRUE(send_strings(router, {got->front(), "re:" + got->back()}));
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(2 * peers));
  for (int i = 0; i < peers; ++i) {
    for (int round = 0; round < 2; ++round) {
      auto got = recv_strings(dealers[i]);
      ASSERT_TRUE(got) << "dealer " << i;
      EXPECT_EQ(got->back().substr(0, 4 + std::to_string(i).size()), "re:d" + std::to_string(i));
    }
  }
  dealers.clear();
  router.close();
  EXPECT_EQ(io_thread_count_settled(before), before) << "the last socket takes the thread along";
}

TEST(zmq_io_threads, the_count_is_set_per_context_and_sockets_spread_over_the_threads) {
  const int before = io_thread_count();
  ::zmq::context_t three;
  ::zmq::context_t other;
  EXPECT_EQ(io_threads(three), 1);
  set_io_threads(three, 3);
  EXPECT_EQ(io_threads(three), 3);
  EXPECT_EQ(three.get(::zmq::ctxopt::io_threads), 3) << "it is the context's ZMQ_IO_THREADS";
  EXPECT_EQ(io_threads(other), 1);
  std::vector<socket> sockets;
  for (int i = 0; i < 2; ++i) sockets.push_back(make(three, st::pair));
  EXPECT_EQ(io_thread_count(), before + 2) << "a thread starts when a socket needs it";
  for (int i = 0; i < 4; ++i) sockets.push_back(make(three, st::pair));
  EXPECT_EQ(io_thread_count(), before + 3);
  sockets.push_back(make(other, st::pair));
  EXPECT_EQ(io_thread_count(), before + 4);
  // PAIRs two by two across the threads all talk.
  for (std::size_t i = 0; i < 6; i += 2) {
    const std::string ep = "inproc://io-threads-" + std::to_string(i);
    sockets[i].bind(ep);
    sockets[i + 1].connect(ep);
    ASSERT_TRUE(send_strings(sockets[i], {"ping"}));
    auto got = recv_strings(sockets[i + 1]);
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(got->back(), "ping");
  }
  sockets.clear();
  EXPECT_EQ(io_thread_count_settled(before), before);
}

TEST(zmq_io_threads, bad_counts_are_refused) {
  ::zmq::context_t ctx;
  for (int bad : {0, -1, 257}) {
    try {
      set_io_threads(ctx, bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const error& e) {
      EXPECT_EQ(e.num(), EINVAL);
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(io_threads(ctx), 1);
  EXPECT_THROW(set_io_threads(static_cast<void*>(nullptr), 2), ::zmq::error_t);
}

TEST(zmq_io_threads, timers_of_sockets_sharing_a_thread_run_while_no_message_moves) {
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.engine.retransmit_after = 100ms;
  o.engine.delivery_timeout = 400ms;
  // Plain ROUTERs that swallow everything: no key ever comes back.
  std::vector<::zmq::socket_t> sinks;
  std::vector<socket> dealers;
  for (int i = 0; i < 5; ++i) {
    sinks.emplace_back(ctx, st::router);
    sinks.back().set(::zmq::sockopt::linger, 0);
    const std::string ep = "inproc://io-threads-sink-" + std::to_string(i);
    sinks.back().bind(ep);
    dealers.push_back(make(ctx, st::dealer, o));
    dealers.back().connect(ep);
    ASSERT_TRUE(send_strings(dealers.back(), {"into the void"}));
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::set<int> reported;
  while (reported.size() < dealers.size() && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < dealers.size(); ++i) {
      while (auto e = dealers[i].poll_event()) {
        if (e->kind == event_kind::message_undeliverable && e->message == 1) {
          reported.insert(static_cast<int>(i));
        }
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(reported.size(), dealers.size()) << "each dealer's delivery timeout fired";
}

TEST(zmq_io_threads, sockets_sharing_a_thread_answer_key_requests_while_the_application_sleeps) {
  // The receivers' application never calls in until every sender's messages are acknowledged:
  // key requests and acknowledgements are the shared thread's work alone.
  ::zmq::context_t ctx;
  constexpr int pairs = 4;
  constexpr int count = 20;
  std::vector<socket> receivers;
  std::vector<socket> senders;
  for (int i = 0; i < pairs; ++i) {
    receivers.push_back(make(ctx, st::pair));
    const std::string ep = bind_any(receivers.back(), transport::ipc);
    senders.push_back(make(ctx, st::pair));
    senders.back().connect(ep);
    for (int m = 0; m < count; ++m) ASSERT_TRUE(send_strings(senders.back(), {std::to_string(m)}));
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (auto& s : senders) {
    while (s.stats().engine.total.messages_acknowledged < static_cast<std::uint64_t>(count)) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "not acknowledged in time";
      std::this_thread::sleep_for(10ms);
    }
  }
  for (auto& r : receivers) {
    for (int m = 0; m < count; ++m) {
      auto got = recv_strings(r);
      ASSERT_TRUE(got);
      EXPECT_EQ(got->back(), std::to_string(m));
    }
  }
}

TEST(zmq_io_threads, sockets_with_the_default_key_pool_share_their_contexts_pool) {
  const auto keygen_threads = [] {
    int count = 0;
    DIR* tasks = opendir("/proc/self/task");
    while (const dirent* t = tasks != nullptr ? readdir(tasks) : nullptr) {
      std::ifstream comm(std::string("/proc/self/task/") + t->d_name + "/comm");
      std::string name;
      std::getline(comm, name);
      count += name.rfind("cryptcom-keygen", 0) == 0 ? 1 : 0;
    }
    if (tasks != nullptr) closedir(tasks);
    return count;
  };
  const int before = keygen_threads();
  ::zmq::context_t ctx;
  socket server(ctx, st::rep);
  server.bind("inproc://io-threads-keys");
  socket client(ctx, st::req);
  client.connect("inproc://io-threads-keys");
  socket_options own;
  own.key_pool_options.capacity = 64;
  own.key_pool_options.low_watermark = 32;
  socket other(ctx, st::pair, own);
  int threads = keygen_threads();
  for (int i = 0; i < 100 && threads != before + 2; ++i) {
    std::this_thread::sleep_for(10ms);  // a generator thread names itself when it starts
    threads = keygen_threads();
  }
  EXPECT_EQ(threads, before + 2) << "one shared pool, and the socket with its own";
  ASSERT_TRUE(send_strings(client, {"q"}));
  ASSERT_TRUE(recv_strings(server));
  ASSERT_TRUE(send_strings(server, {"a"}));
  ASSERT_TRUE(recv_strings(client));
  // One pool: what the server's pool handed out covers the keys both engines made (read
  // first: the count only grows).
  const std::uint64_t made =
      server.stats().engine.total.keys_generated + client.stats().engine.total.keys_generated;
  EXPECT_GT(client.stats().engine.total.keys_generated, 0u) << "the REQ made a reply key";
  EXPECT_GE(server.stats().key_pool.taken, made);
  EXPECT_EQ(other.stats().key_pool.taken, 0u);
}

TEST(zmq_io_threads, idle_sockets_sharing_a_thread_cost_no_cpu) {
  // A thread that kept turning a loop whose descriptor stayed readable would spin: measured as
  // the process's CPU time while nothing happens.
  ::zmq::context_t ctx;
  std::vector<socket> sockets;
  for (int i = 0; i < 5; ++i) {
    sockets.push_back(make(ctx, st::router));
    const std::string ep = bind_any(sockets.back(), transport::tcp);
    sockets.push_back(make(ctx, st::dealer));
    sockets.back().connect(ep);
    ASSERT_TRUE(send_strings(sockets.back(), {"wake"}));
    ASSERT_TRUE(recv_strings(sockets[sockets.size() - 2]));
  }
  std::this_thread::sleep_for(300ms);  // acknowledgements and key refills settle
  auto cpu_ms = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
  };
  const double before = cpu_ms();
  std::this_thread::sleep_for(1s);
  // Background key generation may still top up the pools; a spinning thread would take ~1000 ms.
  EXPECT_LT(cpu_ms() - before, 200.0);
}

TEST(zmq_io_threads, terminating_the_context_ends_every_socket_sharing_its_thread) {
  ::zmq::context_t ctx;
  std::vector<socket> sockets;
  for (int i = 0; i < 3; ++i) sockets.push_back(make(ctx, st::pair));
  sockets[0].bind("inproc://io-threads-term");
  sockets[1].connect("inproc://io-threads-term");
  std::thread terminator([&] { ctx.close(); });  // blocks until every socket is closed
  // Each socket learns of the termination: its I/O thread reports it as a transport error.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (auto& s : sockets) {
    bool told = false;
    while (!told && std::chrono::steady_clock::now() < deadline) {
      while (auto e = s.poll_event()) told = told || e->kind == event_kind::transport_error;
      if (!told) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(told);
    s.close();
  }
  terminator.join();
}

}  // namespace
}  // namespace cryptcom::zmq::test
