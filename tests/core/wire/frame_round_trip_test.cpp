// Frames encoded by wire::encode_* decode back to what was encoded, and are plain msgpack of the
// shape docs/PROTOCOL.md describes (checked with msgpack-c's own unpacker).
#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "core/wire/wire_test_util.hpp"
#include "wire/frame.hpp"

namespace cryptcom::wire {
namespace {

using test::control_frame;
using test::data_frame;
using test::full_block;
using test::make_guid;
using test::make_key;
using test::make_offer;

control_block decode_control_ok(const std::vector<byte>& frame) {
  auto decoded = decode(frame, decode_limits{});
  EXPECT_TRUE(decoded.ok()) << decoded.error().to_string();
  if (!decoded.ok()) return {};
  EXPECT_EQ(decoded->kind, frame_kind::control);
  return decoded->control;
}

bool inside(byte_view inner, byte_view outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

TEST(wire, control_frame_carrying_a_key_request_round_trips) {
  control_block block;
  block.instance = make_guid(9);
  block.wanted = 8;
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
}

TEST(wire, control_block_with_a_hello_round_trips_alone_and_on_a_data_frame) {
  control_block block = full_block();
  block.about_sender = hello{1, 0xfffffffffffffffful, 0x0002, 64u << 20, 1000};
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
  block.about_sender->max_version = 0xffffffffu;
  block.about_sender->max_message_bytes = 0xfffffffffffffffful;
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);

  std::vector<byte> frame;
  auto layout = encode_data(make_guid(1), public_key{}, std::nullopt, &block, 16, frame);
  std::fill(layout.ciphertext.begin(), layout.ciphertext.end(), byte{0});
  auto decoded = decode(frame, decode_limits{});
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  ASSERT_TRUE(decoded->data.control);
  EXPECT_EQ(*decoded->data.control, block);
}

TEST(wire, a_block_without_a_hello_from_an_older_peer_still_decodes) {
  control_block block = full_block();
  ASSERT_FALSE(block.about_sender);
  const auto decoded = decode_control_ok(control_frame(block));
  EXPECT_FALSE(decoded.about_sender);
  EXPECT_EQ(decoded, block);
}

TEST(wire, control_frame_carrying_the_largest_key_request_round_trips) {
  control_block block;
  block.instance = make_guid(9);
  block.wanted = 0xffffffffu;
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
}

TEST(wire, control_frame_carrying_an_offer_of_max_offers_keys_round_trips) {
  control_block block;
  block.instance = make_guid(1);
  const std::uint32_t ttls[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffffu};
  for (std::size_t i = 0; i < decode_limits{}.max_offers; ++i) {
    block.offers.push_back(make_offer(static_cast<byte>(i), ttls[i % std::size(ttls)]));
  }
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
}

TEST(wire, control_frame_carrying_max_acks_acknowledgements_round_trips) {
  control_block block;
  block.instance = make_guid(2);
  for (std::size_t i = 0; i < decode_limits{}.max_acks; ++i) {
    block.acks.push_back(make_guid(static_cast<byte>(i * 3)));
  }
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
}

TEST(wire, control_frame_carrying_a_rejection_of_every_reason_round_trips) {
  control_block block;
  block.instance = make_guid(3);
  for (int reason = 1; reason <= static_cast<int>(errc::internal); ++reason) {
    block.rejections.push_back({make_guid(static_cast<byte>(reason)), static_cast<errc>(reason)});
  }
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
}

TEST(wire, control_frame_carrying_request_offers_acks_and_rejections_together_round_trips) {
  const control_block block = full_block();
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
}

TEST(wire, control_frame_with_an_empty_block_round_trips) {
  control_block block;
  block.instance = make_guid(4);
  ASSERT_TRUE(block.empty());
  EXPECT_EQ(decode_control_ok(control_frame(block)), block);
}

TEST(wire, encode_control_replaces_whatever_the_output_held) {
  std::vector<byte> out(1000, 0xee);
  control_block block;
  block.instance = make_guid(5);
  encode_control(block, out);
  EXPECT_LT(out.size(), 1000u);
  EXPECT_EQ(decode_control_ok(out), block);
}

struct data_case {
  bool with_reply;
  bool with_control;
};

class data_round_trip : public ::testing::TestWithParam<data_case> {};

TEST_P(data_round_trip, data_frame_round_trips_with_every_field) {
  const data_case c = GetParam();
  const control_block block = full_block();
  std::optional<offered_key> reply;
  if (c.with_reply) reply = make_offer(0x33, 5000);
  for (std::size_t ciphertext_size :
       {std::size_t{0}, std::size_t{16}, std::size_t{255}, std::size_t{256}, std::size_t{65535},
        std::size_t{65536}, std::size_t{1} << 20}) {
    std::vector<byte> out;
    const data_layout layout = encode_data(make_guid(0x11), make_key(0x22), reply,
                                           c.with_control ? &block : nullptr, ciphertext_size, out);
    // The caller seals in place: fill the ciphertext after encoding.
    for (std::size_t i = 0; i < layout.ciphertext.size(); ++i) {
      layout.ciphertext[i] = static_cast<byte>(i * 31 + 7);
    }
    ASSERT_EQ(layout.ciphertext.size(), ciphertext_size);
    ASSERT_EQ(layout.ciphertext.data() + layout.ciphertext.size(), out.data() + out.size())
        << "the ciphertext is the last element";

    auto decoded = decode(out, decode_limits{});
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    ASSERT_EQ(decoded->kind, frame_kind::data);
    const data_view& d = decoded->data;
    EXPECT_EQ(d.key_id, make_guid(0x11));
    EXPECT_EQ(d.enc, make_key(0x22));
    EXPECT_EQ(d.reply_key, reply);
    EXPECT_EQ(d.control.has_value(), c.with_control);
    if (d.control) {
      EXPECT_EQ(*d.control, block);
    }
    ASSERT_EQ(d.ciphertext.size(), ciphertext_size);
    EXPECT_TRUE(std::equal(d.ciphertext.begin(), d.ciphertext.end(), layout.ciphertext.begin()));

    // The associated data the sender sealed with is the one the receiver opens with.
    EXPECT_EQ(d.associated_data.data(), out.data());
    EXPECT_EQ(layout.associated_data.data(), out.data());
    ASSERT_EQ(d.associated_data.size(), layout.associated_data.size());
    EXPECT_TRUE(std::equal(d.associated_data.begin(), d.associated_data.end(),
                           layout.associated_data.begin()));
    // Between them sits only the ciphertext's bin header (2, 3 or 5 bytes).
    const std::size_t header = out.size() - d.associated_data.size() - ciphertext_size;
    EXPECT_EQ(header, ciphertext_size < 256 ? 2u : ciphertext_size < 65536 ? 3u : 5u);
  }
}

INSTANTIATE_TEST_SUITE_P(wire, data_round_trip,
                         ::testing::Values(data_case{false, false}, data_case{true, false},
                                           data_case{false, true}, data_case{true, true}),
                         [](const auto& p) {
                           return std::string(p.param.with_reply ? "reply" : "no_reply") + "_" +
                                  (p.param.with_control ? "control" : "no_control");
                         });

TEST(wire, decoded_data_frame_views_point_into_the_input_buffer) {
  const std::vector<byte> frame = data_frame(std::nullopt, nullptr, 100);
  auto decoded = decode(frame, decode_limits{});
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_TRUE(inside(decoded->data.ciphertext, frame));
  EXPECT_TRUE(inside(decoded->data.associated_data, frame));
}

TEST(wire, associated_data_covers_a_piggybacked_offer_so_changing_it_changes_the_aad) {
  const control_block block = full_block();
  std::vector<byte> frame = data_frame(std::nullopt, &block, 32);
  auto before = decode(frame, decode_limits{});
  ASSERT_TRUE(before.ok());
  const std::vector<byte> aad_before(before->data.associated_data.begin(),
                                     before->data.associated_data.end());
  // Flip one byte inside the first offered public key, which sits in the control block.
  const auto& key = block.offers[0].key.bytes;
  auto it = std::search(frame.begin(), frame.end(), key.begin(), key.end());
  ASSERT_NE(it, frame.end());
  *it ^= 1;
  auto after = decode(frame, decode_limits{});
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->data.control->offers[0].key, block.offers[0].key);
  EXPECT_FALSE(std::equal(aad_before.begin(), aad_before.end(), after->data.associated_data.begin(),
                          after->data.associated_data.end()));
}

// msgpack-c's generic unpacker, not our decoder, reads what our encoder wrote.
TEST(wire, encoded_control_frame_is_plain_msgpack_of_the_documented_shape) {
  const control_block block = full_block();
  const std::vector<byte> frame = control_frame(block);
  std::size_t off = 0;
  msgpack::object_handle oh =
      msgpack::unpack(reinterpret_cast<const char*>(frame.data()), frame.size(), off);
  EXPECT_EQ(off, frame.size());
  const msgpack::object& o = oh.get();
  ASSERT_EQ(o.type, msgpack::type::ARRAY);
  ASSERT_EQ(o.via.array.size, 3u);
  EXPECT_EQ(o.via.array.ptr[0].as<int>(), 1);
  EXPECT_EQ(o.via.array.ptr[1].as<int>(), 1);
  const msgpack::object& cb = o.via.array.ptr[2];
  ASSERT_EQ(cb.type, msgpack::type::ARRAY);
  ASSERT_EQ(cb.via.array.size, 5u);
  ASSERT_EQ(cb.via.array.ptr[0].type, msgpack::type::BIN);
  EXPECT_EQ(cb.via.array.ptr[0].via.bin.size, 16u);
  EXPECT_EQ(std::memcmp(cb.via.array.ptr[0].via.bin.ptr, block.instance.bytes.data(), 16), 0);
  EXPECT_EQ(cb.via.array.ptr[1].as<std::uint32_t>(), block.wanted);
  const msgpack::object& offers = cb.via.array.ptr[2];
  ASSERT_EQ(offers.type, msgpack::type::ARRAY);
  ASSERT_EQ(offers.via.array.size, block.offers.size());
  for (std::size_t i = 0; i < block.offers.size(); ++i) {
    const msgpack::object& k = offers.via.array.ptr[i];
    ASSERT_EQ(k.via.array.size, 3u);
    ASSERT_EQ(k.via.array.ptr[0].type, msgpack::type::BIN);
    ASSERT_EQ(k.via.array.ptr[1].type, msgpack::type::BIN);
    EXPECT_EQ(k.via.array.ptr[1].via.bin.size, 32u);
    EXPECT_EQ(std::memcmp(k.via.array.ptr[1].via.bin.ptr, block.offers[i].key.bytes.data(), 32), 0);
    EXPECT_EQ(k.via.array.ptr[2].as<std::uint32_t>(), block.offers[i].ttl_ms);
  }
  const msgpack::object& acks = cb.via.array.ptr[3];
  ASSERT_EQ(acks.via.array.size, block.acks.size());
  EXPECT_EQ(acks.via.array.ptr[0].type, msgpack::type::BIN);
  const msgpack::object& rejections = cb.via.array.ptr[4];
  ASSERT_EQ(rejections.via.array.size, block.rejections.size());
  EXPECT_EQ(rejections.via.array.ptr[0].via.array.ptr[1].as<int>(),
            static_cast<int>(errc::expired_key));
}

TEST(wire, encoded_data_frame_is_plain_msgpack_of_the_documented_shape) {
  const std::vector<byte> frame = data_frame(make_offer(7, 9), nullptr, 40);
  std::size_t off = 0;
  msgpack::object_handle oh =
      msgpack::unpack(reinterpret_cast<const char*>(frame.data()), frame.size(), off);
  EXPECT_EQ(off, frame.size());
  const msgpack::object& o = oh.get();
  ASSERT_EQ(o.type, msgpack::type::ARRAY);
  ASSERT_EQ(o.via.array.size, 7u);
  EXPECT_EQ(o.via.array.ptr[0].as<int>(), 1);
  EXPECT_EQ(o.via.array.ptr[1].as<int>(), 2);
  EXPECT_EQ(o.via.array.ptr[2].via.bin.size, 16u);
  EXPECT_EQ(o.via.array.ptr[3].via.bin.size, 32u);
  EXPECT_EQ(o.via.array.ptr[4].type, msgpack::type::ARRAY);
  EXPECT_EQ(o.via.array.ptr[5].type, msgpack::type::NIL);
  ASSERT_EQ(o.via.array.ptr[6].type, msgpack::type::BIN);
  EXPECT_EQ(o.via.array.ptr[6].via.bin.size, 40u);
}

// A peer in another language may write integers and bins in wider formats than needed.
TEST(wire, integers_and_bins_in_wider_formats_than_needed_are_accepted) {
  std::vector<byte> frame = test::mp{}
                                .array(3)
                                .raw({0xcf, 0, 0, 0, 0, 0, 0, 0, 1})  // version 1 as uint64
                                .raw({0xd0, 1})                       // kind 1 as int8
                                .array(5)
                                .raw({0xc6, 0, 0, 0, 16})  // instance as bin32
                                .raw(make_guid(3).bytes)
                                .raw({0xce, 0, 0, 0, 2})  // wanted 2 as uint32
                                .raw({0xdd, 0, 0, 0, 1})  // offers as array32
                                .array(3)
                                .raw({0xc5, 0, 16})  // bin16
                                .raw(make_guid(4).bytes)
                                .bin(make_key(4).bytes)
                                .raw({0xd3, 0, 0, 0, 0, 0, 0, 0x30, 0x39})  // 12345 as int64
                                .raw({0xdc, 0, 0})                          // acks as array16
                                .array(0)
                                .bytes();
  const control_block block = decode_control_ok(frame);
  EXPECT_EQ(block.instance, make_guid(3));
  EXPECT_EQ(block.wanted, 2u);
  ASSERT_EQ(block.offers.size(), 1u);
  EXPECT_EQ(block.offers[0], make_offer(4, 12345));
  EXPECT_TRUE(block.acks.empty());
  EXPECT_TRUE(block.rejections.empty());
}

TEST(wire, a_frame_of_exactly_max_frame_bytes_is_accepted) {
  const std::vector<byte> frame = data_frame(std::nullopt, nullptr, 1000);
  decode_limits limits;
  limits.max_frame_bytes = frame.size();
  EXPECT_TRUE(decode(frame, limits).ok());
  limits.max_frame_bytes = frame.size() - 1;
  EXPECT_EQ(decode(frame, limits).error().code(), errc::message_too_large);
}

TEST(wire, lists_of_exactly_the_limit_are_accepted) {
  control_block block = full_block();
  decode_limits limits;
  limits.max_offers = block.offers.size();
  limits.max_acks = block.acks.size();
  limits.max_rejections = block.rejections.size();
  auto decoded = decode(control_frame(block), limits);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(decoded->control, block);
}

}  // namespace
}  // namespace cryptcom::wire
