// The worked example of docs/PROTOCOL.md ("A control frame, byte by byte"): the encoder must
// produce exactly the bytes the specification derives by hand, and the decoder must read them back.
#include <gtest/gtest.h>

#include <numeric>

#include "wire/frame.hpp"

namespace cryptcom::wire {
namespace {

template <std::size_t n>
std::array<byte, n> counting_from(byte first) {
  std::array<byte, n> a{};
  std::iota(a.begin(), a.end(), first);
  return a;
}

// The bytes as PROTOCOL.md lays them out, element by element.
std::vector<byte> specified_bytes() {
  std::vector<byte> v;
  const auto put = [&v](std::initializer_list<int> bytes) {
    for (int b : bytes) v.push_back(static_cast<byte>(b));
  };
  const auto put_range = [&v](byte first, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) v.push_back(static_cast<byte>(first + i));
  };
  put({0x93, 0x01, 0x01});  // frame: fixarray(3), version 1, kind 1 (control)
  put({0x95});              // control block: fixarray(5)
  put({0xc4, 0x10});        //   instance: bin8(16)
  put_range(0x00, 16);
  put({0x02});        //   wanted: 2
  put({0x91});        //   offers: fixarray(1)
  put({0x93});        //     offered key: fixarray(3)
  put({0xc4, 0x10});  //       id: bin8(16)
  put_range(0x10, 16);
  put({0xc4, 0x20});  //       key: bin8(32)
  put_range(0x20, 32);
  put({0xcd, 0xea, 0x60});  //       ttl_ms: uint16 60000
  put({0x91});              //   acks: fixarray(1)
  put({0xc4, 0x10});        //     bin8(16)
  put_range(0x40, 16);
  put({0x91});        //   rejections: fixarray(1)
  put({0x92});        //     rejection: fixarray(2)
  put({0xc4, 0x10});  //       id: bin8(16)
  put_range(0x50, 16);
  put({0x06});  //       reason: 6 (expired_key)
  return v;
}

control_block example_block() {
  control_block b;
  b.instance.bytes = counting_from<16>(0x00);
  b.wanted = 2;
  b.offers.push_back({{counting_from<16>(0x10)}, {counting_from<32>(0x20)}, 60000});
  b.acks.push_back({counting_from<16>(0x40)});
  b.rejections.push_back({{counting_from<16>(0x50)}, errc::expired_key});
  return b;
}

TEST(wire, the_control_frame_example_of_the_specification_is_what_the_encoder_writes) {
  std::vector<byte> frame;
  encode_control(example_block(), frame);
  EXPECT_EQ(frame, specified_bytes());
  EXPECT_EQ(frame.size(), 120u);
  // The dump as it appears in PROTOCOL.md, 16 bytes a line.
  for (std::size_t i = 0; i < frame.size(); i += 16) {
    std::printf("%04zx ", i);
    for (std::size_t j = i; j < std::min(frame.size(), i + 16); ++j) std::printf(" %02x", frame[j]);
    std::printf("\n");
  }
}

TEST(wire, the_control_frame_example_of_the_specification_decodes_to_its_values) {
  const std::vector<byte> frame = specified_bytes();
  auto decoded = decode(frame, decode_limits{});
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  ASSERT_EQ(decoded->kind, frame_kind::control);
  EXPECT_EQ(decoded->control, example_block());
}

TEST(wire, the_payload_example_of_the_specification_is_what_the_encoder_writes) {
  const std::vector<byte> hi = {'h', 'i'};
  const byte_view parts[] = {hi, byte_view{}};
  std::vector<byte> out(payload_size(parts));
  encode_payload(parts, out);
  // fixarray(2), bin8(2) "hi", bin8(0)
  EXPECT_EQ(out, (std::vector<byte>{0x92, 0xc4, 0x02, 0x68, 0x69, 0xc4, 0x00}));
}

TEST(wire, the_data_frame_shape_of_the_specification_is_what_the_encoder_writes) {
  guid k;
  k.bytes = counting_from<16>(0x10);
  public_key enc;
  enc.bytes = counting_from<32>(0x20);
  std::vector<byte> frame;
  const data_layout layout = encode_data(k, enc, std::nullopt, nullptr, 7 + 16, frame);
  std::vector<byte> head = {0x97, 0x01, 0x02, 0xc4, 0x10};
  head.insert(head.end(), k.bytes.begin(), k.bytes.end());
  head.insert(head.end(), {0xc4, 0x20});
  head.insert(head.end(), enc.bytes.begin(), enc.bytes.end());
  head.insert(head.end(), {0xc0, 0xc0});
  ASSERT_EQ(head.size(), 57u);
  ASSERT_EQ(frame.size(), 82u);
  EXPECT_TRUE(std::equal(head.begin(), head.end(), frame.begin()));
  EXPECT_EQ(frame[57], 0xc4);
  EXPECT_EQ(frame[58], 23);
  EXPECT_EQ(layout.associated_data.size(), 57u);
  EXPECT_EQ(layout.ciphertext.data(), frame.data() + 59);
}

// The second example: the same block with the hello our engine adds (ChaCha20-Poly1305, 64 MiB,
// 1000 parts): the block's header becomes fixarray(6) and 12 bytes follow the rejections.
TEST(wire, the_control_frame_example_with_a_hello_is_what_the_encoder_writes) {
  control_block block = example_block();
  block.about_sender = hello{1, 0, 0x0003, 64u * 1024 * 1024, 1000};
  std::vector<byte> expected = specified_bytes();
  expected[3] = 0x96;
  for (int b : {0x95, 0x01, 0x00, 0x03, 0xce, 0x04, 0x00, 0x00, 0x00, 0xcd, 0x03, 0xe8}) {
    expected.push_back(static_cast<byte>(b));
  }
  std::vector<byte> frame;
  encode_control(block, frame);
  EXPECT_EQ(frame, expected);
  EXPECT_EQ(frame.size(), 132u);
  auto decoded = decode(expected, decode_limits{});
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(decoded->control, block);
}

}  // namespace
}  // namespace cryptcom::wire
