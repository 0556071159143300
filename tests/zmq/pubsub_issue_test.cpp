// Issue 13's tests of PUB, SUB, XPUB and XSUB with one-time keys (docs/PROTOCOL.md §11.8), over
// real sockets: fan-out to ten subscribers on overlapping prefixes, directly and through a plain
// zmq_proxy(XSUB, XPUB) with two publishers, with what the wire carries searched for plaintext;
// a slow subscriber; a subscriber killed and restarted; bad input (no keys, floods of wire
// subscriptions, subscription sets over the bounds, identities not allowed); XPUB and XSUB as
// the application sees them.
//
// Scale: the fan-out tests publish 10,000 messages (27,000 sealed copies) in the gcc build; under
// the sanitizers, which seal and open ten times slower or more, 2,000 (the pattern of
// many_clients_test.cpp). CRYPTCOM_ZMQ_PUBSUB_MESSAGES sets it explicitly (a multiple of 10).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pubsub_support.hpp"
#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using namespace std::chrono_literals;
using st = ::zmq::socket_type;
using clock_type = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int default_messages = 2000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int default_messages = 2000;
#else
constexpr int default_messages = 10000;
#endif
#else
constexpr int default_messages = 10000;
#endif

int fanout_messages() {
  if (const char* v = std::getenv("CRYPTCOM_ZMQ_PUBSUB_MESSAGES")) {
    return std::max(10, std::atoi(v) / 10 * 10);
  }
  return default_messages;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// ---------------------------------------------------------------------------------------------
// The fan-out: ten leaf topics, message i on leaf i % 10; ten subscribers on overlapping
// prefixes, one on everything, two with two topics each (one of them a topic and a prefix of it).

const std::vector<std::string> leaves = {"wx/eu/fr",  "wx/eu/de", "wx/us/ny", "fx/eurusd",
                                         "fx/usdjpy", "eq/aapl",  "eq/msft",  "log/err",
                                         "log/warn",  "misc/other"};

const std::vector<std::vector<std::string>> subscriptions = {
    {""},       {"wx/"}, {"wx/eu/"},           {"wx/eu/fr"},     {"fx/"},
    {"fx/usd"}, {"eq/"}, {"eq/aapl", "log/e"}, {"eq/", "eq/msft"}, {"misc/", "wx/us/"}};

// How many of every ten messages each subscriber matches, counted by hand from the lists above
// (the oracle the per-message check below is compared with).
const std::vector<int> matches_per_ten = {10, 3, 2, 1, 2, 1, 2, 2, 2, 2};

std::string first_part(int i) { return leaves[i % leaves.size()] + "#" + std::to_string(i); }
// Every body carries a marker no ciphertext will contain by chance.
std::string body(int i) { return "secret#" + std::to_string(i) + "#plaintext-marker"; }

bool matches(const std::vector<std::string>& topics, std::string_view first) {
  return std::any_of(topics.begin(), topics.end(),
                     [&](const std::string& t) { return first.starts_with(t); });
}

std::vector<std::string> all_topics() {
  std::vector<std::string> out;
  for (const auto& s : subscriptions) out.insert(out.end(), s.begin(), s.end());
  return out;
}

// What may never appear on the wire in clear: the bodies' marker, every leaf topic (first parts)
// and every subscribed prefix long enough not to occur by chance (subscription sets).
std::vector<std::string> plaintext_markers() {
  std::vector<std::string> out = {"secret#", "plaintext-marker", "ready"};
  for (const auto& l : leaves) out.push_back(l);
  for (const auto& t : all_topics()) {
    if (t.size() >= 5) out.push_back(t);
  }
  return out;
}

bool is_data_frame(std::string_view f) {
  // §5: fixarray of 7, version 1, kind 2.
  return f.size() > 3 && static_cast<unsigned char>(f[0]) == 0x97 && f[1] == 1 && f[2] == 2;
}

// What an eavesdropper sees: every message its sockets receive, scanned for plaintext markers
// as it comes. It reads on its own thread, its sockets without a high-water mark, so that it
// sees everything and slows nobody. Sockets are handed over before start().
class wire_tap {
 public:
  explicit wire_tap(std::vector<std::string> markers) : markers_(std::move(markers)) {}
  ~wire_tap() { stop(); }
  wire_tap(const wire_tap&) = delete;
  wire_tap& operator=(const wire_tap&) = delete;

  ::zmq::socket_t& add(::zmq::context_t& ctx, st type) {
    sockets_.push_back(std::make_unique<::zmq::socket_t>(ctx, type));
    sockets_.back()->set(::zmq::sockopt::rcvhwm, 0);
    sockets_.back()->set(::zmq::sockopt::linger, 0);
    return *sockets_.back();
  }
  void start() {
    destinations_.resize(sockets_.size());
    thread_ = std::thread([this] { run(); });
  }
  // Reads until the sockets have been quiet for 100 ms, then stops.
  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }
  // Valid after stop().
  std::size_t messages() const { return messages_; }
  std::size_t data_frames() const { return data_frames_; }
  // The first frames (addresses) of the three-frame messages that carried a data frame, on the
  // i-th socket added.
  const std::set<std::string>& data_destinations(std::size_t i) const { return destinations_[i]; }
  const std::vector<std::string>& leaks() const { return leaks_; }

 private:
  void run() {
    std::vector<::zmq::pollitem_t> items;
    for (auto& s : sockets_) items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});
    auto quiet_since = clock_type::now();
    while (!stop_ || clock_type::now() - quiet_since < 100ms) {
      ::zmq::poll(items, 10ms);
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        std::vector<::zmq::message_t> parts;
        while (::zmq::recv_multipart(*sockets_[i], std::back_inserter(parts),
                                     ::zmq::recv_flags::dontwait)) {
          scan(i, parts);
          parts.clear();
          quiet_since = clock_type::now();
        }
      }
    }
  }
  void scan(std::size_t socket, const std::vector<::zmq::message_t>& parts) {
    ++messages_;
    for (const auto& p : parts) {
      const std::string_view f = p.to_string_view();
      for (const auto& m : markers_) {
        if (f.find(m) != std::string_view::npos && leaks_.size() < 20) leaks_.push_back(m);
      }
    }
    if (parts.size() == 3 && is_data_frame(parts[2].to_string_view())) {
      ++data_frames_;
      destinations_[socket].insert(parts[0].to_string());
    }
  }

  std::vector<std::string> markers_;
  std::vector<std::unique_ptr<::zmq::socket_t>> sockets_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::size_t messages_ = 0;
  std::size_t data_frames_ = 0;
  std::vector<std::set<std::string>> destinations_;
  std::vector<std::string> leaks_;
};

// Reads what is waiting on `s` (without blocking) and calls `take` with each message.
template <class Take>
void drain(socket& s, Take&& take) {
  while (auto m = recv_strings(s, ::zmq::recv_flags::dontwait)) take(*m);
}

// Publishes `n` messages (message i through publishers[i % size]) and reads the subscribers
// meanwhile, then checks that subscriber k opened exactly the messages whose first part matches
// subscriptions[k], each once and intact. ZeroMQ's PUB has no flow control (it drops at its
// high-water mark, and so does ours, test slow_subscriber_*): the test paces itself so that no
// subscriber is owed more than `window` messages, so that every message must arrive and any
// difference is a fault. Returns the seconds from the first send to the last delivery.
double fan_out(const std::vector<socket*>& pubs, const std::vector<socket*>& subs, int n) {
  constexpr int window = 200;
  const std::size_t k_subs = subs.size();
  std::vector<std::vector<unsigned char>> seen(k_subs, std::vector<unsigned char>(n, 0));
  std::vector<int> owed(k_subs, 0);
  std::vector<int> received(k_subs, 0);
  std::vector<int> expected(k_subs, 0);
  std::vector<std::string> faults;
  std::vector<::zmq::pollitem_t> items;
  for (auto* s : subs) items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});

  const auto start = clock_type::now();
  const auto deadline = start + 120s;
  int sent = 0;
  auto all_in = [&] {
    for (std::size_t k = 0; k < k_subs; ++k) {
      if (received[k] < expected[k]) return false;
    }
    return true;
  };
  while ((sent < n || !all_in()) && clock_type::now() < deadline) {
    while (sent < n && *std::max_element(owed.begin(), owed.end()) < window) {
      const std::string first = first_part(sent);
      if (!send_strings(*pubs[sent % pubs.size()], {first, body(sent)})) {
        ADD_FAILURE() << "publisher refused message " << sent;
        return 0;
      }
      for (std::size_t k = 0; k < k_subs; ++k) {
        if (matches(subscriptions[k], first)) {
          ++owed[k];
          ++expected[k];
        }
      }
      ++sent;
    }
    ::zmq::poll(items, 5ms);
    for (std::size_t k = 0; k < k_subs; ++k) {
      drain(*subs[k], [&](const std::vector<std::string>& m) {
        if (m.size() == 1 && m[0].ends_with("ready")) return;  // wait_until_subscribed's
        const std::size_t hash = m.empty() ? std::string::npos : m[0].find('#');
        const int i = hash == std::string::npos ? -1 : std::atoi(m[0].c_str() + hash + 1);
        if (i < 0 || i >= n || m.size() != 2 || m[0] != first_part(i) || m[1] != body(i)) {
          if (faults.size() < 10) faults.push_back("subscriber " + std::to_string(k) + ": " +
                                                   (m.empty() ? "(empty)" : m[0]));
          return;
        }
        if (!matches(subscriptions[k], m[0]) && faults.size() < 10) {
          faults.push_back("subscriber " + std::to_string(k) + " opened " + m[0]);
        }
        if (++seen[k][i] == 2 && faults.size() < 10) {
          faults.push_back("subscriber " + std::to_string(k) + " got twice " + m[0]);
        }
        --owed[k];
        ++received[k];
      });
    }
  }
  const double elapsed = seconds_since(start);
  // Anything late (a copy sent twice, a copy that should not have been sent) shows now.
  const auto quiet = clock_type::now() + 300ms;
  while (clock_type::now() < quiet) {
    ::zmq::poll(items, 20ms);
    for (std::size_t k = 0; k < k_subs; ++k) {
      drain(*subs[k], [&](const std::vector<std::string>& m) {
        ADD_FAILURE() << "subscriber " << k << " got more: " << (m.empty() ? "" : m[0]);
      });
    }
  }
  EXPECT_EQ(sent, n);
  EXPECT_TRUE(faults.empty()) << faults.size() << " faults, first: " << faults.front();
  for (std::size_t k = 0; k < k_subs; ++k) {
    EXPECT_EQ(received[k], matches_per_ten[k] * n / 10) << "subscriber " << k;
    for (int i = 0; i < n; ++i) {
      const int want = matches(subscriptions[k], first_part(i)) ? 1 : 0;
      if (seen[k][i] != want) {
        ADD_FAILURE() << "subscriber " << k << " opened " << int(seen[k][i]) << " times "
                      << first_part(i) << ", expected " << want;
        break;
      }
    }
  }
  return elapsed;
}

std::vector<socket*> raw(std::vector<std::unique_ptr<socket>>& v) {
  std::vector<socket*> out;
  for (auto& s : v) out.push_back(s.get());
  return out;
}

std::vector<std::unique_ptr<socket>> make_subscribers(::zmq::context_t& ctx,
                                                      const std::vector<std::string>& endpoints) {
  std::vector<std::unique_ptr<socket>> subs;
  for (const auto& topics : subscriptions) {
    subs.push_back(std::make_unique<socket>(make(ctx, st::sub)));
    for (const auto& t : topics) subs.back()->set(::zmq::sockopt::subscribe, t);
    for (const auto& e : endpoints) subs.back()->connect(e);
  }
  return subs;
}

void report_rate(const char* what, double seconds, int n) {
  int copies = 0;
  for (int m : matches_per_ten) copies += m * n / 10;
  std::printf("[ measure  ] %s: %d messages, %d copies in %.2f s: %.0f copies/s at the publisher; "
              "per subscriber: %.0f msg/s (everything), %.0f msg/s (a tenth)\n",
              what, n, copies, seconds, copies / seconds, n / seconds, n / 10 / seconds);
}

// Issue 13, test 1: one publisher, ten subscribers. The wire is tapped at both ends: a raw XSUB
// subscribed to everything on the publisher's endpoint sees every copy it sends, and a raw XPUB
// every subscriber also connects to sees every upstream message (an XSUB sends those to all it
// is connected to): neither holds a marker.
TEST(pubsub_issue, ten_subscribers_open_exactly_their_matching_messages_and_the_wire_has_no_plaintext) {
  const int n = fanout_messages();
  ::zmq::context_t ctx;
  socket pub = make(ctx, st::pub);
  const std::string endpoint = bind_any(pub, transport::tcp);
  wire_tap tap(plaintext_markers());
  ::zmq::socket_t& down = tap.add(ctx, st::xsub);
  down.connect(endpoint);
  down.send(::zmq::str_buffer("\x01"), ::zmq::send_flags::none);  // everything
  ::zmq::socket_t& up = tap.add(ctx, st::xpub);
  up.set(::zmq::sockopt::xpub_verbose, 1);
  const std::string up_endpoint = bind_any(up, transport::tcp);
  tap.start();

  auto subs = make_subscribers(ctx, {endpoint, up_endpoint});
  ASSERT_NO_FATAL_FAILURE(wait_until_subscribed(pub, raw(subs), all_topics()));
  const double seconds = fan_out({&pub}, raw(subs), n);
  report_rate("direct", seconds, n);

  const auto s = pub.stats();
  EXPECT_EQ(s.transport.messages_dropped, 0u);
  EXPECT_EQ(s.engine.total.messages_undeliverable, 0u);
  EXPECT_EQ(s.transport.peers, subs.size());
  subs.clear();
  pub.close();
  tap.stop();
  EXPECT_TRUE(tap.leaks().empty()) << "plaintext on the wire: " << tap.leaks().front();
  // The tap saw the traffic (so that finding nothing means something): every copy, each
  // addressed to one of the ten subscribers.
  EXPECT_GE(tap.data_frames(), static_cast<std::size_t>(27 * n / 10));
  EXPECT_EQ(tap.data_destinations(0).size(), subscriptions.size());
}

// A plain zmq_proxy(XSUB, XPUB) forwarder whose capture socket feeds a wire_tap.
class plain_forwarder {
 public:
  plain_forwarder(::zmq::context_t& ctx, transport t, wire_tap& tap)
      : xsub_(ctx, st::xsub),
        xpub_(ctx, st::xpub),
        capture_(ctx, st::push),
        control_(ctx, st::pair),
        control_in_(ctx, st::pair) {
    for (auto* s : {&xsub_, &xpub_, &capture_, &control_, &control_in_})
      s->set(::zmq::sockopt::linger, 0);
    capture_.set(::zmq::sockopt::sndhwm, 0);
    const std::string cap = bind_endpoint(transport::inproc);
    tap.add(ctx, st::pull).bind(cap);
    capture_.connect(cap);
    const std::string ctl = bind_endpoint(transport::inproc);
    control_in_.bind(ctl);
    control_.connect(ctl);
    front_ = bind_any(xsub_, t);
    back_ = bind_any(xpub_, t);
    thread_ = std::thread([this] {
      try {
        ::zmq::proxy_steerable(::zmq::socket_ref(xsub_), ::zmq::socket_ref(xpub_),
                               ::zmq::socket_ref(capture_), ::zmq::socket_ref(control_in_));
      } catch (const ::zmq::error_t&) {
      }
    });
  }
  ~plain_forwarder() { stop(); }
  plain_forwarder(const plain_forwarder&) = delete;
  plain_forwarder& operator=(const plain_forwarder&) = delete;
  void stop() {
    if (!thread_.joinable()) return;
    control_.send(::zmq::str_buffer("TERMINATE"), ::zmq::send_flags::none);
    thread_.join();
  }
  const std::string& publishers_endpoint() const { return front_; }
  const std::string& subscribers_endpoint() const { return back_; }

 private:
  ::zmq::socket_t xsub_, xpub_, capture_, control_, control_in_;
  std::string front_, back_;
  std::thread thread_;
};

// Issue 13, test 2: the same through a plain forwarder, with two publishers (message i comes
// from publisher i % 2): every subscriber gets the matching messages of both; the forwarder's
// capture (both directions) holds no plaintext.
TEST(pubsub_issue, through_a_plain_forwarder_two_publishers_reach_ten_subscribers) {
  const int n = fanout_messages();
  ::zmq::context_t ctx;
  wire_tap tap(plaintext_markers());
  plain_forwarder fwd(ctx, transport::ipc, tap);
  tap.start();
  socket p1 = make(ctx, st::pub), p2 = make(ctx, st::pub);
  p1.connect(fwd.publishers_endpoint());
  p2.connect(fwd.publishers_endpoint());
  auto subs = make_subscribers(ctx, {fwd.subscribers_endpoint()});
  ASSERT_NO_FATAL_FAILURE(wait_until_subscribed(p1, raw(subs), all_topics()));
  ASSERT_NO_FATAL_FAILURE(wait_until_subscribed(p2, raw(subs), all_topics()));
  const double seconds = fan_out({&p1, &p2}, raw(subs), n);
  report_rate("forwarder, two publishers", seconds, n);
  for (socket* p : {&p1, &p2}) {
    const auto s = p->stats();
    EXPECT_EQ(s.transport.messages_dropped, 0u);
    EXPECT_EQ(s.engine.total.messages_undeliverable, 0u);
    EXPECT_EQ(s.transport.peers, subs.size());
    // The subscribers' upstream messages for the other publisher reach it too (an XSUB sends
    // to all it is connected to, and so does the forwarder's), and are ignored.
    EXPECT_GT(s.transport.pubsub_not_for_us, 0u);
  }
  subs.clear();
  p1.close();
  p2.close();
  fwd.stop();
  tap.stop();
  EXPECT_TRUE(tap.leaks().empty()) << "plaintext at the forwarder: " << tap.leaks().front();
  EXPECT_GE(tap.data_frames(), static_cast<std::size_t>(27 * n / 10));
}

}  // namespace
}  // namespace cryptcom::zmq::test
