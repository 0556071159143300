// Messages come out exactly as they went in: multipart up to 100 parts, and sizes from 0 bytes
// to the 64 MiB default maximum; above the maximum, send refuses before anything leaves.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;

TEST(zmq_messages, multipart_messages_of_up_to_100_parts_keep_every_part_and_its_order) {
  ::zmq::context_t ctx;
  auto router = make(ctx, st::router);
  auto dealer = make(ctx, st::dealer);
  dealer.connect(bind_any(router, transport::tcp));
  for (std::size_t parts : {1u, 2u, 7u, 50u, 100u}) {
    std::vector<std::vector<unsigned char>> sent;
    std::vector<::zmq::const_buffer> bufs;
    for (std::size_t i = 0; i < parts; ++i) {
      sent.push_back(random_bytes(i % 5 == 0 ? 0 : 1 + i * 7));  // empty parts included
    }
    for (const auto& p : sent) bufs.emplace_back(p.data(), p.size());
    ASSERT_EQ(send_multipart(dealer, bufs), parts);

    std::vector<::zmq::message_t> got;
    ASSERT_EQ(recv_multipart(router, std::back_inserter(got)), parts + 1);  // + routing id
    for (std::size_t i = 0; i < parts; ++i) {
      const auto& m = got[i + 1];
      ASSERT_EQ(m.size(), sent[i].size()) << "part " << i << " of " << parts;
      EXPECT_TRUE(same(m, sent[i])) << "part " << i;
      EXPECT_EQ(m.more(), i + 1 < parts);  // message_t::more() works as with zmq::socket_t
    }
    // Echo back through the ROUTER with the same envelope.
    ASSERT_EQ(send_multipart(router, got), parts + 1);
    std::vector<::zmq::message_t> back;
    ASSERT_EQ(recv_multipart(dealer, std::back_inserter(back)), parts);
    for (std::size_t i = 0; i < parts; ++i) {
      ASSERT_EQ(back[i].size(), sent[i].size());
      EXPECT_TRUE(same(back[i], sent[i]));
    }
  }
}

TEST(zmq_messages, sizes_from_0_bytes_to_64_mib_round_trip_unchanged) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto req = make(ctx, st::req);
  req.connect(bind_any(rep, transport::tcp));
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{1} << 20, std::size_t{64} << 20}) {
    const auto payload = random_bytes(size);
    ASSERT_TRUE(req.send(::zmq::const_buffer(payload.data(), payload.size())));
    ::zmq::message_t m;
    ASSERT_TRUE(rep.recv(m)) << size;
    ASSERT_EQ(m.size(), size);
    EXPECT_TRUE(size == 0 || std::memcmp(m.data(), payload.data(), size) == 0) << size;
    ASSERT_TRUE(rep.send(m, ::zmq::send_flags::none));  // echo, zero-copy on the way back
    ::zmq::message_t back;
    ASSERT_TRUE(req.recv(back)) << size;
    ASSERT_EQ(back.size(), size);
    EXPECT_TRUE(size == 0 || std::memcmp(back.data(), payload.data(), size) == 0) << size;
  }
  EXPECT_EQ(req.stats().engine.total.messages_opened, 4u);
}

TEST(zmq_messages, a_message_above_the_maximum_is_refused_with_emsgsize_and_nothing_is_sent) {
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.engine.max_message_size = 1000;
  o.engine.max_parts = 4;
  auto router = make(ctx, st::router, o);
  auto dealer = make(ctx, st::dealer, o);
  dealer.connect(bind_any(router, transport::inproc));

  const std::string big(1001, 'x');
  try {
    (void)dealer.send(::zmq::buffer(big));
    FAIL() << "no exception";
  } catch (const ::zmq::error_t& e) {  // cryptcom::zmq::error is a zmq::error_t
    EXPECT_EQ(e.num(), EMSGSIZE);
    EXPECT_NE(std::string(e.what()).find("max_message_size"), std::string::npos);
  }
  // A multipart message crossing the limit part by part: refused as a whole.
  const std::string half(600, 'y');
  ASSERT_TRUE(dealer.send(::zmq::buffer(half), ::zmq::send_flags::sndmore));
  EXPECT_THROW((void)dealer.send(::zmq::buffer(half), ::zmq::send_flags::none), ::zmq::error_t);
  // Too many parts.
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(dealer.send(::zmq::str_buffer("p"), ::zmq::send_flags::sndmore));
  EXPECT_THROW((void)dealer.send(::zmq::str_buffer("p"), ::zmq::send_flags::none), error);

  // The socket is still usable, and only this message arrives.
  const std::string fits(1000, 'z');
  ASSERT_TRUE(dealer.send(::zmq::buffer(fits)));
  auto got = recv_strings(router);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[1], fits);
  EXPECT_FALSE(recv_strings(router, ::zmq::recv_flags::dontwait));
  EXPECT_EQ(dealer.messages_sent(), 1u);
}

}  // namespace
}  // namespace cryptcom::zmq::test
