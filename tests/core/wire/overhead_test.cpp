// What the envelope costs on the wire: frame bytes minus plaintext bytes, counting the payload
// encoding and the 16-byte AEAD tag (ChaCha20-Poly1305 and AES-256-GCM alike), measured from real
// encodes.
#include <gtest/gtest.h>

#include <cstdio>

#include "core/wire/wire_test_util.hpp"
#include "wire/frame.hpp"

namespace cryptcom::wire {
namespace {

constexpr std::size_t aead_tag_bytes = 16;

std::size_t frame_size_for(std::size_t plaintext_size, const std::optional<offered_key>& reply) {
  const std::vector<byte> part(plaintext_size, 0x5a);
  const byte_view parts[] = {part};
  const std::size_t ciphertext_size = payload_size(parts) + aead_tag_bytes;
  std::vector<byte> frame;
  const data_layout layout =
      encode_data(test::make_guid(1), test::make_key(2), reply, nullptr, ciphertext_size, frame);
  encode_payload(parts, layout.ciphertext.first(ciphertext_size - aead_tag_bytes));
  return frame.size();
}

TEST(wire, a_data_frame_adds_less_than_80_bytes_to_a_64_byte_message) {
  std::printf("%12s %12s %10s %22s\n", "plaintext", "frame", "overhead", "overhead (reply key)");
  for (std::size_t size :
       {std::size_t{64}, std::size_t{1024}, std::size_t{64} * 1024, std::size_t{1} << 20}) {
    const std::size_t plain = frame_size_for(size, std::nullopt);
    const std::size_t with_reply = frame_size_for(size, test::make_offer(3, 30000));
    std::printf("%12zu %12zu %10zu %22zu\n", size, plain, plain - size, with_reply - size);
    // Sanity: the overhead never depends on more than the header formats (2, 3 or 5 bytes).
    EXPECT_LT(plain - size, 90u);
  }
  EXPECT_LT(frame_size_for(64, std::nullopt) - 64, 80u);
}

}  // namespace
}  // namespace cryptcom::wire
