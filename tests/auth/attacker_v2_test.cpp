// The attacker's version 2 (hostile/attacker/v2_*) is a second implementation of
// docs/PROTOCOL.md §12, written from the specification alone. These tests hold it to the spec
// and to the engine: its HPKE against the core's, and a whole session spoken by hand to a real
// cryptcom server (handshake, key request, a sealed message with a reply key, the echo opened),
// plus what the server must do with a forged initiate and with an honest one it refuses. A
// disagreement here is a bug in the engine, in the attacker, or an ambiguity of the spec.
#include <gtest/gtest.h>

#include <map>

#include "attacker/raw_peer.hpp"
#include "auth_support.hpp"
#include "crypto/hpke.hpp"
#include "mitm.hpp"

namespace cryptcom::auth_test {
namespace {

using cryptcom::hostile::raw_peer;

TEST(auth_attacker_v2, its_hpke_agrees_with_the_core_both_ways) {
  const auto [sk, pk] = v2::random_key_pair();
  const v2::bytes aad = v2::as_bytes("aad"), pt = v2::as_bytes("plaintext");
  auto box = v2::hpke_seal(pk, v2::message_info(), aad, pt);
  ASSERT_TRUE(box);
  public_key pub, enc;
  pub.bytes = pk;
  enc.bytes = box->enc;
  std::vector<byte> out(pt.size());
  ASSERT_TRUE(hpke::open_base(hpke::aead_id::chacha20_poly1305, enc, sk, pub, v2::message_info(),
                              aad, box->ciphertext, out)
                  .ok());
  EXPECT_EQ(out, pt);

  std::array<byte, 32> ikm{};
  randombytes_buf(ikm.data(), ikm.size());
  auto [eph_sk, eph_pk] = v2::derive_key_pair(ikm);
  std::array<byte, secret_key_size> core_sk{};
  public_key core_pk;
  ASSERT_TRUE(hpke::derive_key_pair(ikm, core_sk, core_pk).ok());
  EXPECT_EQ(core_pk.bytes, eph_pk) << "DeriveKeyPair differs from the core's";
  std::vector<byte> ct(pt.size() + hpke::tag_size);
  public_key core_enc;
  ASSERT_TRUE(hpke::seal_base(hpke::aead_id::chacha20_poly1305, pub, v2::message_info(), aad, pt,
                              hpke::ephemeral_key{core_sk, core_pk}, core_enc, ct)
                  .ok());
  auto opened = v2::hpke_open(sk, core_enc.bytes, v2::message_info(), aad, ct);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, pt);
}

// The initiator side of §12, spoken by hand on a raw DEALER.
struct hand_initiator {
  hand_initiator(::zmq::context_t& ctx, const std::string& endpoint, const static_keys& self,
                 const v2::key32& server)
      : wire(raw_peer::dealer(ctx, endpoint)), me(self), s_r(server) {}

  // The next version 2 frame from the server within `timeout`.
  std::optional<std::pair<v2::bytes, v2::frame>> next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = wire.receive(20ms);
      if (!m) continue;
      std::string error;
      auto f = v2::decode(m->frame, &error);
      EXPECT_TRUE(f) << "the server sent a frame the attacker cannot decode: " << error;
      if (f) return std::make_pair(m->frame, *f);
    }
    return std::nullopt;
  }

  void send_initiate() {
    n_i = v2::random_id();
    wire.send(*v2::honest_initiate(instance, n_i, me.secret, me.pub, s_r));
  }

  raw_peer wire;
  const static_keys& me;
  v2::key32 s_r;
  v2::id16 instance = v2::random_id();
  v2::id16 n_i{};
};

TEST(auth_attacker_v2, a_session_spoken_by_hand_is_served) {
  ::zmq::context_t ctx;
  const auto server_keys = make_keys();
  const auto attacker = make_keys();
  echo_peer server(ctx, server_options(&server_keys, {&attacker}), "tcp://127.0.0.1:*");
  hand_initiator h(ctx, server.endpoint(), attacker, server_keys.pub);
  h.send_initiate();

  std::optional<v2::session_keys> keys;
  v2::id16 server_instance{};
  while (!keys) {
    auto got = h.next(bound(3000ms));
    ASSERT_TRUE(got) << "no accept from the server";
    const auto& [bytes, f] = *got;
    if (f.kind != 3 || f.hs != v2::step::accept) continue;
    EXPECT_EQ(f.peer_nonce, h.n_i);
    server_instance = f.instance;
    const auto prk = v2::session_prk(attacker.secret, server_keys.pub);
    ASSERT_TRUE(prk);
    keys = v2::derive_session(*prk, attacker.pub, server_keys.pub, h.instance, f.instance, h.n_i,
                              f.nonce);
    ASSERT_TRUE(v2::mac_verifies(bytes, f, keys->k_ri))
        << "the accept's MAC does not verify under k_ri as the attacker derives it";
  }

  // Establish the session and ask for keys.
  std::uint64_t seq = 0;
  v2::control_block request;
  request.instance = h.instance;
  request.wanted = 4;
  ASSERT_TRUE(h.wire.send(v2::control(++seq, request, keys->k_ir)));
  std::vector<v2::offered_key> server_offers;
  std::uint64_t last_seq = 0;
  while (server_offers.empty()) {
    auto got = h.next(bound(3000ms));
    ASSERT_TRUE(got) << "no offers from the server";
    const auto& [bytes, f] = *got;
    if (f.kind != 1 && f.kind != 2) continue;
    ASSERT_TRUE(v2::mac_verifies(bytes, f, keys->k_ri)) << "a frame that does not verify";
    EXPECT_GT(f.seq, last_seq);
    last_seq = f.seq;
    if (f.control) {
      EXPECT_EQ(f.control->instance, server_instance) << "a block naming another instance";
      ASSERT_TRUE(f.control->hi) << "the server's block carries no hello";
      EXPECT_EQ(f.control->hi->max_version, 2u);
      for (const auto& k : f.control->offers) server_offers.push_back(k);
    }
  }

  // A message with a reply key of ours and keys to answer with.
  std::map<v2::id16, v2::key32> mine;
  auto make_mine = [&] {
    auto [sk, pk] = v2::random_key_pair();
    v2::offered_key k{v2::random_id(), pk, 60'000};
    mine[k.id] = sk;
    return k;
  };
  v2::control_block block;
  block.instance = h.instance;
  for (int i = 0; i < 4; ++i) block.offers.push_back(make_mine());
  ASSERT_TRUE(h.wire.send(
      v2::data(++seq, server_offers.front(), {"by hand"}, make_mine(), &block, keys->k_ir)));

  std::optional<std::vector<std::string>> echo;
  while (!echo) {
    auto got = h.next(bound(3000ms));
    ASSERT_TRUE(got) << "no echo from the server";
    const auto& [bytes, f] = *got;
    if (f.kind != 1 && f.kind != 2) continue;
    ASSERT_TRUE(v2::mac_verifies(bytes, f, keys->k_ri));
    EXPECT_GT(f.seq, last_seq);
    last_seq = f.seq;
    if (f.kind != 2) continue;
    auto key = mine.find(f.key_id);
    ASSERT_NE(key, mine.end()) << "the echo is sealed to a key that is not ours";
    const v2::bytes aad(bytes.begin(), bytes.begin() + static_cast<long>(f.ciphertext_header));
    auto pt = v2::hpke_open(key->second, f.enc, v2::message_info(), aad, f.ciphertext);
    ASSERT_TRUE(pt) << "the echo does not open as §12.3 says";
    echo = v2::parse_payload(*pt);
    ASSERT_TRUE(echo);
  }
  EXPECT_EQ(*echo, std::vector<std::string>{"by hand"});
  EXPECT_EQ(server.delivered("by hand"), 1u);
  // The server's thread collects its events between messages: wait for it to have read them.
  const bool named = wait_until(
      [&] {
        for (const auto& e : server.events()) {
          if (e.kind == cryptcom::zmq::event_kind::peer_authenticated &&
              e.peer_key.bytes == attacker.pub) {
            return true;
          }
        }
        return false;
      },
      bound(2000ms));
  EXPECT_TRUE(named) << describe(server.events());
}

TEST(auth_attacker_v2, a_forged_initiate_is_dropped_and_an_unlisted_one_refused) {
  ::zmq::context_t ctx;
  const auto server_keys = make_keys();
  const auto listed = make_keys();
  const auto unlisted = make_keys();
  echo_peer server(ctx, server_options(&server_keys, {&listed}), "tcp://127.0.0.1:*");

  // Claiming the listed identity without its secret: the MAC cannot be right.
  hand_initiator forger(ctx, server.endpoint(), listed, server_keys.pub);
  v2::key32 guess;
  randombytes_buf(guess.data(), guess.size());
  forger.n_i = v2::random_id();
  ASSERT_TRUE(forger.wire.send(
      v2::initiate(forger.instance, forger.n_i, listed.pub, server_keys.pub, guess)));
  EXPECT_FALSE(forger.next(500ms)) << "the server answered a forged initiate";
  EXPECT_TRUE(wait_until([&] { return server.totals().handshakes_dropped >= 1; }, bound(2000ms)));
  for (const auto& e : server.events()) {
    EXPECT_NE(e.kind, cryptcom::zmq::event_kind::peer_authenticated);
  }

  // An honest initiate from an identity the server does not accept: a refuse, MACed under the
  // k_ri an accept would have had, reason 17.
  hand_initiator stranger(ctx, server.endpoint(), unlisted, server_keys.pub);
  stranger.send_initiate();
  auto got = stranger.next(bound(3000ms));
  ASSERT_TRUE(got) << "no answer to an honest initiate from an unlisted identity";
  const auto& [bytes, f] = *got;
  ASSERT_EQ(f.kind, 3u);
  ASSERT_EQ(f.hs, v2::step::refuse);
  EXPECT_EQ(f.reason, 17u);
  EXPECT_EQ(f.peer_nonce, stranger.n_i);
  const auto prk = v2::session_prk(unlisted.secret, server_keys.pub);
  const auto keys = v2::derive_session(*prk, unlisted.pub, server_keys.pub, stranger.instance,
                                       f.instance, stranger.n_i, f.nonce);
  EXPECT_TRUE(v2::mac_verifies(bytes, f, keys.k_ri));
}

}  // namespace
}  // namespace cryptcom::auth_test
