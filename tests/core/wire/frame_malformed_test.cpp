// Malformed frames: each is refused with the right error code, at a byte offset, and without
// reading or allocating past what the input holds (the ASan build checks the latter).
#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "core/wire/wire_test_util.hpp"
#include "wire/frame.hpp"

namespace cryptcom::wire {
namespace {

using test::mp;

struct bad_frame {
  std::string name;
  std::vector<byte> input;
  errc expected;
  std::string message_part = {};  // the error message must contain it
  decode_limits limits = {};
};

decode_limits small_limits() {
  decode_limits l;
  l.max_offers = 2;
  l.max_acks = 2;
  l.max_rejections = 2;
  return l;
}

std::vector<byte> nesting_bomb(std::vector<byte> prefix, std::size_t depth, byte header) {
  prefix.insert(prefix.end(), depth, header);
  return prefix;
}

std::vector<byte> with_trailing(std::vector<byte> frame, std::size_t n) {
  frame.insert(frame.end(), n, 0x00);
  return frame;
}

std::vector<bad_frame> bad_frames() {
  constexpr errc malformed = errc::malformed_frame;
  const control_block block = test::full_block();
  // Valid data frame fields: [1, 2, key_id, enc, reply|nil, control|nil, ciphertext]
  const auto data_head = [] { return std::move(mp{}.array(7).uint(1).uint(2)); };
  return {
      // The frame as a whole.
      {"empty_input", {}, malformed, "offset 0"},
      {"nil_instead_of_array", mp{}.nil().bytes(), malformed, "got nil"},
      {"map_instead_of_array", mp{}.map(1).uint(1).uint(1).bytes(), malformed, "got fixmap"},
      {"map16_instead_of_array", mp{}.raw({0xde, 0, 0}).bytes(), malformed, "got map16"},
      {"str_instead_of_array", mp{}.str("cryptcom").bytes(), malformed, "got fixstr"},
      {"empty_array", mp{}.array(0).bytes(), malformed},
      {"array_of_one", mp{}.array(1).uint(1).bytes(), malformed},
      {"truncated_array16_header", mp{}.raw({0xdc, 0}).bytes(), malformed, "input ends"},
      {"never_used_byte", mp{}.raw({0xc1}).bytes(), malformed, "0xc1"},
      {"frame_above_max_frame_bytes", test::control_frame(block), errc::message_too_large,
       "max_frame_bytes",
       [] {
         decode_limits l;
         l.max_frame_bytes = 20;
         return l;
       }()},

      // Version and kind.
      {"version_3", mp{}.array(3).uint(3).uint(1).empty_block().bytes(), errc::unsupported_version,
       "version 3"},
      {"version_2_control_without_seq_and_mac", mp{}.array(3).uint(2).uint(1).empty_block().bytes(),
       malformed, "array of 5"},
      {"version_2_handshake_step_4", mp{}.array(4).uint(2).uint(3).uint(4).bin(16).bytes(),
       malformed, "step 0..3"},
      {"version_2_seq_0", mp{}.array(5).uint(2).uint(1).uint(0).empty_block().bin(32).bytes(),
       malformed, "seq >= 1"},
      {"version_2_mac_of_31_bytes",
       mp{}.array(5).uint(2).uint(1).uint(1).empty_block().bin(31).bytes(), malformed, "(mac)"},
      {"version_1_kind_3", mp{}.array(4).uint(1).uint(3).uint(0).bin(16).bytes(),
       errc::unknown_kind},
      {"version_0", mp{}.array(3).uint(0).uint(1).empty_block().bytes(), errc::unsupported_version},
      {"version_huge", mp{}.array(3).uint(~0ull).uint(1).empty_block().bytes(),
       errc::unsupported_version},
      {"version_3_with_another_layout", mp{}.array(2).uint(3).str("future").bytes(),
       errc::unsupported_version},
      {"version_negative", mp{}.array(3).sint(-1).uint(1).empty_block().bytes(), malformed,
       "negative"},
      {"version_negative_int8", mp{}.array(3).raw({0xd0, 0xff}).uint(1).empty_block().bytes(),
       malformed, "negative"},
      {"version_as_str", mp{}.array(3).str("1").uint(1).empty_block().bytes(), malformed,
       "offset 1"},
      {"version_as_float", mp{}.array(3).real(1.0).uint(1).empty_block().bytes(), malformed},
      {"version_as_bool", mp{}.array(3).boolean(true).uint(1).empty_block().bytes(), malformed},
      {"kind_0", mp{}.array(3).uint(1).uint(0).empty_block().bytes(), errc::unknown_kind, "kind 0"},
      {"kind_3", mp{}.array(3).uint(1).uint(3).empty_block().bytes(), errc::unknown_kind},
      {"kind_255", mp{}.array(3).uint(1).uint(255).empty_block().bytes(), errc::unknown_kind},
      {"kind_2_pow_32", mp{}.array(3).uint(1).uint(1ull << 32).empty_block().bytes(),
       errc::unknown_kind},
      {"kind_negative", mp{}.array(3).uint(1).sint(-2).empty_block().bytes(), malformed},
      {"kind_as_nil", mp{}.array(3).uint(1).nil().empty_block().bytes(), malformed},
      {"truncated_uint16_version", mp{}.array(3).raw({0xcd, 0}).bytes(), malformed, "input ends"},

      // Element counts.
      {"control_of_2_elements", mp{}.array(2).uint(1).uint(1).bytes(), malformed, "3 elements"},
      {"control_of_4_elements", mp{}.array(4).uint(1).uint(1).empty_block().nil().bytes(),
       malformed, "3 elements"},
      {"data_of_3_elements", mp{}.array(3).uint(1).uint(2).bin(16).bytes(), malformed,
       "7 elements"},
      {"data_of_6_elements", mp{}.array(6).uint(1).uint(2).bin(16).bin(32).nil().nil().bytes(),
       malformed, "7 elements"},
      {"data_of_8_elements",
       mp{}.array(8).uint(1).uint(2).bin(16).bin(32).nil().nil().bin(20).nil().bytes(), malformed,
       "7 elements"},
      {"data_count_in_array32_of_7_is_fine_but_body_missing",
       mp{}.raw({0xdd, 0, 0, 0, 7}).uint(1).uint(2).bytes(), malformed, "input ends"},

      // The control block.
      {"block_as_nil", mp{}.array(3).uint(1).uint(1).nil().bytes(), malformed, "control"},
      {"block_as_bin", mp{}.array(3).uint(1).uint(1).bin(5).bytes(), malformed},
      {"block_as_map", mp{}.array(3).uint(1).uint(1).map(0).bytes(), malformed, "fixmap"},
      {"block_of_4",
       mp{}.array(3).uint(1).uint(1).array(4).bin(16).uint(0).array(0).array(0).bytes(), malformed,
       "5 or 6 elements"},
      {"block_of_7",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .array(7)
           .bin(16)
           .uint(0)
           .array(0)
           .array(0)
           .array(0)
           .nil()
           .nil()
           .bytes(),
       malformed, "5 or 6 elements"},
      {"hello_as_nil",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .array(6)
           .bin(16)
           .uint(0)
           .array(0)
           .array(0)
           .array(0)
           .nil()
           .bytes(),
       malformed, "control.hello"},
      {"hello_of_4",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .array(6)
           .bin(16)
           .uint(0)
           .array(0)
           .array(0)
           .array(0)
           .array(4)
           .uint(1)
           .uint(0)
           .uint(3)
           .uint(100)
           .bytes(),
       malformed, "control.hello"},
      {"hello_max_version_0",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .array(6)
           .bin(16)
           .uint(0)
           .array(0)
           .array(0)
           .array(0)
           .array(5)
           .uint(0)
           .uint(0)
           .uint(3)
           .uint(100)
           .uint(10)
           .bytes(),
       malformed, "max_version"},
      {"hello_aead_above_16_bits",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .array(6)
           .bin(16)
           .uint(0)
           .array(0)
           .array(0)
           .array(0)
           .array(5)
           .uint(1)
           .uint(0)
           .uint(0x10000)
           .uint(100)
           .uint(10)
           .bytes(),
       malformed, "control.hello.aead"},
      {"instance_of_15_bytes",
       mp{}.array(3).uint(1).uint(1).array(5).bin(15).uint(0).array(0).array(0).array(0).bytes(),
       malformed, "control.instance"},
      {"instance_of_17_bytes",
       mp{}.array(3).uint(1).uint(1).array(5).bin(17).uint(0).array(0).array(0).array(0).bytes(),
       malformed, "bin of 16 bytes"},
      {"instance_of_0_bytes",
       mp{}.array(3).uint(1).uint(1).array(5).bin(0).uint(0).array(0).array(0).array(0).bytes(),
       malformed},
      {"instance_as_str",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .array(5)
           .str("0123456789abcdef")
           .uint(0)
           .array(0)
           .array(0)
           .array(0)
           .bytes(),
       malformed, "fixstr"},
      {"wanted_negative",
       mp{}.array(3).uint(1).uint(1).array(5).bin(16).sint(-1).array(0).array(0).array(0).bytes(),
       malformed, "control.wanted"},
      {"wanted_above_uint32",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .array(5)
           .bin(16)
           .uint(1ull << 32)
           .array(0)
           .array(0)
           .array(0)
           .bytes(),
       malformed, "4294967296"},
      {"wanted_as_float",
       mp{}.array(3).uint(1).uint(1).array(5).bin(16).real(2.0).array(0).array(0).array(0).bytes(),
       malformed, "float64"},

      // Offers.
      {"offers_as_nil", mp{}.array(3).uint(1).uint(1).block_head().nil().array(0).array(0).bytes(),
       malformed, "control.offers"},
      {"offer_of_2_elements",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(1)
           .array(2)
           .bin(16)
           .bin(32)
           .array(0)
           .array(0)
           .bytes(),
       malformed, "control.offers[0]"},
      {"offer_of_4_elements",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(1)
           .array(4)
           .bin(16)
           .bin(32)
           .uint(1)
           .uint(1)
           .array(0)
           .array(0)
           .bytes(),
       malformed},
      {"offer_id_of_15_bytes",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(1)
           .array(3)
           .bin(15)
           .bin(32)
           .uint(1)
           .array(0)
           .array(0)
           .bytes(),
       malformed, "control.offers[0].id"},
      {"offer_key_of_31_bytes",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(1)
           .array(3)
           .bin(16)
           .bin(31)
           .uint(1)
           .array(0)
           .array(0)
           .bytes(),
       malformed, "control.offers[0].key"},
      {"offer_key_of_33_bytes",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(1)
           .array(3)
           .bin(16)
           .bin(33)
           .uint(1)
           .array(0)
           .array(0)
           .bytes(),
       malformed, "bin of 32 bytes"},
      {"offer_ttl_above_uint32",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(1)
           .array(3)
           .bin(16)
           .bin(32)
           .uint(0x100000000ull)
           .array(0)
           .array(0)
           .bytes(),
       malformed, "control.offers[0].ttl_ms"},
      {"offer_ttl_negative",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(1)
           .array(3)
           .bin(16)
           .bin(32)
           .sint(-1000)
           .array(0)
           .array(0)
           .bytes(),
       malformed},
      {"second_offer_broken",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(2)
           .offer(1)
           .array(3)
           .bin(16)
           .bin(32)
           .nil()
           .array(0)
           .array(0)
           .bytes(),
       malformed, "control.offers[1].ttl_ms"},
      {"offers_above_max_offers",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(3)
           .offer(1)
           .offer(2)
           .offer(3)
           .array(0)
           .array(0)
           .bytes(),
       errc::limit_exceeded, "max_offers", small_limits()},
      {"offers_array32_claiming_2_pow_32_minus_1",
       mp{}.array(3).uint(1).uint(1).block_head().raw({0xdd, 0xff, 0xff, 0xff, 0xff}).bytes(),
       errc::limit_exceeded, "max_offers"},
      {"offers_count_within_limit_but_beyond_the_input",
       mp{}.array(3).uint(1).uint(1).block_head().raw({0xdc, 0x03, 0xe8}).offer().bytes(),
       malformed, "claims 1000 elements"},

      // Acks.
      {"acks_above_max_acks",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(3)
           .bin(16)
           .bin(16)
           .bin(16)
           .array(0)
           .bytes(),
       errc::limit_exceeded, "max_acks", small_limits()},
      {"acks_array32_claiming_2_pow_32_minus_1",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .raw({0xdd, 0xff, 0xff, 0xff, 0xff})
           .bytes(),
       errc::limit_exceeded, "max_acks"},
      {"acks_count_beyond_the_input",
       mp{}.array(3).uint(1).uint(1).block_head().array(0).raw({0xdc, 0x0f, 0xa0}).bin(16).bytes(),
       malformed, "claims 4000 elements"},
      {"ack_of_15_bytes",
       mp{}.array(3).uint(1).uint(1).block_head().array(0).array(1).bin(15).array(0).bytes(),
       malformed, "control.acks[0]"},
      {"ack_as_array",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(1)
           .array(0)
           .array(0)
           .raw({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
           .bytes(),
       malformed, "fixarray"},

      // Rejections.
      {"rejections_above_max_rejections",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .array(3)
           .array(2)
           .bin(16)
           .uint(5)
           .array(2)
           .bin(16)
           .uint(5)
           .array(2)
           .bin(16)
           .uint(5)
           .bytes(),
       errc::limit_exceeded, "max_rejections", small_limits()},
      {"rejections_array32_claiming_2_pow_32_minus_1",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .raw({0xdd, 0xff, 0xff, 0xff, 0xff})
           .bytes(),
       errc::limit_exceeded, "max_rejections"},
      {"rejection_reason_0",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .array(1)
           .array(2)
           .bin(16)
           .uint(0)
           .bytes(),
       malformed, "control.rejections[0].reason"},
      {"rejection_reason_17",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .array(1)
           .array(2)
           .bin(16)
           .uint(17)
           .bytes(),
       malformed, "known error code"},
      {"rejection_reason_256",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .array(1)
           .array(2)
           .bin(16)
           .uint(256)
           .bytes(),
       malformed},
      {"rejection_reason_as_str",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .array(1)
           .array(2)
           .bin(16)
           .str("unknown_key")
           .bytes(),
       malformed},
      {"rejection_of_3_elements",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .array(1)
           .array(3)
           .bin(16)
           .uint(5)
           .nil()
           .bytes(),
       malformed, "control.rejections[0]"},
      {"rejection_id_of_17_bytes",
       mp{}.array(3)
           .uint(1)
           .uint(1)
           .block_head()
           .array(0)
           .array(0)
           .array(1)
           .array(2)
           .bin(17)
           .uint(5)
           .bytes(),
       malformed, "control.rejections[0].id"},

      // Data frames.
      {"key_id_of_15_bytes", data_head().bin(15).bin(32).nil().nil().bin(20).bytes(), malformed,
       "data.key_id"},
      {"key_id_as_nil", data_head().nil().bin(32).nil().nil().bin(20).bytes(), malformed},
      {"enc_of_31_bytes", data_head().bin(16).bin(31).nil().nil().bin(20).bytes(), malformed,
       "data.enc"},
      {"enc_of_33_bytes", data_head().bin(16).bin(33).nil().nil().bin(20).bytes(), malformed},
      {"enc_as_str", data_head().bin(16).str(std::string(32, 'k')).nil().nil().bin(20).bytes(),
       malformed, "str8"},
      {"reply_key_as_bool", data_head().bin(16).bin(32).boolean(false).nil().bin(20).bytes(),
       malformed, "data.reply_key"},
      {"reply_key_as_empty_array", data_head().bin(16).bin(32).array(0).nil().bin(20).bytes(),
       malformed, "3 elements"},
      {"reply_key_ttl_above_uint32",
       data_head().bin(16).bin(32).array(3).bin(16).bin(32).uint(1ull << 40).nil().bin(20).bytes(),
       malformed, "data.reply_key.ttl_ms"},
      {"control_as_bool", data_head().bin(16).bin(32).nil().boolean(true).bin(20).bytes(),
       malformed, "data.control"},
      {"control_block_broken_inside_data",
       data_head()
           .bin(16)
           .bin(32)
           .nil()
           .block_head()
           .array(0)
           .array(1)
           .bin(3)
           .array(0)
           .bin(20)
           .bytes(),
       malformed, "data.control.acks[0]"},
      {"data_control_offers_above_max_offers",
       data_head()
           .bin(16)
           .bin(32)
           .nil()
           .block_head()
           .array(3)
           .offer(1)
           .offer(2)
           .offer(3)
           .array(0)
           .array(0)
           .bin(20)
           .bytes(),
       errc::limit_exceeded, "max_offers", small_limits()},
      {"ciphertext_as_str", data_head().bin(16).bin(32).nil().nil().str("sealed").bytes(),
       malformed, "data.ciphertext"},
      {"ciphertext_as_nil", data_head().bin(16).bin(32).nil().nil().nil().bytes(), malformed},
      {"ciphertext_as_ext", data_head().bin(16).bin(32).nil().nil().raw({0xd4, 1, 0}).bytes(),
       malformed, "fixext1"},
      {"ciphertext_bin32_claiming_4_gib",
       data_head().bin(16).bin(32).nil().nil().raw({0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}).bytes(),
       malformed, "claims more than the 3 bytes"},
      {"ciphertext_bin8_claiming_more_than_is_left",
       data_head().bin(16).bin(32).nil().nil().raw({0xc4, 10, 1, 2, 3, 4, 5}).bytes(), malformed,
       "claims more"},
      {"ciphertext_missing", data_head().bin(16).bin(32).nil().nil().bytes(), malformed,
       "input ends"},

      // Trailing bytes.
      {"control_with_one_trailing_byte", with_trailing(test::control_frame(block), 1), malformed,
       "1 trailing bytes"},
      {"control_with_a_trailing_frame",
       [&] {
         std::vector<byte> two = test::control_frame(block);
         const std::vector<byte> again = test::control_frame(block);
         two.insert(two.end(), again.begin(), again.end());
         return two;
       }(),
       malformed, "trailing"},
      {"data_with_trailing_bytes",
       with_trailing(test::data_frame(test::make_offer(1, 2), &block, 48), 7), malformed,
       "7 trailing bytes"},

      // Nesting bombs: depth comes from the schema, never from the input.
      {"nesting_bomb_fixarray_as_version", nesting_bomb(mp{}.array(3).bytes(), 1 << 20, 0x91),
       malformed, "offset 1"},
      {"nesting_bomb_as_control_block",
       nesting_bomb(mp{}.array(3).uint(1).uint(1).bytes(), 1 << 20, 0x91), malformed,
       "5 or 6 elements"},
      {"nesting_bomb_array32_as_block",
       [] {
         std::vector<byte> v = mp{}.array(3).uint(1).uint(1).bytes();
         for (int i = 0; i < 100000; ++i) v.insert(v.end(), {0xdd, 0xff, 0xff, 0xff, 0xff});
         return v;
       }(),
       malformed, "5 or 6 elements"},
      {"nesting_bomb_inside_offers",
       nesting_bomb(mp{}.array(3).uint(1).uint(1).block_head().array(1).bytes(), 1 << 16, 0x93),
       malformed, "control.offers[0].id"},
      {"nesting_bomb_of_maps_as_ciphertext",
       nesting_bomb(data_head().bin(16).bin(32).nil().nil().bytes(), 1 << 16, 0x81), malformed,
       "fixmap"},
  };
}

TEST(wire, every_malformed_frame_in_the_table_is_refused_with_its_error_code) {
  for (const bad_frame& c : bad_frames()) {
    SCOPED_TRACE(c.name);
    auto decoded = decode(c.input, c.limits);
    ASSERT_FALSE(decoded.ok());
    const status error = decoded.error();
    EXPECT_EQ(error.code(), c.expected) << error.to_string();
    EXPECT_FALSE(error.message().empty());
    if (c.expected == errc::malformed_frame || c.expected == errc::limit_exceeded) {
      EXPECT_EQ(error.message().rfind("offset ", 0), 0u) << error.message();
    }
    if (!c.message_part.empty()) {
      EXPECT_NE(error.message().find(c.message_part), std::string::npos) << error.message();
    }
  }
}

// Every proper prefix of a valid frame is refused as malformed, never read past.
TEST(wire, every_truncation_of_valid_frames_of_each_kind_is_malformed) {
  const control_block block = test::full_block();
  control_block request;
  request.instance = test::make_guid(1);
  request.wanted = 4;
  const std::vector<std::vector<byte>> frames = {
      test::control_frame(request),
      test::control_frame(block),
      test::data_frame(std::nullopt, nullptr, 83),
      test::data_frame(test::make_offer(5, 60000), nullptr, 300),
      test::data_frame(std::nullopt, &block, 16),
      test::data_frame(test::make_offer(5, 60000), &block, 70000),
  };
  for (const auto& frame : frames) {
    ASSERT_TRUE(decode(frame, decode_limits{}).ok());
    for (std::size_t n = 0; n < frame.size(); ++n) {
      // Inside a long ciphertext every prefix takes the same path: sample it.
      if (n > 400 && n + 16 < frame.size() && n % 4093 != 0) continue;
      // A copy of exactly n bytes, so that ASan catches any read past the end.
      const std::vector<byte> prefix(frame.begin(), frame.begin() + static_cast<long>(n));
      auto decoded = decode(prefix, decode_limits{});
      ASSERT_FALSE(decoded.ok()) << "prefix of " << n << " bytes of " << frame.size();
      ASSERT_EQ(decoded.error().code(), errc::malformed_frame)
          << n << ": " << decoded.error().to_string();
    }
  }
}

// Walks a msgpack object tree; `path` lists child indexes from the root.
void collect_paths(const msgpack::object& o, std::vector<std::size_t>& path,
                   std::vector<std::vector<std::size_t>>& out) {
  out.push_back(path);
  if (o.type != msgpack::type::ARRAY) return;
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    path.push_back(i);
    collect_paths(o.via.array.ptr[i], path, out);
    path.pop_back();
  }
}

msgpack::object& at_path(msgpack::object& root, const std::vector<std::size_t>& path) {
  msgpack::object* o = &root;
  for (std::size_t i : path) o = &o->via.array.ptr[i];
  return *o;
}

std::vector<byte> pack(const msgpack::object& o) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, o);
  const auto* p = reinterpret_cast<const byte*>(buf.data());
  return {p, p + buf.size()};
}

// Replaces each element of valid frames, one at a time, by a value of a wrong type.
TEST(wire, a_wrong_type_in_any_field_is_malformed) {
  const control_block block = test::full_block();
  const std::vector<std::vector<byte>> frames = {
      test::control_frame(block),
      test::data_frame(test::make_offer(5, 60000), &block, 20),
  };
  msgpack::zone zone;
  const std::vector<std::pair<std::string, msgpack::object>> substitutes = {
      {"nil", msgpack::object()},
      {"true", msgpack::object(true)},
      {"-1", msgpack::object(-1)},
      {"1.5", msgpack::object(1.5)},
      {"str", msgpack::object(std::string("x"), zone)},
      {"bin3",
       [&] {
         msgpack::object o;
         o.type = msgpack::type::BIN;
         o.via.bin.size = 3;
         o.via.bin.ptr = "abc";
         return o;
       }()},
      {"empty_array", msgpack::object(std::vector<int>{}, zone)},
      {"empty_map", msgpack::object(std::map<int, int>{}, zone)},
  };
  std::size_t checked = 0;
  for (const auto& frame : frames) {
    msgpack::object_handle oh =
        msgpack::unpack(reinterpret_cast<const char*>(frame.data()), frame.size());
    msgpack::object root = oh.get();
    std::vector<std::vector<std::size_t>> paths;
    std::vector<std::size_t> path;
    collect_paths(root, path, paths);
    const bool is_data = root.via.array.size == 7;
    for (const auto& p : paths) {
      msgpack::object& slot = at_path(root, p);
      const msgpack::object original = slot;
      for (const auto& [name, value] : substitutes) {
        // What the schema does allow in some places: nil for the optional reply key and control
        // block, any bin as ciphertext, empty lists of offers, acks and rejections.
        const bool optional_slot = is_data && p.size() == 1 && (p[0] == 4 || p[0] == 5);
        const bool ciphertext_slot = is_data && p.size() == 1 && p[0] == 6;
        const std::size_t block_index = is_data ? 5 : 2;
        const bool list_slot = p.size() == 2 && p[0] == block_index && p[1] >= 2 && p[1] <= 4;
        const bool allowed = (name == "nil" && optional_slot) ||
                             (name == "bin3" && ciphertext_slot) ||
                             (name == "empty_array" && list_slot);
        slot = value;
        const std::vector<byte> mutated = pack(root);
        slot = original;
        auto decoded = decode(mutated, decode_limits{});
        std::string where;
        for (std::size_t i : p) where += "/" + std::to_string(i);
        SCOPED_TRACE((is_data ? "data" : "control") + where + " = " + name);
        if (allowed) {
          EXPECT_TRUE(decoded.ok()) << decoded.error().to_string();
        } else {
          ASSERT_FALSE(decoded.ok());
          EXPECT_EQ(decoded.error().code(), errc::malformed_frame) << decoded.error().to_string();
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500u);
}

TEST(wire, a_nesting_bomb_is_refused_without_deep_work) {
  std::vector<byte> bomb = mp{}.array(3).uint(1).uint(1).bytes();
  bomb.insert(bomb.end(), 8u << 20, 0x91);  // 8 MiB of one-element arrays
  const auto start = std::chrono::steady_clock::now();
  auto decoded = decode(bomb, decode_limits{});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code(), errc::malformed_frame);
  // The refusal happens at the first container, whatever follows.
  EXPECT_LT(elapsed, std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace cryptcom::wire
