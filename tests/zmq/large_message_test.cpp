// Large messages of several parts are sealed straight from the application's own messages, which
// the socket holds (not a copy) until the peer acknowledges them: they arrive intact over tcp and
// ipc, and a copy the peer refuses is sealed again from the same messages. A man in the middle
// flips a bit in the ciphertext of the first large data frame, so the receiver refuses it
// (authentication_failed) and the sender must re-seal; the application's zero-copy buffers are
// released once, and never sealed from after (the release overwrites them).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tamper_relay.hpp"
#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using namespace std::chrono_literals;

// A buffer lent to libzmq by the application (zmq_msg_init_data): counts its release.
struct lent_buffer {
  std::vector<unsigned char> bytes;
  std::atomic<int> freed{0};
};

// The application reuses a released buffer at once: a seal from it after this point would
// deliver these bytes instead of the message.
void release(void* /*data*/, void* hint) {
  auto* b = static_cast<lent_buffer*>(hint);
  std::fill(b->bytes.begin(), b->bytes.end(), 0xee);
  b->freed.fetch_add(1, std::memory_order_acq_rel);
}

class zmq_large : public ::testing::TestWithParam<transport> {};

TEST_P(zmq_large, several_part_messages_arrive_intact_and_a_refused_copy_is_resealed) {
  constexpr int count = 3;
  ::zmq::context_t ctx;
  socket_options o = test_options();
  auto server = make(ctx, st::router, o);
  const std::string server_ep = bind_any(server, GetParam());

  std::atomic<int> tampered{0};
  tamper_relay mitm(ctx, GetParam(), server_ep, [&](::zmq::message_t& frame) {
    if (frame.size() > (1u << 20) && tampered == 0) {
      static_cast<char*>(frame.data())[frame.size() / 2] ^= 0x01;  // inside the ciphertext
      ++tampered;
    }
  });

  auto client = make(ctx, st::dealer, o);
  client.connect(mitm.endpoint());
  std::vector<std::vector<std::vector<unsigned char>>> sent;
  std::vector<std::unique_ptr<lent_buffer>> lent;
  for (int i = 0; i < count; ++i) {
    // Parts of every kind: small (copied into the message), large lent by the application
    // (zero-copy), large copied by libzmq, and empty.
    auto& parts = sent.emplace_back();
    parts.push_back(random_bytes(10));
    parts.push_back(random_bytes(1u << 20));
    parts.push_back(random_bytes(70 * 1024));
    parts.push_back({});
    auto& buffer = *lent.emplace_back(std::make_unique<lent_buffer>());
    buffer.bytes = parts[1];
    std::vector<::zmq::message_t> message;
    message.emplace_back(parts[0].data(), parts[0].size());
    message.emplace_back(buffer.bytes.data(), buffer.bytes.size(), &release, &buffer);
    message.emplace_back(parts[2].data(), parts[2].size());
    message.emplace_back();
    ASSERT_TRUE(send_multipart(client, message));  // cryptcom's, found by ADL
  }

  // The re-sealed message may arrive after the ones sent behind it: matched by its first part.
  std::vector<int> arrived(count, 0);
  for (int i = 0; i < count; ++i) {
    std::vector<::zmq::message_t> got;
    ASSERT_TRUE(recv_multipart(server, std::back_inserter(got))) << "message " << i;
    // [relay's routing id, client's routing id at the relay, the four parts]
    ASSERT_EQ(got.size(), 6u) << "message " << i;
    std::size_t which = 0;
    while (which < sent.size() && !same(got[2], sent[which][0])) ++which;
    ASSERT_LT(which, sent.size()) << "message " << i << " is none of those sent";
    ++arrived[which];
    for (std::size_t p = 1; p < 4; ++p) {
      EXPECT_TRUE(same(got[2 + p], sent[which][p])) << "message " << which << " part " << p;
    }
  }
  EXPECT_EQ(arrived, std::vector<int>(count, 1)) << "each once";
  // Every lent buffer is freed exactly once, after its acknowledgement came (bounded wait).
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  auto all_freed = [&] {
    for (const auto& b : lent) {
      if (b->freed.load(std::memory_order_acquire) == 0) return false;
    }
    return true;
  };
  while (!all_freed() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  for (const auto& b : lent) EXPECT_EQ(b->freed.load(), 1);
  const auto cs = client.stats();
  const auto ss = server.stats();
  EXPECT_EQ(tampered.load(), 1);
  EXPECT_GE(ss.engine.total.rejected_authentication, 1u);
  EXPECT_GE(cs.engine.total.messages_resent, 1u) << "the refused copy was sealed again";
  EXPECT_EQ(cs.engine.total.messages_undeliverable, 0u);
  EXPECT_EQ(ss.transport.messages_received, static_cast<std::uint64_t>(count));

  client.close();
  server.close();
}

INSTANTIATE_TEST_SUITE_P(transports, zmq_large, ::testing::Values(transport::tcp, transport::ipc),
                         [](const auto& p) { return std::string(name_of(p.param)); });

}  // namespace
}  // namespace cryptcom::zmq::test
