// Every supported socket pair, with both flows, over tcp, ipc and inproc: a client sends
// messages of one to three parts, the server echoes each one transformed, and the client checks
// every reply. The envelope each side sees is the one plain ZeroMQ gives it.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "test_support.hpp"

namespace cryptcom::zmq::test {
namespace {

using st = ::zmq::socket_type;

struct pairing {
  st client;
  st server;
  const char* name;
};

const pairing pairings[] = {
    {st::req, st::rep, "req_rep"},
    {st::req, st::router, "req_router"},
    {st::dealer, st::rep, "dealer_rep"},
    {st::dealer, st::router, "dealer_router"},
    {st::dealer, st::dealer, "dealer_dealer"},
    {st::pair, st::pair, "pair_pair"},
};

const std::string server_id = "the-server";

class socket_pairs : public ::testing::TestWithParam<std::tuple<pairing, flow, transport>> {};

// The envelope the client gives in front of its payload, as with plain ZeroMQ.
std::vector<std::string> client_envelope(const pairing& p) {
  if (p.client == st::dealer && p.server == st::rep) return {""};
  return {};
}

// The number of envelope frames the server sees in front of the payload.
std::size_t server_envelope(const pairing& p) {
  if (p.server == st::router) return p.client == st::req ? 2 : 1;
  return 0;
}

TEST_P(socket_pairs, every_message_is_echoed_intact_to_its_sender) {
  const auto [p, how, where] = GetParam();
  ::zmq::context_t ctx;
  socket_options o = test_options();
  o.flow = how;
  auto server = make(ctx, p.server, o);
  auto client = make(ctx, p.client, o);
  const std::string ep = bind_any(server, where);
  client.connect(ep);

  constexpr int count = 20;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> payload;
    for (int j = 0; j <= i % 3; ++j) {
      payload.push_back("message " + std::to_string(i) + " part " + std::to_string(j));
    }
    std::vector<std::string> out = client_envelope(p);
    out.insert(out.end(), payload.begin(), payload.end());
    ASSERT_TRUE(send_strings(client, out));

    auto got = recv_strings(server);
    ASSERT_TRUE(got) << "server timed out on message " << i;
    const std::size_t env = server_envelope(p);
    ASSERT_EQ(got->size(), env + payload.size());
    if (p.client == st::req && p.server == st::router) {
      EXPECT_EQ((*got)[1], "");
    }
    std::vector<std::string> reply(got->begin(), got->begin() + static_cast<long>(env));
    for (std::size_t j = env; j < got->size(); ++j) {
      EXPECT_EQ((*got)[j], payload[j - env]);
      reply.push_back("echo " + (*got)[j]);
    }
    ASSERT_TRUE(send_strings(server, reply));

    auto back = recv_strings(client);
    ASSERT_TRUE(back) << "client timed out on reply " << i;
    const auto env_back = client_envelope(p);
    ASSERT_EQ(back->size(), env_back.size() + payload.size());
    for (std::size_t j = 0; j < payload.size(); ++j) {
      EXPECT_EQ((*back)[env_back.size() + j], "echo " + payload[j]);
    }
  }
  const auto cs = client.stats();
  EXPECT_EQ(cs.transport.messages_sent, static_cast<std::uint64_t>(count));
  EXPECT_EQ(cs.transport.messages_received, static_cast<std::uint64_t>(count));
  EXPECT_EQ(cs.engine.total.messages_opened, static_cast<std::uint64_t>(count));
  EXPECT_EQ(cs.engine.total.rejected_total(), 0u);
  // One engine peer per side: the pair talks over a single path.
  EXPECT_EQ(server.stats().transport.peers, 1u);
}

std::string case_name(const ::testing::TestParamInfo<socket_pairs::ParamType>& info) {
  const auto& [p, how, where] = info.param;
  return std::string(p.name) + "_" + (how == flow::push ? "push" : "pull") + "_" + name_of(where);
}

INSTANTIATE_TEST_SUITE_P(
    all, socket_pairs,
    ::testing::Combine(::testing::ValuesIn(pairings), ::testing::Values(flow::push, flow::pull),
                       ::testing::Values(transport::tcp, transport::ipc, transport::inproc)),
    case_name);

TEST(zmq_socket_pairs, a_router_reaches_a_router_by_its_known_routing_id) {
  ::zmq::context_t ctx;
  auto server = make(ctx, st::router);
  server.set(::zmq::sockopt::routing_id, server_id);
  auto client = make(ctx, st::router);
  client.set(::zmq::sockopt::routing_id, std::string("the-client"));
  const std::string ep = bind_any(server, transport::tcp);
  client.connect(ep);
  // The client's first message names a routing id it never heard from: the engine asks that
  // peer for keys through the ROUTER and sends once they arrive (retrying until connected).
  ASSERT_TRUE(send_strings(client, {server_id, "hi"}));
  auto got = recv_strings(server);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<std::string>{"the-client", "hi"}));
  ASSERT_TRUE(send_strings(server, {"the-client", "hello"}));
  got = recv_strings(client);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<std::string>{server_id, "hello"}));
}

TEST(zmq_socket_pairs, a_dealer_talking_to_a_rep_sees_the_empty_delimiter_as_with_zeromq) {
  ::zmq::context_t ctx;
  auto rep = make(ctx, st::rep);
  auto dealer = make(ctx, st::dealer);
  dealer.connect(bind_any(rep, transport::inproc));
  ASSERT_TRUE(send_strings(dealer, {"", "question"}));
  auto got = recv_strings(rep);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::vector<std::string>{"question"});
  ASSERT_TRUE(send_strings(rep, {"answer"}));
  got = recv_strings(dealer);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<std::string>{"", "answer"}));
}

}  // namespace
}  // namespace cryptcom::zmq::test
