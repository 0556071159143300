// The REQ-style exchange of docs/PROTOCOL.md §11.4, rebuilt from its stated inputs: the request
// a REQ seals (its payload ["", "hello"], a reply key attached) and the reply a REP seals to
// that reply key (["", "world"]), byte for byte as documented, each opening with the stated
// receiver key to the documented parts. The envelope around them (the routing frame on the
// ROUTER side, none on the DEALER side) is what envelope_test.cpp sees on real sockets.
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hpke.hpp"
#include "wire/frame.hpp"

namespace cryptcom {
namespace {

// The hex of the two frames, as docs/PROTOCOL.md §11.4 shows them.
constexpr std::string_view documented_request =
    "970102c410101112131415161718191a1b1c1d1e1fc420729d6561d2f278f4d70a0410502f81249b75689a7b0dfe"
    "b4d489aed6d481e36293c410202122232425262728292a2b2c2d2e2fc4200a4244187e020c1b51d5150259332200"
    "1217c1db3bc91bf837491c9b71807605cdea60c0c41a2e12b9fe5dcefcbd05099300d94ec1185a83a239baf6c852"
    "78cc";
constexpr std::string_view documented_reply =
    "970102c410202122232425262728292a2b2c2d2e2fc420b259f6ee92dcba0111850b13b3f6dccc827726f9b08235"
    "ab62922b6b3f3f2a19c0c0c41a5162598a8456caba3a7fe1d8206b959ed6be9bbfa450e75c5759";

std::array<byte, 32> ikm_from(byte first) {
  std::array<byte, 32> ikm{};
  for (std::size_t i = 0; i < ikm.size(); ++i) ikm[i] = static_cast<byte>(first + i);
  return ikm;
}

guid guid_from(byte first) {
  guid g;
  for (std::size_t i = 0; i < g.bytes.size(); ++i) g.bytes[i] = static_cast<byte>(first + i);
  return g;
}

byte_view bytes(std::string_view s) { return {reinterpret_cast<const byte*>(s.data()), s.size()}; }

const std::string info = "cryptcom/1 one-time key";

// A key pair derived from a fixed ikm (in operation: fresh random pairs).
struct fixed_pair {
  explicit fixed_pair(byte first) {
    const auto ikm = ikm_from(first);
    EXPECT_TRUE(hpke::derive_key_pair(ikm, secret, pk).ok());
  }
  ~fixed_pair() { sodium_memzero(secret.data(), secret.size()); }
  std::array<byte, 32> secret{};
  public_key pk;
};

// Seals `parts` as a data frame to `key_id`/`recipient` with the fixed ephemeral pair.
std::vector<byte> seal(const guid& key_id, const public_key& recipient, const fixed_pair& eph,
                       const std::optional<wire::offered_key>& reply_key,
                       const std::vector<std::string>& parts) {
  std::vector<byte_view> views;
  for (const auto& p : parts) views.push_back(bytes(p));
  std::vector<byte> payload(wire::payload_size(views));
  wire::encode_payload(views, payload);
  std::vector<byte> frame;
  const auto layout =
      wire::encode_data(key_id, eph.pk, reply_key, nullptr, payload.size() + hpke::tag_size, frame);
  public_key enc;
  EXPECT_TRUE(hpke::seal_base(hpke::aead_id::chacha20_poly1305, recipient, bytes(info),
                              layout.associated_data, payload, {eph.secret, eph.pk}, enc,
                              layout.ciphertext)
                  .ok());
  EXPECT_EQ(enc, eph.pk);
  return frame;
}

// Opens a data frame with the recipient's pair and returns its parts.
std::vector<std::string> open(const std::vector<byte>& frame, const fixed_pair& recipient,
                              std::optional<wire::offered_key>* reply_key = nullptr) {
  auto decoded = wire::decode(frame, wire::decode_limits{});
  EXPECT_TRUE(decoded.ok());
  if (!decoded.ok()) return {};
  if (reply_key != nullptr) *reply_key = decoded->data.reply_key;
  std::vector<byte> opened(decoded->data.ciphertext.size() - hpke::tag_size);
  EXPECT_TRUE(hpke::open_base(hpke::aead_id::chacha20_poly1305, decoded->data.enc, recipient.secret,
                              recipient.pk, bytes(info), decoded->data.associated_data,
                              decoded->data.ciphertext, opened)
                  .ok());
  std::vector<byte_view> parts;
  EXPECT_TRUE(wire::decode_payload(opened, wire::decode_limits{}, parts).ok());
  std::vector<std::string> out;
  for (byte_view p : parts) out.emplace_back(p.begin(), p.end());
  return out;
}

TEST(protocol_envelope_example, the_documented_req_rep_exchange_is_what_the_code_produces) {
  ASSERT_GE(sodium_init(), 0);
  const fixed_pair server_key(0xa0);   // the REP's one-time key, offered as 10 11 ... 1f
  const fixed_pair reply_key(0xc0);    // the REQ's reply key, 20 21 ... 2f
  const fixed_pair request_eph(0xe0);  // the REQ's ephemeral pair
  const fixed_pair reply_eph(0x40);    // the REP's ephemeral pair
  const wire::offered_key offered{guid_from(0x20), reply_key.pk, 60000};

  const auto request = seal(guid_from(0x10), server_key.pk, request_eph, offered, {"", "hello"});
  const auto reply = seal(guid_from(0x20), reply_key.pk, reply_eph, std::nullopt, {"", "world"});
  EXPECT_EQ(to_hex(request), documented_request) << "update docs/PROTOCOL.md §11.4 with this test";
  EXPECT_EQ(to_hex(reply), documented_reply) << "update docs/PROTOCOL.md §11.4 with this test";

  // The REP opens the request with its key: the REQ's empty part, then the body; the reply key
  // it carries is the one the reply is sealed to.
  std::optional<wire::offered_key> carried;
  EXPECT_EQ(open(request, server_key, &carried), (std::vector<std::string>{"", "hello"}));
  ASSERT_TRUE(carried);
  EXPECT_EQ(*carried, offered);
  EXPECT_EQ(open(reply, reply_key), (std::vector<std::string>{"", "world"}));
}

}  // namespace
}  // namespace cryptcom
