// The authenticated-mode example of docs/PROTOCOL.md §12.8, rebuilt from its stated inputs: the
// handshake frames, the derived keys, one control frame and one data frame. The document and the
// code cannot drift apart, and every MAC verifies and the data frame opens as the text says.
// (Independent checks: the attacker harness in tests/hostile/attacker implements version 2 from
// the document alone and talks to our engine.)
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crypto/hpke.hpp"
#include "crypto/session_keys.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

struct documented {
  std::string_view name;
  std::string_view hex;
};

// As docs/PROTOCOL.md §12.8 shows them.
constexpr documented expected[] = {
    {"S_I", "b259f6ee92dcba0111850b13b3f6dccc827726f9b08235ab62922b6b3f3f2a19"},
    {"S_R", "bad762e098446cbcc58b30c7e804f82847b8b911185996582af9f27bfd4e875f"},
    {"enc", "7af03df159e2d75751c1a88eb5a9e87988f138dce7596ebda3ad7f0bb04a8734"},
    {"initiate",
     "98020301c410000102030405060708090a0b0c0d0e0fc410202122232425262728292a2b2c2d2e2fc4207af03df15"
     "9e2d75751c1a88eb5a9e87988f138dce7596ebda3ad7f0bb04a8734c4306d174566019efb1d165c8754f840af5475"
     "0471a6b18778d54d89396c9e40e36de317d4f0b9e538953a1781b75e786dabc420134a5d8720b025b8f6d7c271e4a"
     "7a889240111cb4ee3c0dbb2eee69f9db43892"},
    {"k_init", "cfd9dc3cdbe0592e203b4f81591d195a4ab384223c856fcb07362453de8ab62d"},
    {"k_ir", "f395b6f4cd4e2afd24b287a0bb2ff25e587e246c92805b5f00a358f0ee614778"},
    {"k_ri", "9bcf941a37e24936bbd0058537a2f80f814d120178f66c2e19ca0f93306168c0"},
    {"accept",
     "97020302c410101112131415161718191a1b1c1d1e1fc410303132333435363738393a3b3c3d3e3fc410202122232"
     "425262728292a2b2c2d2e2fc42038b7ccadc5804f3070f376467b4c83e28ea11a5712ae1d9ba77b1e4f33ea2d40"},
    {"control",
     "9502010196c410000102030405060708090a0b0c0d0e0f0890909095020003ce04000000cd03e8c420f24e6c06c0d"
     "884c4eac276d438f47a9020d2805f466dc5a0c02891163884720f"},
    {"data",
     "99020202c410101112131415161718191a1b1c1d1e1fc420729d6561d2f278f4d70a0410502f81249b75689a7b0df"
     "eb4d489aed6d481e362c0c0c4202a37909825e1233c63da6b777e21e0d5065fa2afec1f8c1be5a551d376595472c4"
     "18afed5d0c34aa23057048c458488133a0bd4d42e07c9e3477"},
};

std::array<byte, 32> pattern(byte first) {
  std::array<byte, 32> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<byte>(first + i);
  return a;
}

guid guid_from(byte first) {
  guid g;
  for (std::size_t i = 0; i < g.bytes.size(); ++i) g.bytes[i] = static_cast<byte>(first + i);
  return g;
}

byte_view text(std::string_view s) { return {reinterpret_cast<const byte*>(s.data()), s.size()}; }

struct key_pair {
  std::array<byte, 32> secret{};
  public_key pub;
  explicit key_pair(byte ikm_first) {
    EXPECT_TRUE(hpke::derive_key_pair(pattern(ikm_first), secret, pub).ok());
  }
};

TEST(protocol_example, the_documented_authenticated_exchange_is_what_the_code_produces) {
  ASSERT_GE(sodium_init(), 0);
  const key_pair initiator(0x40), responder(0x60), eph(0x80), one_time(0xa0), eph2(0xe0);
  const guid i_i = guid_from(0x00), i_r = guid_from(0x10), n_i = guid_from(0x20),
             n_r = guid_from(0x30), key_id = guid_from(0x10);
  std::vector<std::pair<std::string, std::string>> got;
  auto note = [&](std::string name, byte_view b) { got.emplace_back(std::move(name), to_hex(b)); };
  note("S_I", initiator.pub.bytes);
  note("S_R", responder.pub.bytes);

  // initiate
  std::vector<byte> initiate;
  const auto il = wire::encode_initiate(i_i, n_i, eph.pub, initiate);
  public_key enc;
  ASSERT_TRUE(hpke::seal_base(hpke::aead_id::chacha20_poly1305, responder.pub,
                              text("cryptcom/2 identity"), il.identity_aad, initiator.pub.bytes,
                              {eph.secret, eph.pub}, enc, il.sealed_identity)
                  .ok());
  note("enc", enc.bytes);
  std::array<byte, 32> prk{}, k_init{}, k_ir{}, k_ri{};
  ASSERT_TRUE(auth::derive_prk(initiator.secret, responder.pub, prk).ok());
  const auth::transcript t{initiator.pub, responder.pub, i_i, i_r, n_i, n_r};
  auth::derive_initiate_key(prk, t, k_init);
  auth::derive_session_keys(prk, t, k_ir, k_ri);
  auth::mac(k_init, il.mac.covered, il.mac.mac);
  note("initiate", initiate);
  note("k_init", k_init);
  note("k_ir", k_ir);
  note("k_ri", k_ri);

  // accept
  std::vector<byte> accept;
  const auto al = wire::encode_accept(i_r, n_r, n_i, accept);
  auth::mac(k_ri, al.covered, al.mac);
  note("accept", accept);

  // The initiator's first frame: a key request with its hello, seq 1.
  wire::control_block block;
  block.instance = i_i;
  block.wanted = 8;
  block.about_sender = wire::hello{2, 0, 3, 64u * 1024 * 1024, 1000};
  std::vector<byte> control;
  const auto cl = wire::encode_control_v2(1, block, control);
  auth::mac(k_ir, cl.covered, cl.mac);
  note("control", control);

  // A data frame, seq 2: "hello" sealed to the responder's one-time key 10..1f.
  const std::string hello = "hello";
  const byte_view part = text(hello);
  std::vector<byte> payload(wire::payload_size(std::span<const byte_view>(&part, 1)));
  wire::encode_payload(std::span<const byte_view>(&part, 1), payload);
  std::vector<byte> data;
  const auto dl = wire::encode_data_v2(2, key_id, eph2.pub, std::nullopt, nullptr,
                                       payload.size() + hpke::tag_size, data);
  auth::mac(k_ir, dl.mac.covered, dl.mac.mac);
  public_key enc2;
  ASSERT_TRUE(hpke::seal_base(hpke::aead_id::chacha20_poly1305, one_time.pub,
                              text("cryptcom/2 one-time key"), dl.associated_data, payload,
                              {eph2.secret, eph2.pub}, enc2, dl.ciphertext)
                  .ok());
  note("data", data);

  if (std::getenv("CRYPTCOM_PRINT_EXAMPLE") != nullptr) {
    for (const auto& [name, hex] : got) std::printf("%s %s\n", name.c_str(), hex.c_str());
  }
  ASSERT_EQ(got.size(), std::size(expected));
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, expected[i].name);
    EXPECT_EQ(got[i].second, expected[i].hex)
        << got[i].first << ": update docs/PROTOCOL.md §12.8 and this test together";
  }

  // The responder's side: the initiate decodes, its identity opens with s_R, its MAC verifies;
  // the control and data frames verify under k_ir and the data frame opens with the one-time key.
  auto di = wire::decode(initiate, wire::decode_limits{});
  ASSERT_TRUE(di.ok()) << di.error().to_string();
  public_key opened_identity;
  ASSERT_TRUE(hpke::open_base(hpke::aead_id::chacha20_poly1305, di->handshake.enc, responder.secret,
                              responder.pub, text("cryptcom/2 identity"),
                              di->handshake.identity_aad, di->handshake.sealed_identity,
                              opened_identity.bytes)
                  .ok());
  EXPECT_EQ(opened_identity, initiator.pub);
  std::array<byte, 32> prk_r{}, k_init_r{};
  ASSERT_TRUE(auth::derive_prk(responder.secret, initiator.pub, prk_r).ok());
  auth::derive_initiate_key(prk_r, t, k_init_r);
  EXPECT_TRUE(auth::verify(k_init_r, di->handshake.auth->covered, di->handshake.auth->mac));
  auto dc = wire::decode(control, wire::decode_limits{});
  ASSERT_TRUE(dc.ok());
  EXPECT_EQ(dc->auth->seq, 1u);
  EXPECT_TRUE(auth::verify(k_ir, dc->auth->covered, dc->auth->mac));
  EXPECT_FALSE(auth::verify(k_ri, dc->auth->covered, dc->auth->mac));
  auto dd = wire::decode(data, wire::decode_limits{});
  ASSERT_TRUE(dd.ok());
  EXPECT_TRUE(auth::verify(k_ir, dd->auth->covered, dd->auth->mac));
  std::vector<byte> plain(dd->data.ciphertext.size() - hpke::tag_size);
  ASSERT_TRUE(hpke::open_base(hpke::aead_id::chacha20_poly1305, dd->data.enc, one_time.secret,
                              one_time.pub, text("cryptcom/2 one-time key"),
                              dd->data.associated_data, dd->data.ciphertext, plain)
                  .ok());
  EXPECT_EQ(plain, payload);
}

}  // namespace
}  // namespace cryptcom
