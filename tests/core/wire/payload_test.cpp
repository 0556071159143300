// The payload (the sealed message parts): sizes, round trips and strict decoding.
#include <gtest/gtest.h>

#include <numeric>

#include "core/wire/wire_test_util.hpp"
#include "wire/frame.hpp"

namespace cryptcom::wire {
namespace {

using test::mp;

std::vector<byte> encode(const std::vector<std::vector<byte>>& parts) {
  std::vector<byte_view> views(parts.begin(), parts.end());
  std::vector<byte> out(payload_size(views));
  encode_payload(views, out);
  return out;
}

std::vector<std::vector<byte>> round_trip(const std::vector<std::vector<byte>>& parts) {
  const std::vector<byte> payload = encode(parts);
  std::vector<byte_view> views;
  const status s = decode_payload(payload, decode_limits{}, views);
  EXPECT_TRUE(s.ok()) << s.to_string();
  std::vector<std::vector<byte>> out;
  for (byte_view v : views) {
    EXPECT_GE(v.data(), payload.data());
    EXPECT_LE(v.data() + v.size(), payload.data() + payload.size()) << "views into the payload";
    out.emplace_back(v.begin(), v.end());
  }
  return out;
}

std::vector<byte> pattern(std::size_t n, int seed) {
  std::vector<byte> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<byte>(i * 7 + static_cast<std::size_t>(seed));
  return v;
}

TEST(wire_payload, one_empty_part_round_trips) {
  const std::vector<std::vector<byte>> parts = {{}};
  EXPECT_EQ(round_trip(parts), parts);
}

TEST(wire_payload, a_hundred_parts_of_varied_sizes_round_trip) {
  std::vector<std::vector<byte>> parts;
  for (int i = 0; i < 100; ++i) parts.push_back(pattern(static_cast<std::size_t>(i * 37 % 700), i));
  EXPECT_EQ(round_trip(parts), parts);
}

TEST(wire_payload, one_part_of_one_mebibyte_round_trips) {
  const std::vector<std::vector<byte>> parts = {pattern(1 << 20, 3)};
  EXPECT_EQ(round_trip(parts), parts);
}

TEST(wire_payload, parts_at_the_header_size_boundaries_round_trip) {
  std::vector<std::vector<byte>> parts;
  for (std::size_t n : {0, 1, 255, 256, 65535, 65536, 70000}) parts.push_back(pattern(n, 1));
  EXPECT_EQ(round_trip(parts), parts);
}

TEST(wire_payload, part_counts_at_the_array_header_boundaries_round_trip) {
  for (std::size_t count : {1, 15, 16, 65535, 65536}) {
    SCOPED_TRACE(count);
    std::vector<std::vector<byte>> parts(count, std::vector<byte>{0x42});
    EXPECT_EQ(round_trip(parts), parts);
  }
}

// payload_size must agree with msgpack-c's packer, which chooses the header formats.
TEST(wire_payload, payload_size_is_what_msgpack_c_packs) {
  const std::vector<std::vector<std::size_t>> shapes = {{0},
                                                        {1, 2, 3},
                                                        {255},
                                                        {256},
                                                        {65535},
                                                        {65536},
                                                        std::vector<std::size_t>(15, 1),
                                                        std::vector<std::size_t>(16, 1),
                                                        std::vector<std::size_t>(65536, 0)};
  for (const auto& sizes : shapes) {
    mp reference;
    reference.array(static_cast<std::uint32_t>(sizes.size()));
    std::vector<std::vector<byte>> parts;
    for (std::size_t n : sizes) {
      parts.push_back(pattern(n, 9));
      reference.bin(parts.back());
    }
    const std::vector<byte_view> views(parts.begin(), parts.end());
    EXPECT_EQ(payload_size(views), reference.bytes().size());
    EXPECT_EQ(encode(parts), reference.bytes());
  }
}

TEST(wire_payload, encode_payload_writes_exactly_payload_size_bytes_of_a_larger_buffer) {
  const std::vector<byte> part = pattern(40, 1);
  const byte_view views[] = {part};
  const std::size_t size = payload_size(views);
  std::vector<byte> out(size + 16, 0xee);  // e.g. the ciphertext area with room for the tag
  encode_payload(views, out);
  for (std::size_t i = size; i < out.size(); ++i) EXPECT_EQ(out[i], 0xee);
  std::vector<byte_view> decoded;
  ASSERT_TRUE(decode_payload(byte_view(out).first(size), decode_limits{}, decoded).ok());
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_TRUE(std::equal(decoded[0].begin(), decoded[0].end(), part.begin(), part.end()));
}

TEST(wire_payload, append_payload_and_encode_data_with_parts_write_what_encode_payload_does) {
  const std::vector<byte> a = pattern(70000, 3);
  const std::vector<byte> b = pattern(5, 4);
  const byte_view views[] = {a, byte_view(), b};
  const std::size_t size = payload_size(views);
  std::vector<byte> expected(size);
  encode_payload(views, expected);

  std::vector<byte> appended{1, 2, 3};
  append_payload(views, appended);
  ASSERT_EQ(appended.size(), 3 + size);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), appended.begin() + 3));

  // The frame with the parts in its ciphertext is laid out as the frame without them.
  const guid key{};
  const public_key enc{};
  std::vector<byte> with_parts, without;
  const data_layout l1 = encode_data(key, enc, std::nullopt, nullptr, size + 16, views, with_parts);
  const data_layout l2 = encode_data(key, enc, std::nullopt, nullptr, size + 16, without);
  ASSERT_EQ(with_parts.size(), without.size());
  EXPECT_TRUE(std::equal(l1.associated_data.begin(), l1.associated_data.end(),
                         l2.associated_data.begin(), l2.associated_data.end()));
  ASSERT_EQ(l1.ciphertext.size(), size + 16);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), l1.ciphertext.begin()));
  const data_layout_v2 v2 =
      encode_data_v2(7, key, enc, std::nullopt, nullptr, size + 16, views, with_parts);
  ASSERT_EQ(v2.ciphertext.size(), size + 16);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), v2.ciphertext.begin()));
}

TEST(wire_payload, a_payload_of_zero_parts_is_malformed) {
  std::vector<byte_view> parts{byte_view{}};
  const status s = decode_payload(mp{}.array(0).bytes(), decode_limits{}, parts);
  EXPECT_EQ(s.code(), errc::malformed_frame);
  EXPECT_NE(s.message().find("at least one part"), std::string::npos) << s.message();
  EXPECT_TRUE(parts.empty()) << "the output is cleared on failure";
}

struct bad_payload {
  std::string name;
  std::vector<byte> input;
  errc expected;
  std::size_t max_parts = decode_limits{}.max_parts;
};

TEST(wire_payload, every_malformed_payload_in_the_table_is_refused_with_its_error_code) {
  const std::vector<bad_payload> cases = {
      {"empty", {}, errc::malformed_frame},
      {"nil", mp{}.nil().bytes(), errc::malformed_frame},
      {"map", mp{}.map(1).bin(1).bin(1).bytes(), errc::malformed_frame},
      {"a_bare_bin", mp{}.bin(5).bytes(), errc::malformed_frame},
      {"str_part", mp{}.array(1).str("hello").bytes(), errc::malformed_frame},
      {"int_part", mp{}.array(1).uint(7).bytes(), errc::malformed_frame},
      {"nested_array_part", mp{}.array(1).array(1).bin(1).bytes(), errc::malformed_frame},
      {"second_part_str", mp{}.array(2).bin(3).str("x").bytes(), errc::malformed_frame},
      {"fewer_parts_than_counted", mp{}.array(3).bin(3).bin(3).bytes(), errc::malformed_frame},
      {"more_parts_than_counted", mp{}.array(1).bin(3).bin(3).bytes(), errc::malformed_frame},
      {"trailing_byte", mp{}.array(1).bin(3).raw({0}).bytes(), errc::malformed_frame},
      {"part_longer_than_the_input", mp{}.array(1).raw({0xc6, 0, 1, 0, 0, 1, 2}).bytes(),
       errc::malformed_frame},
      {"count_beyond_the_input", mp{}.raw({0xdc, 0x10, 0}).bin(0).bytes(), errc::malformed_frame},
      {"array32_count_of_2_pow_32_minus_1", mp{}.raw({0xdd, 0xff, 0xff, 0xff, 0xff}).bytes(),
       errc::limit_exceeded},
      {"parts_above_max_parts", mp{}.array(4).bin(1).bin(1).bin(1).bin(1).bytes(),
       errc::limit_exceeded, 3},
  };
  for (const bad_payload& c : cases) {
    SCOPED_TRACE(c.name);
    decode_limits limits;
    limits.max_parts = c.max_parts;
    std::vector<byte_view> parts(2);
    const status s = decode_payload(c.input, limits, parts);
    EXPECT_EQ(s.code(), c.expected) << s.to_string();
    EXPECT_EQ(s.message().rfind("offset ", 0), 0u) << s.message();
    EXPECT_TRUE(parts.empty());
  }
}

TEST(wire_payload, parts_of_exactly_max_parts_are_accepted) {
  decode_limits limits;
  limits.max_parts = 4;
  std::vector<byte_view> parts;
  EXPECT_TRUE(
      decode_payload(mp{}.array(4).bin(1).bin(1).bin(1).bin(1).bytes(), limits, parts).ok());
  EXPECT_EQ(parts.size(), 4u);
}

TEST(wire_payload, every_truncation_of_a_valid_payload_is_malformed) {
  const std::vector<byte> payload = encode({pattern(3, 1), {}, pattern(300, 2), pattern(20, 3)});
  for (std::size_t n = 0; n < payload.size(); ++n) {
    const std::vector<byte> prefix(payload.begin(), payload.begin() + static_cast<long>(n));
    std::vector<byte_view> parts;
    ASSERT_EQ(decode_payload(prefix, decode_limits{}, parts).code(), errc::malformed_frame) << n;
  }
}

}  // namespace
}  // namespace cryptcom::wire
