// Worker pools behind the key-blind broker (docs/PROTOCOL.md §11.7, cryptcom::zmq::broker), over
// real sockets on tcp and ipc: many clients (REQ and DEALER) and several workers, every request
// answered once by one worker and the answer reaching the client that asked; the load spread over
// the workers; nothing of any message in what the broker received (its capture). Then a worker
// killed mid-run and a new one added: nothing is lost without a report, and the newcomer gets
// work within a second of connecting.
//
// Scale: 10,000 requests in the gcc build (about four X25519 operations each at the endpoints on
// two cores), 2,000 under the sanitizers, which run every key operation several times slower.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lbbroker_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using namespace lb;
using st = ::zmq::socket_type;

class lbbroker : public ::testing::TestWithParam<transport> {};

INSTANTIATE_TEST_SUITE_P(transports, lbbroker, ::testing::Values(transport::tcp, transport::ipc),
                         [](const auto& p) { return std::string(name_of(p.param)); });

// What one client saw.
struct client_record {
  std::size_t sent = 0;
  std::size_t answered = 0;
  std::size_t wrong = 0;  // a reply that is not "re:" + one of this client's requests
  std::size_t twice = 0;  // a request answered a second time
  std::map<std::string, std::size_t> by_worker;  // "by:wN" -> replies
  std::uint64_t rejected = 0;                    // engine: frames refused by the client
  std::string rejected_why;                      // by reason, and the events, when any
  std::uint64_t undeliverable = 0;               // engine: messages given up
};

// Checks one reply ["re:" + request, "by:" + worker] against the client's requests; returns the
// request's index, or -1 when the reply is not an answer to one of them.
long match_reply(const std::vector<std::string>& reply,
                 const std::unordered_map<std::string, std::size_t>& index_of) {
  if (reply.size() != 2 || reply[0].rfind("re:", 0) != 0 || reply[1].rfind("by:", 0) != 0) {
    return -1;
  }
  const auto it = index_of.find(reply[0].substr(3));
  return it == index_of.end() ? -1 : static_cast<long>(it->second);
}

TEST_P(lbbroker, twenty_clients_five_workers_every_request_answered_once_by_one_worker_unread) {
  constexpr std::size_t clients = 20;
  constexpr std::size_t worker_count = 5;
  const std::size_t total = sanitized ? 2000 : 10000;
  const std::size_t per_client = total / clients;
  constexpr std::size_t window = 8;  // a DEALER client's requests in flight

  ::zmq::context_t ctx;
  running_broker b(ctx, GetParam());
  std::deque<worker> workers;
  for (std::size_t i = 0; i < worker_count; ++i) {
    workers.emplace_back(ctx, b.backend(), "w" + std::to_string(i));
  }
  ASSERT_TRUE(b.wait_for([&](const broker_stats& s) { return s.workers == worker_count; }, 5s))
      << "the workers did not register";

  // Every request carries the run's marker and its own random bytes; a reply is derived from it.
  const std::string marker = "LBSECRET" + random_hex(4);
  std::vector<std::vector<std::string>> bodies(clients);
  for (std::size_t c = 0; c < clients; ++c) {
    for (std::size_t i = 0; i < per_client; ++i) {
      bodies[c].push_back(marker + "|c" + std::to_string(c) + "|" + std::to_string(i) + "|" +
                          random_hex(8));
    }
  }

  std::vector<client_record> records(clients);
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  std::atomic<std::size_t> finished{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      // Half REQ, half DEALER; through_broker set either way the API offers.
      const bool req = c % 2 == 0;
      const bool by_sockopt = c % 4 < 2;
      // No loss is expected here: the engine's default timers, not the short ones of the tests
      // that lose a worker (on a loaded machine a 500 ms retransmission timer sends copies).
      socket_options o = test_options();
      o.through_broker = !by_sockopt;
      auto s = make(ctx, req ? st::req : st::dealer, o);
      if (by_sockopt) s.set(sockopt::through_broker, true);
      s.connect(b.frontend());
      // The socket stays open until the broker's counters are read: a client that has gone is
      // forgotten, and what its workers still send it (late acknowledgements) is then refused.
      struct hold_open {
        std::atomic<std::size_t>& finished;
        const std::atomic<bool>& release;
        ~hold_open() {
          ++finished;
          while (!release) std::this_thread::sleep_for(1ms);
        }
      } hold{finished, release};
      std::unordered_map<std::string, std::size_t> index_of;
      for (std::size_t i = 0; i < per_client; ++i) index_of[bodies[c][i]] = i;
      std::vector<bool> seen(per_client, false);
      client_record& r = records[c];
      auto take = [&](const std::vector<std::string>& reply) {
        const long i = match_reply(reply, index_of);
        if (i < 0) {
          ++r.wrong;
          return;
        }
        if (seen[static_cast<std::size_t>(i)]) ++r.twice;
        seen[static_cast<std::size_t>(i)] = true;
        ++r.answered;
        ++r.by_worker[reply[1].substr(3)];
      };
      ++ready;
      while (!go) std::this_thread::sleep_for(1ms);
      if (req) {
        for (std::size_t i = 0; i < per_client; ++i) {
          ASSERT_TRUE(send_strings(s, {bodies[c][i]}));
          ++r.sent;
          auto reply = recv_strings(s);
          ASSERT_TRUE(reply) << "REQ client " << c << ": no reply to request " << i;
          take(*reply);
        }
      } else {
        std::size_t received = 0;
        while (received < per_client) {
          while (r.sent < per_client && r.sent - received < window) {
            ASSERT_TRUE(send_strings(s, {bodies[c][r.sent]}));
            ++r.sent;
          }
          auto reply = recv_strings(s);
          ASSERT_TRUE(reply) << "DEALER client " << c << ": no reply after " << received;
          ++received;
          take(*reply);
        }
      }
      const socket_stats stats = s.stats();
      const auto& t = stats.engine.total;
      r.rejected = t.rejected_total();
      if (r.rejected > 0) {
        r.rejected_why = "malformed " + std::to_string(t.rejected_malformed) + ", unknown key " +
                         std::to_string(t.rejected_unknown_key) + ", expired " +
                         std::to_string(t.rejected_expired_key) + ", replay " +
                         std::to_string(t.rejected_replay) + ", authentication " +
                         std::to_string(t.rejected_authentication) + ", too large " +
                         std::to_string(t.rejected_too_large) + ", rate limited " +
                         std::to_string(t.rejected_rate_limited) + "; events:";
        for (const auto& e : drain_events(s)) {
          r.rejected_why +=
              " [" + std::string(cryptcom::to_string(e.reason)) + ": " + e.detail + "]";
        }
      }
      r.undeliverable = stats.engine.total.messages_undeliverable;
    });
  }
  while (ready < clients) std::this_thread::sleep_for(1ms);
  const auto start = clock_type::now();
  go = true;
  while (finished < clients) std::this_thread::sleep_for(1ms);
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const broker_stats during = b.stats();
  const auto events = b.events();
  release = true;
  for (auto& t : threads) t.join();
  for (auto& w : workers) w.stop();
  b.stop();

  std::size_t answered = 0;
  std::map<std::string, std::size_t> by_worker;
  for (std::size_t c = 0; c < clients; ++c) {
    const auto& r = records[c];
    answered += r.answered;
    EXPECT_EQ(r.answered, per_client) << "client " << c;
    EXPECT_EQ(r.wrong, 0u) << "client " << c << " got an answer to someone else's request";
    EXPECT_EQ(r.twice, 0u) << "client " << c;
    EXPECT_EQ(r.rejected, 0u) << "client " << c << " refused frames: " << r.rejected_why;
    EXPECT_EQ(r.undeliverable, 0u) << "client " << c;
    for (const auto& [w, n] : r.by_worker) by_worker[w] += n;
  }
  EXPECT_EQ(answered, total);
  std::size_t served = 0;
  std::cout << "[ lbbroker ] " << name_of(GetParam()) << ": " << answered << " requests from "
            << clients << " clients in " << seconds << " s ("
            << static_cast<double>(answered) / seconds << " /s); per worker:";
  for (auto& w : workers) {
    std::cout << " " << w.name() << "=" << by_worker[w.name()];
    served += w.served();
    EXPECT_EQ(w.malformed(), 0u) << w.name();
    // Spread, not split evenly: a worker whose keys are not at hand for a moment is passed over.
    EXPECT_GE(by_worker[w.name()], total / 20) << w.name() << " got less than 5%";
    EXPECT_EQ(w.served(), by_worker[w.name()]) << w.name() << " answered what no client counted";
  }
  std::cout << "\n";
  EXPECT_EQ(by_worker.size(), worker_count) << "a reply named a worker that does not exist";
  EXPECT_EQ(served, total);
  // Its rate is the benchmark's to judge (`./run.sh bench`, the lbbroker row), not a test's:
  // printed above, and bounded only by the receive timeouts.

  // The broker routed every request and reply as a data frame, and refused nothing.
  std::cout << "[ lbbroker ] broker: data frames routed " << during.data_frames_routed
            << ", to workers " << during.frames_to_workers << ", to clients "
            << during.frames_to_clients << ", keys " << during.keys << ", clients "
            << during.clients << "\n";
  EXPECT_GE(during.data_frames_routed, total);
  EXPECT_GE(during.frames_to_workers, total);
  EXPECT_GE(during.frames_to_clients, total);
  EXPECT_EQ(during.workers, worker_count);
  EXPECT_EQ(during.clients_joined, clients);
  EXPECT_EQ(during.workers_gone, 0u);
  EXPECT_EQ(during.refused_unknown_key, 0u);
  EXPECT_EQ(during.refused_forged_issuer, 0u);
  EXPECT_EQ(during.refused_unknown_worker, 0u);
  EXPECT_EQ(during.refused_unknown_client, 0u);
  EXPECT_EQ(during.refused_malformed, 0u);
  EXPECT_EQ(during.refused_full, 0u);
  EXPECT_EQ(during.refused_over_limit, 0u);
  for (const auto& e : events) {
    if (e.what.find("refused") != std::string::npos) ADD_FAILURE() << "broker: " << e.what;
  }

  // What the broker received holds every request and reply, sealed: the capture has at least one
  // data frame for each, and no frame holds the marker every request and reply carries, nor any
  // request or reply whole (checked for one in 25).
  std::size_t data_frames = 0;
  std::size_t leaks = 0;
  for (const auto& m : b.captured()) {
    ASSERT_FALSE(m.empty());
    if (is_data_frame(m.back())) ++data_frames;
    for (const auto& frame : m) leaks += frame.find(marker) != std::string::npos ? 1 : 0;
  }
  std::vector<std::string> sample;
  for (std::size_t c = 0; c < clients; ++c) {
    for (std::size_t i = 0; i < per_client; i += 25) {
      sample.push_back(bodies[c][i].substr(marker.size()));
      sample.push_back("re:" + bodies[c][i]);
    }
  }
  for (const auto& m : b.captured()) {
    for (const auto& frame : m) {
      for (const auto& secret : sample) leaks += frame.find(secret) != std::string::npos ? 1 : 0;
    }
  }
  std::cout << "[ lbbroker ] capture: " << b.captured().size() << " messages, " << data_frames
            << " data frames\n";
  EXPECT_GE(data_frames, 2 * total) << "the capture missed requests or replies";
  EXPECT_EQ(leaks, 0u) << "plaintext in the broker's capture";
}

// A DEALER client of the pool test below: sends numbered requests while `sending`, at most
// `window` awaiting an answer or a report, reads answers and the reports of what was given up
// (poll_event), and after `sending` ends waits until every request is answered or reported, or
// its engine holds nothing unsettled any more (every request acknowledged or reported: an
// acknowledged request whose answer never comes was opened by a worker that then died, which
// the README documents as not reported).
struct streaming_client {
  std::size_t index = 0;
  std::vector<std::string> bodies;
  std::unordered_map<std::string, std::size_t> index_of;
  std::vector<int> answered;  // per request: times answered
  std::vector<int> reported;  // per request: times reported undeliverable
  std::size_t wrong = 0;
  std::map<std::string, std::size_t> by_worker;
  std::map<std::string, std::size_t> report_reasons;
  std::uint64_t acknowledged = 0;   // engine: requests acknowledged by a worker's engine
  std::uint64_t undeliverable = 0;  // engine: requests given up

  std::size_t settled() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < bodies.size(); ++i) n += (answered[i] + reported[i]) > 0;
    return n;
  }

  void run(socket& s, const std::string& marker, const std::atomic<bool>& sending,
           std::atomic<std::size_t>& total_answered, std::size_t window,
           std::chrono::milliseconds drain_for) {
    s.set(::zmq::sockopt::rcvtimeo, 20);
    auto read = [&] {
      // The first answer waits up to 20 ms, the ones already there are taken at once.
      auto flags = ::zmq::recv_flags::none;
      while (auto reply = recv_strings(s, flags)) {
        flags = ::zmq::recv_flags::dontwait;
        const long i = match_reply(*reply, index_of);
        if (i < 0) {
          ++wrong;
          continue;
        }
        ++answered[static_cast<std::size_t>(i)];
        ++by_worker[(*reply)[1].substr(3)];
        ++total_answered;
      }
      for (const auto& e : drain_events(s)) {
        if (e.kind != event_kind::message_undeliverable) continue;
        // The n-th message sent is request n - 1: one message per request.
        if (e.message == 0 || e.message > bodies.size()) {
          ADD_FAILURE() << "client " << index << ": report of message " << e.message;
          continue;
        }
        ++reported[e.message - 1];
        ++report_reasons[std::string(cryptcom::to_string(e.reason))];
      }
    };
    while (sending) {
      while (bodies.size() - settled() < window && sending) {
        const std::string body = marker + "|c" + std::to_string(index) + "|" +
                                 std::to_string(bodies.size()) + "|" + random_hex(8);
        index_of[body] = bodies.size();
        bodies.push_back(body);
        answered.push_back(0);
        reported.push_back(0);
        ASSERT_TRUE(send_strings(s, {body}));
      }
      read();
    }
    const auto deadline = clock_type::now() + drain_for;
    auto quiet_since = clock_type::now();
    std::size_t last_settled = settled();
    while (settled() < bodies.size() && clock_type::now() < deadline) {
      read();
      if (settled() != last_settled) {
        last_settled = settled();
        quiet_since = clock_type::now();
      }
      const auto t = s.stats().engine.total;
      if (t.messages_acknowledged + t.messages_undeliverable >= bodies.size() &&
          clock_type::now() - quiet_since > 300ms) {
        break;
      }
    }
    const auto t = s.stats().engine.total;
    acknowledged = t.messages_acknowledged;
    undeliverable = t.messages_undeliverable;
  }
};

TEST_P(lbbroker,
       a_worker_killed_mid_run_loses_only_what_it_opened_and_a_new_one_gets_work_at_once) {
  constexpr std::size_t clients = 4;
  constexpr std::size_t window = 16;
  constexpr std::chrono::milliseconds delivery = 3000ms;
  ::zmq::context_t ctx;
  running_broker b(ctx, GetParam());
  std::deque<worker> workers;
  for (int i = 0; i < 3; ++i) workers.emplace_back(ctx, b.backend(), "w" + std::to_string(i));
  ASSERT_TRUE(b.wait_for([](const broker_stats& s) { return s.workers == 3; }, 5s));

  const std::string marker = "LBSECRET" + random_hex(4);
  std::vector<streaming_client> records(clients);
  std::atomic<bool> sending{true};
  std::atomic<std::size_t> total_answered{0};
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto s = make(ctx, st::dealer, through_broker_options(delivery));
      s.connect(b.frontend());
      records[c].index = c;
      // Drain: a request the killed worker may have opened is reported at the gone notice, at
      // the latest at the delivery timeout.
      records[c].run(s, marker, sending, total_answered, window, delivery + bound(2000ms));
    });
  }
  auto wait_answered = [&](std::size_t n, std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (total_answered < n && clock_type::now() < deadline) std::this_thread::sleep_for(2ms);
    return total_answered >= n;
  };

  const bool warmed = wait_answered(300, bound(10000ms));
  EXPECT_TRUE(warmed) << "the pool did not answer 300 requests";
  const std::size_t w0_served = workers[0].served();
  workers[0].kill();  // mid-stream: requests of the clients are in flight to it
  // What its engine had opened (its last counters, taken when it closed).
  const std::uint64_t w0_opened = workers[0].sock().stats().engine.total.messages_opened;
  const std::size_t at_kill = total_answered;
  const bool went_on = wait_answered(at_kill + 200, bound(3000ms));
  EXPECT_TRUE(went_on) << "the stream stopped when a worker died (" << total_answered - at_kill
                       << " answered since)";
  EXPECT_TRUE(b.wait_for([](const broker_stats& s) { return s.workers_gone >= 1; }, 2s))
      << "the broker never noticed the dead worker";

  workers.emplace_back(ctx, b.backend(), "w3");
  worker& newcomer = workers.back();
  const auto joined = clock_type::now();
  while (!newcomer.time_to_first_request() && clock_type::now() - joined < bound(3000ms)) {
    std::this_thread::sleep_for(2ms);
  }
  std::this_thread::sleep_for(200ms);
  sending = false;
  for (auto& t : threads) t.join();
  const broker_stats stats = b.stats();
  const auto events = b.events();

  const auto first = newcomer.time_to_first_request();
  ASSERT_TRUE(first.has_value()) << "the new worker got no work";
  std::cout << "[ lbbroker ] " << name_of(GetParam()) << ": new worker's first request "
            << first->count() << " ms after its connect; killed worker had served " << w0_served
            << "\n";
  EXPECT_LE(*first, bound(1000ms));
  EXPECT_GT(w0_served, 0u);
  EXPECT_GT(newcomer.served(), 0u);

  std::size_t sent = 0, answered = 0, reported = 0, silent = 0, answered_by_w0 = 0;
  std::map<std::string, std::size_t> reasons;
  for (const auto& r : records) {
    EXPECT_EQ(r.wrong, 0u) << "client " << r.index;
    std::size_t answered_here = 0, silent_here = 0;
    for (std::size_t i = 0; i < r.bodies.size(); ++i) {
      answered_here += r.answered[i] > 0;
      silent_here += r.answered[i] == 0 && r.reported[i] == 0;
    }
    // Nothing is pending at the client's engine any more: every request was acknowledged or
    // reported (the engine's own count of reports agrees with the events read).
    EXPECT_EQ(r.acknowledged + r.undeliverable, r.bodies.size()) << "client " << r.index;
    EXPECT_EQ(r.undeliverable, static_cast<std::uint64_t>(std::count_if(
                                   r.reported.begin(), r.reported.end(), [](int n) { return n; })))
        << "client " << r.index;
    // A request neither answered nor reported is one whose acknowledgement came: a worker's
    // engine opened it (README: what a killed receiver had opened but its application had not
    // yet read dies with it).
    EXPECT_EQ(silent_here, r.acknowledged - std::min<std::uint64_t>(r.acknowledged, answered_here))
        << "client " << r.index << ": a request neither answered, reported nor acknowledged";
    silent += silent_here;
    if (r.by_worker.contains("w0")) answered_by_w0 += r.by_worker.at("w0");
    for (std::size_t i = 0; i < r.bodies.size(); ++i) {
      ++sent;
      EXPECT_LE(r.answered[i], 1) << "client " << r.index << " request " << i << " answered twice";
      EXPECT_LE(r.reported[i], 1) << "client " << r.index << " request " << i << " reported twice";
      EXPECT_FALSE(r.answered[i] > 0 && r.reported[i] > 0)
          << "client " << r.index << " request " << i << " answered and reported undeliverable";
      answered += r.answered[i] > 0;
      reported += r.reported[i] > 0 && r.answered[i] == 0;
    }
    for (const auto& [why, n] : r.report_reasons) reasons[why] += n;
  }
  std::cout << "[ lbbroker ] sent " << sent << ", answered " << answered << ", reported "
            << reported;
  for (const auto& [why, n] : reasons) std::cout << " (" << why << ": " << n << ")";
  std::cout << "; opened by the killed worker and never answered (acknowledged, not reported) "
            << silent << " (its engine opened " << w0_opened << ", " << answered_by_w0
            << " answers from it arrived); gone notices " << stats.gone_notices_sent << "\n";
  // Every request is answered, reported, or was opened by the worker that died before answering
  // it; the last are no more than it had opened and not answered, and no more than were in
  // flight to it.
  EXPECT_EQ(answered + reported + silent, sent);
  EXPECT_LE(silent, w0_opened - std::min<std::uint64_t>(w0_opened, answered_by_w0));
  EXPECT_LE(silent, clients * window);
  EXPECT_GE(stats.workers_joined, 4u);
  EXPECT_EQ(stats.workers_gone, 1u);
  EXPECT_EQ(stats.workers, 3u);
  EXPECT_GE(stats.gone_notices_sent, clients) << "every client is told the worker is gone";
  // The broker reported the worker that went, by its routing id.
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const broker_event& e) {
    return e.side == "worker" && e.routing_id == "w0";
  })) << "no event about w0";
}

}  // namespace
}  // namespace cryptcom::zmq::test
