// Large frames are opened in place when their content is ours alone, and copied when libzmq says
// another message shares it. A relay between two cryptcom PAIR sockets (plain ZeroMQ, inproc, so
// messages cross it without being copied) shows which: a frame it keeps a zmq_msg_copy of must
// still hold ciphertext after delivery, and a frame whose buffer it lends must be opened in that
// very buffer, and freed (the application's message, not wiped) once the application is done
// with it; a frame opened while the socket closes, never handed over, is wiped. Large messages,
// kept or echoed back zero-copy, round trip intact over tcp, ipc and inproc.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

constexpr std::size_t large_frame = 100 * 1024;  // data frames of the large messages below

// Whether `frame` holds any of a few 32-byte slices of `body`: where its plaintext would show.
bool shows_plaintext(const ::zmq::message_t& frame, const std::vector<unsigned char>& body) {
  const std::string haystack = frame.to_string();
  for (std::size_t at : {std::size_t{0}, body.size() / 3, body.size() / 2, body.size() - 32}) {
    const std::string needle(reinterpret_cast<const char*>(body.data()) + at, 32);
    if (haystack.find(needle) != std::string::npos) return true;
  }
  return false;
}

// A frame the relay forwards in a new message that only lends the original's buffer: libzmq
// calls back when the last message referring to the loan is closed.
struct loan {
  ::zmq::message_t original;
  std::atomic<bool> returned{false};
};

// `hint` is a reference to the loan, owned by the lending message, so the loan outlives it.
void give_back(void* /*data*/, void* hint) {
  auto* ref = static_cast<std::shared_ptr<loan>*>(hint);
  (*ref)->returned.store(true, std::memory_order_release);
  delete ref;
}

// Forwards everything between two inproc PAIR endpoints. Frames from A of at least large_frame
// bytes are either copied with zmq_msg_copy (the copy kept, as a proxy's capture would) or
// forwarded in a message lending the original's buffer, which the relay keeps. The relay never
// reads a frame's bytes (the test thread does, after the delivery that orders them).
class relay {
 public:
  enum class large_frames { keep_a_shared_copy, lend_the_buffer };

  relay(::zmq::context_t& ctx, large_frames how)
      : how_(how), a_side_(ctx, st::pair), b_side_(ctx, st::pair) {
    a_ = bind_any(a_side_, transport::inproc);
    b_ = bind_any(b_side_, transport::inproc);
    thread_ = std::thread([this] { run(); });
  }
  ~relay() {
    stop_ = true;
    thread_.join();
  }

  const std::string& a_endpoint() const { return a_; }
  const std::string& b_endpoint() const { return b_; }

  // Copies sharing the content of the large frames forwarded to B.
  std::vector<::zmq::message_t> take_copies() {
    std::lock_guard lock(mutex_);
    return std::move(copies_);
  }
  std::vector<std::shared_ptr<loan>> loans() {
    std::lock_guard lock(mutex_);
    return loans_;
  }
  // While held, messages from A are kept instead of forwarded; release() forwards them, those
  // with a large frame first.
  void hold() { holding_ = true; }
  void release() { holding_ = false; }
  std::size_t held_large() {
    std::lock_guard lock(mutex_);
    return held_large_;
  }

 private:
  void run() {
    while (!stop_) {
      std::array<::zmq::pollitem_t, 2> items{
          {{a_side_.handle(), 0, ZMQ_POLLIN, 0}, {b_side_.handle(), 0, ZMQ_POLLIN, 0}}};
      ::zmq::poll(items.data(), items.size(), 10ms);
      if (items[0].revents & ZMQ_POLLIN) forward(a_side_, b_side_, true);
      if (items[1].revents & ZMQ_POLLIN) forward(b_side_, a_side_, false);
      if (!holding_ && !held_.empty()) {
        std::stable_partition(held_.begin(), held_.end(), [](const auto& m) {
          return std::any_of(m.begin(), m.end(),
                             [](const ::zmq::message_t& f) { return f.size() >= large_frame; });
        });
        for (auto& m : held_) (void)::zmq::send_multipart(b_side_, m);
        held_.clear();
      }
    }
  }

  void forward(::zmq::socket_t& from, ::zmq::socket_t& to, bool from_a) {
    std::vector<::zmq::message_t> frames;
    if (!::zmq::recv_multipart(from, std::back_inserter(frames), ::zmq::recv_flags::dontwait)) {
      return;
    }
    for (auto& f : frames) {
      if (!from_a || f.size() < large_frame) continue;
      std::lock_guard lock(mutex_);
      if (how_ == large_frames::keep_a_shared_copy) {
        copies_.emplace_back().copy(f);
      } else {
        auto l = std::make_shared<loan>();
        l->original.move(f);
        f = ::zmq::message_t(l->original.data(), l->original.size(), &give_back,
                             new std::shared_ptr<loan>(l));
        loans_.push_back(std::move(l));
      }
    }
    if (from_a && holding_) {
      std::lock_guard lock(mutex_);
      for (const auto& f : frames) held_large_ += f.size() >= large_frame ? 1 : 0;
      held_.push_back(std::move(frames));
      return;
    }
    (void)::zmq::send_multipart(to, frames);
  }

  large_frames how_;
  ::zmq::socket_t a_side_, b_side_;
  std::string a_, b_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<::zmq::message_t> copies_;
  std::vector<std::shared_ptr<loan>> loans_;
  std::atomic<bool> holding_{false};
  std::vector<std::vector<::zmq::message_t>> held_;  // the relay thread's only
  std::size_t held_large_ = 0;
};

// Two cryptcom PAIR sockets, A and B, connected through a relay.
struct relayed_pair {
  explicit relayed_pair(relay::large_frames how)
      : r(ctx, how), a(make(ctx, st::pair)), b(make(ctx, st::pair)) {
    a.connect(r.a_endpoint());
    b.connect(r.b_endpoint());
  }
  ::zmq::context_t ctx;
  relay r;
  socket a, b;
};

// Waits (bounded) until the relay gets a lent buffer back; true when it did.
bool given_back(const loan& l) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!l.returned.load(std::memory_order_acquire) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  return l.returned.load(std::memory_order_acquire);
}

// ... and that it came back all zero.
bool given_back_wiped(const loan& l) {
  if (!given_back(l)) return false;
  const auto* buffer = static_cast<const unsigned char*>(l.original.data());
  return std::all_of(buffer, buffer + l.original.size(), [](unsigned char c) { return c == 0; });
}

TEST(zmq_in_place, a_frame_whose_content_another_message_shares_is_not_decrypted_in_place) {
  relayed_pair p(relay::large_frames::keep_a_shared_copy);
  relay& r = p.r;
  socket& a = p.a;
  socket& b = p.b;

  std::vector<std::vector<unsigned char>> sent;
  for (std::size_t size : {std::size_t{200} * 1024, std::size_t{1} << 20}) {
    sent.push_back(random_bytes(size));
    ASSERT_TRUE(a.send(::zmq::const_buffer(sent.back().data(), sent.back().size())));
    ::zmq::message_t got;
    ASSERT_TRUE(b.recv(got));
    EXPECT_TRUE(same(got, sent.back())) << size;
    EXPECT_TRUE(shows_plaintext(got, sent.back())) << "the check below can see plaintext";
  }
  // Both delivered (and released): the copies the relay kept still hold ciphertext only.
  auto copies = r.take_copies();
  ASSERT_GE(copies.size(), sent.size()) << "a large data frame per message (and any resend)";
  for (std::size_t i = 0; i < copies.size(); ++i) {
    ASSERT_GE(copies[i].size(), 2u);
    EXPECT_EQ(copies[i].to_string().substr(0, 3), std::string("\x97\x01\x02", 3)) << "a data frame";
    for (const auto& body : sent) {
      EXPECT_FALSE(shows_plaintext(copies[i], body)) << "frame " << i << " was opened in place";
    }
  }
}

TEST(zmq_in_place, a_frame_only_we_hold_is_opened_in_its_own_buffer_and_freed_after_use) {
  relayed_pair p(relay::large_frames::lend_the_buffer);
  relay& r = p.r;
  socket& a = p.a;
  socket& b = p.b;

  const auto body = random_bytes(300 * 1024);
  ASSERT_TRUE(a.send(::zmq::const_buffer(body.data(), body.size())));
  ::zmq::message_t got;
  ASSERT_TRUE(b.recv(got));
  ASSERT_TRUE(same(got, body));
  auto loans = r.loans();
  ASSERT_GE(loans.size(), 1u);
  const auto* buffer = static_cast<const unsigned char*>(loans[0]->original.data());
  const std::size_t size = loans[0]->original.size();
  // Zero-copy all the way: the application's message is a view of the buffer that crossed.
  const auto* at = static_cast<const unsigned char*>(got.data());
  EXPECT_TRUE(at >= buffer && at + got.size() <= buffer + size);
  EXPECT_FALSE(loans[0]->returned.load(std::memory_order_acquire)) << "the message still uses it";

  got = ::zmq::message_t();  // the application is done with it
  // The delivered message was the application's: its buffer is freed as libzmq frees any
  // message, not wiped (README, "Secrets in memory").
  EXPECT_TRUE(given_back(*loans[0])) << "the opened frame is freed with the application's message";
}

// A large message that arrives while its receiver is closing is opened (and acknowledged) but
// never handed over: the frame it was opened in is wiped before it is freed.
TEST(zmq_in_place, a_frame_opened_in_place_while_the_socket_closes_is_wiped_when_dropped) {
  relayed_pair p(relay::large_frames::lend_the_buffer);
  relay& r = p.r;
  socket& a = p.a;
  socket& b = p.b;
  ASSERT_TRUE(a.send(::zmq::str_buffer("warm")));
  ::zmq::message_t m;
  ASSERT_TRUE(b.recv(m));
  // Everything A sends to B is held from now on: B's next message stays unacknowledged, so
  // B's close lingers, and A's large message reaches B only once B is closing.
  r.hold();
  ASSERT_TRUE(b.send(::zmq::str_buffer("ping")));
  ASSERT_TRUE(a.recv(m));
  const auto body = random_bytes(300 * 1024);
  ASSERT_TRUE(a.send(::zmq::const_buffer(body.data(), body.size())));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (r.held_large() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(r.held_large(), 1u);
  std::thread closer([&] { b.close(); });
  std::this_thread::sleep_for(100ms);
  r.release();
  closer.join();

  const auto s = b.stats();  // the last snapshot
  EXPECT_EQ(s.engine.total.messages_opened, 2u) << "the large message was opened";
  EXPECT_EQ(s.transport.messages_received, 1u) << "but not handed over";
  EXPECT_EQ(s.transport.messages_dropped, 1u);
  auto loans = r.loans();
  ASSERT_EQ(loans.size(), 1u);
  EXPECT_TRUE(given_back_wiped(*loans[0])) << "the frame opened in place was freed without a wipe";
}

class zmq_in_place_transports : public ::testing::TestWithParam<transport> {};

TEST_P(zmq_in_place_transports, large_messages_kept_or_echoed_zero_copy_come_back_intact) {
  ::zmq::context_t ctx;
  auto server = make(ctx, st::dealer);
  auto client = make(ctx, st::dealer);
  client.connect(bind_any(server, GetParam()));

  // Kept: five messages held at once by the application, each still intact after the others.
  std::vector<std::vector<std::vector<unsigned char>>> sent;
  std::vector<std::vector<::zmq::message_t>> kept;
  const std::vector<std::vector<std::size_t>> shapes = {
      {std::size_t{1} << 20}, {20000}, {17, std::size_t{1} << 20, 0, 70000}, {16384, 16383}, {1}};
  for (const auto& shape : shapes) {
    std::vector<std::vector<unsigned char>> parts;
    std::vector<::zmq::const_buffer> bufs;
    for (std::size_t n : shape) parts.push_back(random_bytes(n));
    for (const auto& p : parts) bufs.emplace_back(p.data(), p.size());
    ASSERT_EQ(send_multipart(client, bufs), parts.size());
    sent.push_back(std::move(parts));
  }
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    std::vector<::zmq::message_t> got;
    ASSERT_EQ(recv_multipart(server, std::back_inserter(got)), shapes[i].size()) << i;
    kept.push_back(std::move(got));
  }
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    for (std::size_t j = 0; j < shapes[i].size(); ++j) {
      EXPECT_TRUE(same(kept[i][j], sent[i][j])) << "message " << i << " part " << j;
    }
  }
  // Echoed: the received parts go straight back, then are checked once more at the client.
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    ASSERT_EQ(send_multipart(server, kept[i]), shapes[i].size());
    std::vector<::zmq::message_t> back;
    ASSERT_EQ(recv_multipart(client, std::back_inserter(back)), shapes[i].size()) << i;
    for (std::size_t j = 0; j < shapes[i].size(); ++j) {
      EXPECT_TRUE(same(back[j], sent[i][j])) << "echo " << i << " part " << j;
    }
  }
  EXPECT_EQ(server.stats().engine.total.messages_opened, shapes.size());
  EXPECT_EQ(client.stats().engine.total.messages_opened, shapes.size());
}

INSTANTIATE_TEST_SUITE_P(zmq, zmq_in_place_transports,
                         ::testing::Values(transport::tcp, transport::ipc, transport::inproc),
                         [](const auto& p) { return std::string(name_of(p.param)); });

}  // namespace
}  // namespace cryptcom::zmq::test
