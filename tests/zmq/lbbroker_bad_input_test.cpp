// The key-blind broker against endpoints that break docs/PROTOCOL.md §11.7, spoken by hand on
// raw ZeroMQ sockets with the project's own frame encoder: a worker that takes keys' worth of
// requests and never opens them; a client naming a key no worker issued; a client naming one
// worker under another worker's key; a rogue worker offering a key id another worker issued; a
// frame for a worker that does not exist. Each is refused at the broker (counted and reported
// through on_event) or costs only the misbehaving party, while well-behaved clients go on being
// served.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "lbbroker_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using namespace lb;
using st = ::zmq::socket_type;

// A worker that registers, answers every key request (in a control frame or riding on a data
// frame) with fresh offers, and never opens, acknowledges or answers anything: a black hole for
// the requests sealed to its keys.
class black_hole {
 public:
  black_hole(::zmq::context_t& ctx, const std::string& backend)
      : thread_([this, &ctx, backend] { run(ctx, backend); }) {}
  ~black_hole() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t data_frames() const { return data_frames_.load(); }
  std::size_t keys_offered() const { return keys_offered_.load(); }
  // Messages swallowed: distinct keys their frames named (a retransmission reuses its key).
  std::size_t messages() const {
    std::lock_guard lock(mutex_);
    return keys_.size();
  }
  clock_type::time_point first_data() const {
    return clock_type::time_point(clock_type::duration(first_data_ns_.load()));
  }

 private:
  void run(::zmq::context_t& ctx, const std::string& backend) {
    raw_endpoint self(ctx, backend, "black-hole");
    while (!stopping_) {
      auto m = self.receive(20ms);
      if (!m || m->size() != 2) continue;
      auto frame = decode_last(*m);
      if (!frame) continue;
      std::uint32_t wanted = 0;
      if (frame->kind == wire::frame_kind::control) wanted = frame->control.wanted;
      if (frame->kind == wire::frame_kind::data) {
        if (data_frames_++ == 0) first_data_ns_ = clock_type::now().time_since_epoch().count();
        std::lock_guard lock(mutex_);
        keys_.insert(frame->data.key_id);
        if (frame->data.control) wanted = frame->data.control->wanted;
      }
      if (wanted == 0) continue;
      std::vector<wire::offered_key> offers;
      for (std::uint32_t i = 0; i < std::min<std::uint32_t>(wanted, 64); ++i) {
        offers.push_back(random_offer());
      }
      keys_offered_ += offers.size();
      (void)self.send({(*m)[0], control_frame(self.instance(), 0, std::move(offers))});
    }
  }

  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> data_frames_{0};
  mutable std::mutex mutex_;
  std::unordered_set<guid>
      keys_;  // the keys its data frames named: one per message, copies included
  std::atomic<std::size_t> keys_offered_{0};
  std::atomic<clock_type::rep> first_data_ns_{0};
  std::thread thread_;
};

TEST(lbbroker_bad_input, a_worker_that_never_opens_loses_only_its_share_and_the_stream_goes_on) {
  constexpr std::size_t clients = 3;
  constexpr std::chrono::milliseconds delivery = 2000ms;
  constexpr auto pace = 5ms;  // one request per client every 5 ms, whatever is outstanding
  ::zmq::context_t ctx;
  running_broker b(ctx, transport::tcp);
  std::deque<worker> workers;
  workers.emplace_back(ctx, b.backend(), "w0");
  workers.emplace_back(ctx, b.backend(), "w1");
  black_hole hole(ctx, b.backend());
  ASSERT_TRUE(b.wait_for([](const broker_stats& s) { return s.workers == 3; }, 5s));

  struct record {
    std::size_t sent = 0;
    std::set<std::size_t> answered, reported;
    std::size_t wrong = 0;
    std::vector<clock_type::time_point> answer_times;
  };
  std::vector<record> records(clients);
  std::atomic<bool> sending{true};
  std::atomic<std::size_t> total_sent{0};
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      record& r = records[c];
      auto s = make(ctx, st::dealer, through_broker_options(delivery));
      s.connect(b.frontend());
      const std::string prefix = "request " + std::to_string(c) + " ";
      auto read = [&](::zmq::recv_flags first) {
        auto flags = first;
        while (auto reply = recv_strings(s, flags)) {
          flags = ::zmq::recv_flags::dontwait;
          if (reply->size() != 2 || reply->at(0).rfind("re:" + prefix, 0) != 0) {
            ++r.wrong;
            continue;
          }
          const std::size_t i = std::stoul(reply->at(0).substr(3 + prefix.size()));
          if (!r.answered.insert(i).second || i >= r.sent) ++r.wrong;
          r.answer_times.push_back(clock_type::now());
        }
        for (const auto& e : drain_events(s)) {
          if (e.kind != event_kind::message_undeliverable) continue;
          if (e.message == 0 || e.message > r.sent) {
            ++r.wrong;  // one message per request: message n is request n - 1
            continue;
          }
          r.reported.insert(e.message - 1);
        }
      };
      s.set(::zmq::sockopt::rcvtimeo, 1);
      while (sending) {
        ASSERT_TRUE(send_strings(s, {prefix + std::to_string(r.sent)}));
        ++r.sent;
        ++total_sent;
        const auto next = clock_type::now() + pace;
        while (clock_type::now() < next) read(::zmq::recv_flags::none);
      }
      // Everything sealed to the hole's keys is reported at the delivery timeout.
      const auto deadline = clock_type::now() + delivery + bound(2000ms);
      while (r.answered.size() + r.reported.size() < r.sent && clock_type::now() < deadline) {
        read(::zmq::recv_flags::none);
      }
    });
  }
  // Run until the hole has swallowed requests for a while.
  const auto start = clock_type::now();
  while (hole.data_frames() == 0 && clock_type::now() - start < bound(5000ms)) {
    std::this_thread::sleep_for(5ms);
  }
  const std::size_t served_before = workers[0].served() + workers[1].served();
  const std::size_t sent_before = total_sent;
  std::this_thread::sleep_for(1500ms);
  const std::size_t served_during = workers[0].served() + workers[1].served() - served_before;
  const std::size_t sent_during = total_sent - sent_before;
  sending = false;
  for (auto& t : threads) t.join();
  hole.stop();
  const broker_stats stats = b.stats();

  ASSERT_GT(hole.data_frames(), 0u) << "no client sealed anything to the black hole";
  const auto since = hole.first_data();
  std::size_t sent = 0, answered = 0, reported = 0, overlap = 0;
  auto longest_gap = clock_type::duration::zero();
  std::vector<clock_type::time_point> times;
  for (std::size_t c = 0; c < clients; ++c) {
    const auto& r = records[c];
    EXPECT_EQ(r.wrong, 0u) << "client " << c;
    sent += r.sent;
    answered += r.answered.size();
    reported += r.reported.size();
    for (std::size_t i : r.reported) overlap += r.answered.count(i);
    EXPECT_EQ(r.answered.size() + r.reported.size(), r.sent)
        << "client " << c << ": requests neither answered nor reported";
    times.insert(times.end(), r.answer_times.begin(), r.answer_times.end());
  }
  std::sort(times.begin(), times.end());
  for (std::size_t i = 1; i < times.size(); ++i) {
    if (times[i] > since && times[i - 1] < since + 1500ms) {
      longest_gap = std::max(longest_gap, times[i] - std::max(times[i - 1], since));
    }
  }
  const auto gap_ms = std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap);
  std::cout << "[ lbbroker ] black hole: " << hole.data_frames() << " data frames swallowed, "
            << hole.keys_offered() << " keys offered; clients sent " << sent << ", answered "
            << answered << ", reported " << reported << " (the hole got " << hole.messages()
            << " messages); in the 1.5 s after the hole's first request the clients sent "
            << sent_during << " and the good workers served " << served_during
            << ", longest gap between answers " << gap_ms.count() << " ms\n";
  EXPECT_EQ(overlap, 0u) << "a request both answered and reported";
  EXPECT_GT(reported, 0u) << "what the hole swallowed was not reported";
  EXPECT_GT(answered, 0u);
  // The good workers went on: at least a quarter of their share of the paced rate (600
  // requests/s, two thirds of it theirs) while the hole held requests, and no pause of the
  // stream longer than half a second.
  // What went into the hole, and only that, was reported; everything else was answered.
  EXPECT_EQ(reported, hole.messages());
  // The stream went on meanwhile: the good workers served at least a quarter of what was sent
  // (their share is two thirds; the rest went into the hole), and it never stopped for a second
  // (a client stuck on the hole would wait for the 2 s delivery timeout). Paced at 600/s on an
  // idle machine; a loaded one sends and serves fewer alike.
  EXPECT_GE(served_during * 4, sent_during);
  EXPECT_GT(served_during, 0u);
  EXPECT_LE(gap_ms, bound(1000ms));
  EXPECT_EQ(workers[0].malformed() + workers[1].malformed(), 0u);
  EXPECT_EQ(stats.refused_forged_issuer, 0u);
  EXPECT_EQ(stats.refused_unknown_key, 0u);
}

// The raw client's view of the pool: it has registered and knows the two workers.
struct raw_pool {
  explicit raw_pool(::zmq::context_t& ctx)
      : b(ctx, transport::tcp), raw(ctx, b.frontend(), "raw-client") {
    workers.emplace_back(ctx, b.backend(), "w0");
    workers.emplace_back(ctx, b.backend(), "w1");
    good = make(ctx, st::dealer, through_broker_options());
    good.connect(b.frontend());
    announced = raw.await_workers(2, 5000ms);
    std::sort(announced.begin(), announced.end());
  }

  // A round trip of the well-behaved client: answered by a worker.
  void exchange(int i) {
    const std::string body = "good " + std::to_string(i);
    ASSERT_TRUE(send_strings(good, {body}));
    auto reply = recv_strings(good);
    ASSERT_TRUE(reply) << "good client not served at request " << i;
    ASSERT_EQ(reply->size(), 2u);
    EXPECT_EQ(reply->at(0), "re:" + body);
  }
  void good_client_was_undisturbed() {
    const auto s = good.stats();
    EXPECT_EQ(s.engine.total.rejected_total(), 0u);
    EXPECT_EQ(s.engine.total.messages_undeliverable, 0u);
    EXPECT_EQ(s.engine.total.messages_resent, 0u);
  }
  // The raw client asks `w` for `n` keys and returns the offers it got (within 3 s).
  std::vector<wire::offered_key> keys_of(const std::string& w, std::uint32_t n) {
    EXPECT_TRUE(raw.send({w, control_frame(raw.instance(), n)}));
    std::vector<wire::offered_key> got;
    const auto deadline = clock_type::now() + 3000ms;
    while (got.size() < n && clock_type::now() < deadline) {
      auto m = raw.receive(100ms);
      if (!m || raw.note(*m) || m->size() != 2 || m->at(0) != w) continue;
      auto f = decode_last(*m);
      if (!f) continue;
      const wire::control_block* block = nullptr;
      if (f->kind == wire::frame_kind::control) block = &f->control;
      if (f->kind == wire::frame_kind::data && f->data.control) block = &*f->data.control;
      if (block) got.insert(got.end(), block->offers.begin(), block->offers.end());
    }
    return got;
  }
  // Whether an event of the broker names the raw client and says `text`.
  bool reported(const std::string& side, const std::string& who, const std::string& text) const {
    const auto events = b.events();
    return std::any_of(events.begin(), events.end(), [&](const broker_event& e) {
      return e.side == side && e.routing_id == who && e.what.find(text) != std::string::npos;
    });
  }
  // Whether a worker has heard from the raw client at all (a frame of it was forwarded): a
  // worker keeps one peer per client path.
  bool a_worker_heard_from_the_raw_client() {
    for (auto& w : workers) {
      for (const auto& [id, route] : w.sock().stats().routes) {
        if (route == std::vector<std::string>{"raw-client"}) return true;
      }
    }
    return false;
  }

  running_broker b;
  raw_endpoint raw;
  std::deque<worker> workers;
  socket good;
  std::vector<std::string> announced;
};

TEST(lbbroker_bad_input, a_data_frame_under_a_key_no_worker_issued_is_refused_at_the_broker) {
  ::zmq::context_t ctx;
  raw_pool p(ctx);
  ASSERT_EQ(p.announced, (std::vector<std::string>{"w0", "w1"}));
  for (int i = 0; i < 20; ++i) p.exchange(i);

  const guid forged = random_guid();
  ASSERT_TRUE(p.raw.send({"w0", junk_data_frame(forged)}));
  EXPECT_TRUE(p.b.wait_for([](const broker_stats& s) { return s.refused_unknown_key >= 1; }, 2s))
      << "the broker forwarded a frame under a key no worker issued";
  for (int i = 20; i < 40; ++i) p.exchange(i);

  const broker_stats s = p.b.stats();
  EXPECT_EQ(s.refused_unknown_key, 1u);
  EXPECT_EQ(s.refused_forged_issuer, 0u);
  EXPECT_EQ(s.refused_unknown_worker, 0u);
  // The event names the client, the key and the reason.
  EXPECT_TRUE(p.reported("client", "raw-client", forged.short_hex()))
      << "no on_event naming the raw client and the key id";
  EXPECT_TRUE(p.reported("client", "raw-client", "refused")) << "the event does not say it refused";
  // No worker saw it (w0 would have rejected it as an unknown key, on a path of the raw client).
  for (auto& w : p.workers) {
    EXPECT_EQ(w.sock().stats().engine.total.rejected_unknown_key, 0u) << w.name();
  }
  EXPECT_FALSE(p.a_worker_heard_from_the_raw_client());
  p.good_client_was_undisturbed();
}

TEST(lbbroker_bad_input, a_key_named_under_another_worker_or_reoffered_by_a_rogue_is_forged) {
  ::zmq::context_t ctx;
  raw_pool p(ctx);
  ASSERT_EQ(p.announced, (std::vector<std::string>{"w0", "w1"}));
  const auto keys0 = p.keys_of("w0", 4);
  const auto keys1 = p.keys_of("w1", 4);
  ASSERT_GE(keys0.size(), 2u) << "w0 offered the raw client no keys";
  ASSERT_GE(keys1.size(), 1u) << "w1 offered the raw client no keys";
  for (int i = 0; i < 10; ++i) p.exchange(i);

  // A data frame for w0 under a key w1 issued: the broker refuses it (forged issuer).
  ASSERT_TRUE(p.raw.send({"w0", junk_data_frame(keys1[0].id)}));
  EXPECT_TRUE(p.b.wait_for([](const broker_stats& s) { return s.refused_forged_issuer >= 1; }, 2s));
  EXPECT_TRUE(p.reported("client", "raw-client", keys1[0].id.short_hex()));
  // The same junk under w0's own key is forwarded (the broker routes by key and issuer; it does
  // not open): w0 tries it, fails, and rejects it back to the raw client.
  const auto routed = p.b.stats().data_frames_routed;
  ASSERT_TRUE(p.raw.send({"w0", junk_data_frame(keys0[0].id)}));
  bool rejected_back = false;
  const auto deadline = clock_type::now() + 3000ms;
  while (!rejected_back && clock_type::now() < deadline) {
    auto m = p.raw.receive(100ms);
    if (!m || p.raw.note(*m) || m->size() != 2 || m->at(0) != "w0") continue;
    auto f = decode_last(*m);
    if (!f) continue;
    const wire::control_block* block = f->kind == wire::frame_kind::control ? &f->control
                                       : f->data.control                    ? &*f->data.control
                                                                            : nullptr;
    if (block == nullptr) continue;
    for (const auto& r : block->rejections) rejected_back = rejected_back || r.id == keys0[0].id;
  }
  EXPECT_TRUE(rejected_back) << "a frame under the worker's own key did not reach it";
  EXPECT_GT(p.b.stats().data_frames_routed, routed);

  // A rogue worker offers the raw client a key id w0 issued to it: refused (forged issuer), and
  // the raw client never sees that offer; a fresh key id of its own goes through.
  raw_endpoint rogue(ctx, p.b.backend(), "rogue");
  const auto joined = clock_type::now() + 3000ms;
  while (p.b.stats().workers < 3 && clock_type::now() < joined) (void)rogue.receive(20ms);
  ASSERT_EQ(p.b.stats().workers, 3u) << "the rogue worker did not register";
  const wire::offered_key stolen{keys0[1].id, random_offer().key, 60000};
  const wire::offered_key own = random_offer();
  ASSERT_TRUE(rogue.send({"raw-client", control_frame(rogue.instance(), 0, {stolen})}));
  ASSERT_TRUE(rogue.send({"raw-client", control_frame(rogue.instance(), 0, {own})}));
  bool saw_stolen = false, saw_own = false;
  const auto until = clock_type::now() + 3000ms;
  while (!saw_own && clock_type::now() < until) {
    (void)rogue.receive(0ms);  // keep answering the broker's presence
    auto m = p.raw.receive(50ms);
    if (!m || p.raw.note(*m) || m->size() != 2 || m->at(0) != "rogue") continue;
    auto f = decode_last(*m);
    if (!f || f->kind != wire::frame_kind::control) continue;
    for (const auto& k : f->control.offers) {
      saw_stolen = saw_stolen || k.id == stolen.id;
      saw_own = saw_own || k.id == own.id;
    }
  }
  EXPECT_TRUE(saw_own) << "the rogue's offer of a fresh key was not forwarded";
  EXPECT_FALSE(saw_stolen) << "the broker forwarded an offer of a key id w0 issued";
  const broker_stats s = p.b.stats();
  EXPECT_EQ(s.refused_forged_issuer, 2u);
  EXPECT_EQ(s.refused_unknown_key, 0u);
  EXPECT_TRUE(p.reported("worker", "rogue", stolen.id.short_hex()))
      << "no on_event naming the rogue and the key id";
  for (int i = 10; i < 30; ++i) p.exchange(i);
  p.good_client_was_undisturbed();
}

TEST(lbbroker_bad_input, a_frame_for_a_worker_that_does_not_exist_is_refused_and_answered_gone) {
  ::zmq::context_t ctx;
  raw_pool p(ctx);
  ASSERT_EQ(p.announced, (std::vector<std::string>{"w0", "w1"}));
  ASSERT_TRUE(p.raw.send({"no-such-worker", control_frame(p.raw.instance(), 4)}));
  ASSERT_TRUE(p.raw.send({"no-such-worker", junk_data_frame(random_guid())}));
  std::size_t gone = 0;
  const auto deadline = clock_type::now() + 3000ms;
  while (gone < 2 && clock_type::now() < deadline) {
    auto m = p.raw.receive(100ms);
    if (!m) continue;
    // The gone notice: [W, 00] with no key id (the broker recorded none of that worker's).
    if (*m == std::vector<std::string>{"no-such-worker", std::string(1, '\0')}) ++gone;
  }
  EXPECT_EQ(gone, 2u) << "each frame for the unknown worker is answered [W, 00]";
  EXPECT_TRUE(
      p.b.wait_for([](const broker_stats& s) { return s.refused_unknown_worker >= 2; }, 2s));
  const broker_stats s = p.b.stats();
  EXPECT_EQ(s.refused_unknown_worker, 2u);
  EXPECT_EQ(s.refused_unknown_key, 0u);
  EXPECT_FALSE(p.a_worker_heard_from_the_raw_client());
  EXPECT_TRUE(p.reported("client", "raw-client", "")) << "no on_event naming the raw client";
  for (int i = 0; i < 20; ++i) p.exchange(i);
  p.good_client_was_undisturbed();
}

}  // namespace
}  // namespace cryptcom::zmq::test
