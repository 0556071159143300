// Issue 11: "record a session, then give the test both long-term secrets: nothing opens". A relay
// copies every frame of a whole session; after both sockets are closed, an offline attacker gets
// the capture and both static secret keys. It derives everything they give it (the identity
// sealed in the initiate, the static-static agreement, k_init, both session MAC keys: §12.3) and
// checks that it derived them right: every recorded control and data frame verifies under them.
// Then it tries every key it has on every recorded message. None opens: each message key came from
// a one-time key whose private half is gone. The sealed identity does open with the responder's
// secret, as the specification says it will; the assertion is on messages only.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <string>
#include <vector>

#include "world.hpp"

namespace cryptcom::auth_test {
namespace {

using dir = relay::direction;

struct recorded_session {
  v2::id16 i_i{}, n_i{}, i_r{}, n_r{};
  v2::key32 prk{}, k_init{};
  v2::session_keys keys;
};

bool contains(const v2::bytes& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// Whether `ct` opens as ChaCha20-Poly1305 under `key` with any nonce an attacker might guess
// from the frame (zero, or the HPKE base nonce it could derive if `key` were a shared secret).
bool opens_as_aead(const v2::key32& key, byte_view aad, const v2::bytes& ct) {
  if (ct.size() < 16) return false;
  v2::bytes pt(ct.size() - 16);
  unsigned long long n = 0;
  const std::array<byte, 12> zero_nonce{};
  return crypto_aead_chacha20poly1305_ietf_decrypt(pt.data(), &n, nullptr, ct.data(), ct.size(),
                                                   aad.data(), aad.size(), zero_nonce.data(),
                                                   key.data()) == 0;
}

TEST(auth_forward_secrecy, both_static_secrets_open_no_recorded_message) {
  std::vector<relay::capture> capture;
  std::vector<std::string> bodies;
  v2::key32 s_i_secret{}, s_i{}, s_r_secret{}, s_r{};
  {
    world w(relay::topology::proxy, "fs");
    const auto o = w.c->run("the plaintext nobody may read", 10, bound(5000ms));
    expect_exactly_once(*w.server, o, true);
    bodies = o.bodies;
    capture = w.mitm->captures();
    s_i_secret = w.client_keys.secret;
    s_i = w.client_keys.pub;
    s_r_secret = w.server_keys.secret;
    s_r = w.server_keys.pub;
  }  // both sockets closed: every one-time private key is gone

  for (const auto& cap : capture) {
    for (const auto& body : bodies) {
      EXPECT_FALSE(contains(cap.frame, body)) << "a message crossed the relay in clear";
    }
  }

  // The handshakes: the initiator's identity and nonce from each initiate, the responder's from
  // each accept that answers one.
  std::vector<recorded_session> sessions;
  std::vector<v2::frame> initiates;
  std::size_t identities_opened = 0;
  for (const auto& cap : capture) {
    auto f = v2::decode(cap.frame);
    if (!f || f->kind != 3 || f->hs != v2::step::initiate) continue;
    const v2::bytes aad(cap.frame.begin(),
                        cap.frame.begin() + static_cast<long>(f->sealed_identity_header));
    auto identity = v2::hpke_open(s_r_secret, f->enc, v2::identity_info(), aad, f->sealed_identity);
    ASSERT_TRUE(identity) << "the sealed identity does not open with the responder's secret";
    ASSERT_TRUE(std::equal(identity->begin(), identity->end(), s_i.begin()));
    ++identities_opened;
    auto prk = v2::session_prk(s_r_secret, s_i);
    ASSERT_TRUE(prk);
    const v2::key32 k_init = v2::initiate_key(*prk, s_i, s_r, f->instance, f->nonce);
    EXPECT_TRUE(v2::mac_verifies(cap.frame, *f, k_init))
        << "an initiate's MAC does not verify under k_init as §12.3 derives it";
    initiates.push_back(*f);
  }
  ASSERT_GE(identities_opened, 1u) << "no initiate in the capture: the session was not version 2";
  for (const auto& cap : capture) {
    auto f = v2::decode(cap.frame);
    if (!f || f->kind != 3 || f->hs != v2::step::accept) continue;
    for (const auto& init : initiates) {
      if (init.nonce != f->peer_nonce) continue;
      recorded_session s;
      s.i_i = init.instance;
      s.n_i = init.nonce;
      s.i_r = f->instance;
      s.n_r = f->nonce;
      s.prk = *v2::session_prk(s_i_secret, s_r);
      s.k_init = v2::initiate_key(s.prk, s_i, s_r, s.i_i, s.n_i);
      s.keys = v2::derive_session(s.prk, s_i, s_r, s.i_i, s.i_r, s.n_i, s.n_r);
      EXPECT_TRUE(v2::mac_verifies(cap.frame, *f, s.keys.k_ri))
          << "an accept's MAC does not verify under k_ri as §12.3 derives it";
      sessions.push_back(s);
    }
  }
  ASSERT_GE(sessions.size(), 1u) << "no accept answering a recorded initiate";

  // The attacker's derivation is right: every authenticated frame verifies under a session key
  // of its direction. Then every key it holds is tried on every message.
  std::size_t data_frames = 0, verified = 0, opened = 0;
  for (const auto& cap : capture) {
    auto f = v2::decode(cap.frame);
    if (!f || (f->kind != 1 && f->kind != 2)) continue;
    bool ok = false;
    for (const auto& s : sessions) {
      const auto& key = cap.dir == dir::to_server ? s.keys.k_ir : s.keys.k_ri;
      ok = ok || v2::mac_verifies(cap.frame, *f, key);
    }
    EXPECT_TRUE(ok) << "a recorded frame (kind " << f->kind << ", seq " << f->seq
                    << ") verifies under no derived session key";
    if (ok) ++verified;
    if (f->kind != 2) continue;
    ++data_frames;
    const v2::bytes aad(cap.frame.begin(),
                        cap.frame.begin() + static_cast<long>(f->ciphertext_header));
    std::vector<v2::key32> every_key{s_i_secret, s_r_secret};
    for (const auto& s : sessions) {
      for (const auto& k : {s.prk, s.k_init, s.keys.k_ir, s.keys.k_ri}) every_key.push_back(k);
    }
    for (const auto& k : every_key) {
      // As the recipient's X25519 secret of HPKE (either info string), and as an AEAD key.
      for (auto info : {v2::message_info(), v2::identity_info()}) {
        if (v2::hpke_open(k, f->enc, info, aad, f->ciphertext)) ++opened;
      }
      if (opens_as_aead(k, aad, f->ciphertext)) ++opened;
    }
  }
  EXPECT_GE(data_frames, 20u) << "the capture lacks the messages and their echoes";
  EXPECT_GT(verified, data_frames);
  EXPECT_EQ(opened, 0u) << "a recorded message opened with the long-term secrets";
}

}  // namespace
}  // namespace cryptcom::auth_test
