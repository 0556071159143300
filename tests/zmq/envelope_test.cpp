// The ZeroMQ envelope (docs/PROTOCOL.md §11): the application's parts come back exactly as they
// were sent, whatever the key state, and the wire carries routing frames and one cryptcom frame,
// never an empty delimiter frame. An empty first part and REQ/REP's delimiter are the same
// thing, an empty part, sealed with the others: a ROUTER sees [routing id, "", body] from a
// cryptcom REQ exactly as from a plain one.
//
// "Cold" below means the first message of a fresh pair, before the server holds any key of the
// client's: the engine then sends key requests and offers (control frames) around the data,
// which is where an envelope kept as per-path state used to go wrong (issue 10, bug 1).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "proxy_tap.hpp"
#include "test_support.hpp"
#include "wire/frame.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;
using strings = std::vector<std::string>;
using namespace std::chrono_literals;

// Sends a batch of messages from `client` (a DEALER) to `server` (a ROUTER) back to back,
// checks what the server gets, echoes each, and checks what comes back; three times.
void exchange_batches(socket& server, socket& client) {
  const std::vector<strings> batch{{"", "abcd", ""}, {"x"}, {"", "y"}, {""}, {"z", ""}};
  for (int round = 0; round < 3; ++round) {  // round 0: cold
    for (const auto& m : batch) ASSERT_TRUE(send_strings(client, m));
    for (const auto& m : batch) {
      auto got = recv_strings(server);
      ASSERT_TRUE(got) << "round " << round;
      ASSERT_FALSE(got->empty());
      EXPECT_EQ(strings(got->begin() + 1, got->end()), m) << "server side, round " << round;
      ASSERT_TRUE(send_strings(server, *got));
    }
    for (const auto& m : batch) {
      auto back = recv_strings(client);
      ASSERT_TRUE(back) << "round " << round;
      EXPECT_EQ(*back, m) << "client side, round " << round;
    }
  }
}

class zmq_envelope : public ::testing::TestWithParam<transport> {};

// The case: a DEALER's first message ["", "abcd", ""] to a ROUTER that echoes it, and
// messages with and without an empty first part sent right behind it, cold (they wait together
// for the server's keys) and warm; with the default flows (the echo is sealed to a key the
// request carried) and with push (the echo waits for a key request and the client's offers).
TEST_P(zmq_envelope, a_dealer_s_leading_empty_part_comes_back_cold_and_warm) {
  for (const bool push : {false, true}) {
    SCOPED_TRACE(push ? "push" : "default flows");
    ::zmq::context_t ctx;
    socket_options o = test_options();
    if (push) o.flow = flow::push;
    auto server = make(ctx, st::router, o);
    auto client = make(ctx, st::dealer, o);
    client.connect(bind_any(server, GetParam()));
    exchange_batches(server, client);
  }
}

// A ROUTER's messages whose first part is empty, queued with others before the server holds a
// key of the client's: each arrives with its own parts.
TEST_P(zmq_envelope, router_messages_whose_first_part_is_empty_arrive_as_sent) {
  ::zmq::context_t ctx;
  socket_options push = test_options();
  push.flow = flow::push;
  auto server = make(ctx, st::router, push);
  auto client = make(ctx, st::dealer, push);
  client.connect(bind_any(server, GetParam()));
  ASSERT_TRUE(send_strings(client, {"hello"}));
  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  const std::string id = (*got)[0];
  const std::vector<strings> replies{{"", "x"}, {"y"}, {"", "", "z"}, {""}, {"", "w", ""}};
  for (const auto& r : replies) {
    strings out{id};
    out.insert(out.end(), r.begin(), r.end());
    ASSERT_TRUE(send_strings(server, out));
  }
  for (const auto& r : replies) {
    auto back = recv_strings(client);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
  }
}

TEST_P(zmq_envelope, a_router_sees_a_req_s_request_as_from_a_plain_req) {
  ::zmq::context_t ctx;
  auto server = make(ctx, st::router);
  auto client = make(ctx, st::req);
  client.connect(bind_any(server, GetParam()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_strings(client, {"body", "more"}));
    auto got = recv_strings(server);
    ASSERT_TRUE(got) << i;
    ASSERT_EQ(got->size(), 4u) << i;
    EXPECT_EQ(strings(got->begin() + 1, got->end()), (strings{"", "body", "more"})) << i;
    // The reply with the delimiter, as a ROUTER answers a plain REQ; the last one without it,
    // which a cryptcom REQ delivers as it is.
    strings reply{(*got)[0]};
    if (i < 2) reply.push_back("");
    reply.push_back("reply " + std::to_string(i));
    ASSERT_TRUE(send_strings(server, reply));
    auto back = recv_strings(client);
    ASSERT_TRUE(back) << i;
    EXPECT_EQ(*back, strings{"reply " + std::to_string(i)});
  }
}

TEST_P(zmq_envelope, a_dealer_talking_to_a_rep_sends_and_gets_the_rep_s_empty_part) {
  ::zmq::context_t ctx;
  auto server = make(ctx, st::rep);
  auto client = make(ctx, st::dealer);
  client.connect(bind_any(server, GetParam()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_strings(client, {"", "question", ""}));
    auto got = recv_strings(server);
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(*got, (strings{"question", ""})) << i;
    ASSERT_TRUE(send_strings(server, {"answer", ""}));
    auto back = recv_strings(client);
    ASSERT_TRUE(back) << i;
    EXPECT_EQ(*back, (strings{"", "answer", ""})) << i;
  }
  // A request without the empty part reaches the REP application as it is.
  ASSERT_TRUE(send_strings(client, {"bare"}));
  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, strings{"bare"});
  ASSERT_TRUE(send_strings(server, {"answer"}));
  auto back = recv_strings(client);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (strings{"", "answer"}));
}

INSTANTIATE_TEST_SUITE_P(zmq, zmq_envelope,
                         ::testing::Values(transport::tcp, transport::ipc, transport::inproc),
                         [](const auto& p) { return std::string(name_of(p.param)); });

// What crossed a tap: every wire message is routing frames and one cryptcom frame; no frame is
// empty; every data frame is sealed to a key of its own. Returns the number of data frames.
byte_view bytes(const std::string& s) {
  return {reinterpret_cast<const byte*>(s.data()), s.size()};
}

std::size_t check_wire(const std::vector<strings>& messages, std::size_t routing_frames) {
  std::set<std::string> key_ids;
  std::size_t data = 0, misshapen = 0, empty_frames = 0, not_cryptcom = 0, key_reused = 0;
  for (const auto& m : messages) {
    misshapen += m.size() != routing_frames + 1 ? 1 : 0;
    for (const auto& f : m) empty_frames += f.empty() ? 1 : 0;
    auto decoded = wire::decode(bytes(m.back()), wire::decode_limits{});
    if (!decoded.ok()) {
      ++not_cryptcom;
      continue;
    }
    if (decoded->kind != wire::frame_kind::data) continue;
    ++data;
    const guid& k = decoded->data.key_id;
    key_reused += key_ids.insert(std::string(k.bytes.begin(), k.bytes.end())).second ? 0 : 1;
  }
  EXPECT_EQ(misshapen, 0u) << "wire messages of other than " << routing_frames
                           << " routing frame(s) and one cryptcom frame, of " << messages.size();
  EXPECT_EQ(empty_frames, 0u) << "empty frames crossed the wire";
  EXPECT_EQ(not_cryptcom, 0u) << "wire messages whose last frame is no cryptcom frame";
  EXPECT_EQ(key_reused, 0u) << "data frames sealed to a key already used";
  return data;
}

// A client and a server talking through a tapped broker.
struct tapped {
  tapped(st server_type, st client_type, const socket_options& o = test_options())
      : tap(ctx), server(make(ctx, server_type, o)), client(make(ctx, client_type, o)) {
    server.connect(tap.backend());
    client.connect(tap.frontend());
  }
  ::zmq::context_t ctx;
  proxy_tap tap;
  socket server, client;
};

TEST(zmq_envelope_wire, req_to_rep_through_a_broker_puts_no_empty_frame_on_the_wire) {
  tapped t(st::rep, st::req);
  auto& [ctx, tap, server, client] = t;
  constexpr int count = 5;
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(send_strings(client, {"", "q", std::to_string(i)}));
    auto got = recv_strings(server);
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(*got, (strings{"", "q", std::to_string(i)})) << i;
    ASSERT_TRUE(send_strings(server, {"", "a", std::to_string(i)}));
    auto back = recv_strings(client);
    ASSERT_TRUE(back) << i;
    EXPECT_EQ(*back, (strings{"", "a", std::to_string(i)})) << i;
  }
  tap.stop();
  // The frontend's routing id of the client is the one routing frame on either side.
  EXPECT_GE(check_wire(tap.messages(), 1), static_cast<std::size_t>(2 * count));
}

TEST(zmq_envelope_wire, a_router_behind_a_broker_sees_a_req_s_delimiter_and_sends_none) {
  tapped t(st::router, st::req);
  auto& [ctx, tap, server, client] = t;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_strings(client, {"body " + std::to_string(i)}));
    auto got = recv_strings(server);
    ASSERT_TRUE(got) << i;
    // The broker's connection, the client's routing id, the REQ's delimiter, the body.
    ASSERT_EQ(got->size(), 4u) << i;
    EXPECT_EQ((*got)[2], "") << i;
    EXPECT_EQ((*got)[3], "body " + std::to_string(i)) << i;
    (*got)[3] = "reply " + std::to_string(i);
    ASSERT_TRUE(send_strings(server, *got));
    auto back = recv_strings(client);
    ASSERT_TRUE(back) << i;
    EXPECT_EQ(*back, strings{"reply " + std::to_string(i)}) << i;
  }
  tap.stop();
  EXPECT_GE(check_wire(tap.messages(), 1), 6u);
}

TEST(zmq_envelope_wire, a_dealer_s_leading_empty_part_travels_sealed_not_as_a_wire_frame) {
  socket_options push = test_options();
  push.flow = flow::push;
  tapped t(st::router, st::dealer, push);
  auto& [ctx, tap, router, client] = t;
  const strings sent{"", "abcd", ""};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_strings(client, sent));
    auto got = recv_strings(router);
    ASSERT_TRUE(got) << i;
    // Behind the broker the ROUTER sees the broker's connection and the client's routing id.
    ASSERT_EQ(got->size(), 5u) << i;
    EXPECT_EQ(strings(got->begin() + 2, got->end()), sent) << i;
    ASSERT_TRUE(send_strings(router, *got));
    auto back = recv_strings(client);
    ASSERT_TRUE(back) << i;
    EXPECT_EQ(*back, sent) << i;
  }
  tap.stop();
  EXPECT_GE(check_wire(tap.messages(), 1), 6u);
}

// A peer that still puts the empty delimiter in front of its frames (the envelope before this
// section existed) lands on the same path and peer as without it; the answer comes back with
// no empty frame.
TEST(zmq_envelope_wire, empty_envelope_frames_from_a_peer_are_ignored) {
  ::zmq::context_t ctx;
  auto server = make(ctx, st::router);
  const std::string ep = bind_any(server, transport::tcp);
  ::zmq::socket_t raw(ctx, st::dealer);
  raw.set(::zmq::sockopt::linger, 0);
  raw.set(::zmq::sockopt::rcvtimeo, io_timeout_ms);
  raw.set(::zmq::sockopt::routing_id, std::string("old-peer"));
  raw.connect(ep);
  wire::control_block block;
  randombytes_buf(block.instance.bytes.data(), block.instance.bytes.size());
  block.wanted = 1;
  std::vector<byte> frame;
  wire::encode_control(block, frame);
  const ::zmq::const_buffer f(frame.data(), frame.size());
  std::vector<::zmq::const_buffer> with_delimiter{::zmq::str_buffer(""), f};
  std::vector<::zmq::const_buffer> with_two{::zmq::str_buffer(""), ::zmq::str_buffer(""), f};
  ASSERT_TRUE(::zmq::send_multipart(raw, with_delimiter));
  ASSERT_TRUE(::zmq::send_multipart(raw, std::vector<::zmq::const_buffer>{f}));
  ASSERT_TRUE(::zmq::send_multipart(raw, with_two));
  // Each key request is answered (offers) on the one path, without an empty frame.
  for (int i = 0; i < 3; ++i) {
    std::vector<::zmq::message_t> answer;
    ASSERT_TRUE(::zmq::recv_multipart(raw, std::back_inserter(answer))) << i;
    ASSERT_EQ(answer.size(), 1u) << "one cryptcom frame, no delimiter";
    const std::string got = answer[0].to_string();
    auto decoded = wire::decode(bytes(got), wire::decode_limits{});
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->kind, wire::frame_kind::control);
  }
  const auto s = server.stats();
  EXPECT_EQ(s.transport.peers, 1u);
  ASSERT_EQ(s.routes.size(), 1u);
  EXPECT_EQ(s.routes.begin()->second, strings{"old-peer"});
}

}  // namespace
}  // namespace cryptcom::zmq::test
