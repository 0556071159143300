// The seed corpus of the wire fuzzer (tests/fuzz/corpus/wire_decode/): small valid frames of every
// kind and near-valid ones one defect away. This test checks that each seed decodes as declared;
// with CRYPTCOM_WRITE_FUZZ_CORPUS=<dir> in the environment it also writes them there, which is
// how the committed corpus was made:
//   CRYPTCOM_WRITE_FUZZ_CORPUS=tests/fuzz/corpus/wire_decode build/tests/cryptcom_wire_tests
//   --gtest_filter='*seed_corpus*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/wire/wire_test_util.hpp"
#include "wire/frame.hpp"

namespace cryptcom::wire {
namespace {

using test::mp;

struct seed {
  std::string name;
  std::vector<byte> bytes;
  errc frame_outcome;    // what decode() gives (ok: decodes)
  bool payload = false;  // decode_payload() accepts it
};

std::vector<seed> seeds() {
  control_block request;
  request.instance = test::make_guid(1);
  request.wanted = 4;
  control_block offer;
  offer.instance = test::make_guid(2);
  offer.offers = {test::make_offer(3, 30000), test::make_offer(4, 500)};
  control_block receipts;
  receipts.instance = test::make_guid(5);
  receipts.acks = {test::make_guid(6)};
  receipts.rejections = {{test::make_guid(7), errc::expired_key}};
  const control_block full = test::full_block();

  std::vector<byte> truncated = test::data_frame(std::nullopt, nullptr, 24);
  truncated.resize(truncated.size() - 10);
  std::vector<byte> trailing = test::control_frame(request);
  trailing.push_back(0);

  const std::vector<byte> part1 = {'h', 'i'};
  const std::vector<byte> part2(40, 0x77);
  const byte_view parts[] = {part1, byte_view{}, part2};
  std::vector<byte> payload(payload_size(parts));
  encode_payload(parts, payload);

  // Version 2 (authenticated mode): MACs and sealed identities are filler here, the decoder
  // checks only their form.
  std::vector<byte> v2_control;
  encode_control_v2(7, offer, v2_control);
  std::vector<byte> v2_data;
  encode_data_v2(8, test::make_guid(9), test::make_offer(10, 1).key, test::make_offer(11, 900),
                 &receipts, 24, v2_data);
  std::vector<byte> hello_request;
  encode_hello_request(test::make_guid(12), hello_request);
  std::vector<byte> initiate;
  encode_initiate(test::make_guid(13), test::make_guid(14), test::make_offer(15, 1).key, initiate);
  std::vector<byte> accept;
  encode_accept(test::make_guid(16), test::make_guid(17), test::make_guid(14), accept);
  std::vector<byte> refuse;
  encode_refuse(test::make_guid(16), test::make_guid(18), test::make_guid(14), 17, refuse);

  return {
      {"control_key_request", test::control_frame(request), errc::ok},
      {"control_offer", test::control_frame(offer), errc::ok},
      {"control_acks_rejections", test::control_frame(receipts), errc::ok},
      {"control_everything", test::control_frame(full), errc::ok},
      {"data_plain", test::data_frame(std::nullopt, nullptr, 24), errc::ok},
      {"data_reply_key", test::data_frame(test::make_offer(8, 1000), nullptr, 40), errc::ok},
      {"data_reply_key_and_control", test::data_frame(test::make_offer(8, 1000), &offer, 17),
       errc::ok},
      {"payload_three_parts", payload, errc::malformed_frame, true},
      {"near_version_2", mp{}.array(3).uint(2).uint(1).empty_block().bytes(),
       errc::malformed_frame},
      {"near_version_3", mp{}.array(3).uint(3).uint(1).empty_block().bytes(),
       errc::unsupported_version},
      {"v2_control", v2_control, errc::ok},
      {"v2_data", v2_data, errc::ok},
      {"v2_hello_request", hello_request, errc::ok},
      {"v2_initiate", initiate, errc::ok},
      {"v2_accept", accept, errc::ok},
      {"v2_refuse", refuse, errc::ok},
      {"near_v2_step_4", mp{}.array(4).uint(2).uint(3).uint(4).bin(16).bytes(),
       errc::malformed_frame},
      {"near_v2_seq_0", mp{}.array(5).uint(2).uint(1).uint(0).empty_block().bin(32).bytes(),
       errc::malformed_frame},
      {"near_kind_3", mp{}.array(3).uint(1).uint(3).empty_block().bytes(), errc::unknown_kind},
      {"near_guid_of_15_bytes",
       mp{}.array(3).uint(1).uint(1).array(5).bin(15).uint(0).array(0).array(0).array(0).bytes(),
       errc::malformed_frame},
      {"near_truncated_data", truncated, errc::malformed_frame},
      {"near_trailing_byte", trailing, errc::malformed_frame},
      {"near_offers_beyond_input",
       mp{}.array(3).uint(1).uint(1).block_head().raw({0xdc, 0x03, 0xe8}).offer().bytes(),
       errc::malformed_frame},
      {"near_reason_17",
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
       errc::malformed_frame},
      {"near_empty_payload", mp{}.array(0).bytes(), errc::malformed_frame},
  };
}

TEST(wire, seed_corpus_frames_decode_as_declared_and_can_be_written_out) {
  const char* out_dir = std::getenv("CRYPTCOM_WRITE_FUZZ_CORPUS");
  for (const seed& s : seeds()) {
    SCOPED_TRACE(s.name);
    auto decoded = decode(s.bytes, decode_limits{});
    EXPECT_EQ(decoded.ok() ? errc::ok : decoded.error().code(), s.frame_outcome)
        << decoded.error().to_string();
    std::vector<byte_view> parts;
    EXPECT_EQ(decode_payload(s.bytes, decode_limits{}, parts).ok(), s.payload);
    if (out_dir != nullptr) {
      std::filesystem::create_directories(out_dir);
      std::ofstream file(std::filesystem::path(out_dir) / s.name, std::ios::binary);
      file.write(reinterpret_cast<const char*>(s.bytes.data()),
                 static_cast<std::streamsize>(s.bytes.size()));
      ASSERT_TRUE(file.good());
    }
  }
}

}  // namespace
}  // namespace cryptcom::wire
