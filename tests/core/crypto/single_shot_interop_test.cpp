// The single-shot functions take shortcuts (per-thread cached psk_id_hash and info_hash, no
// exporter secret): whatever info strings and AEADs came before, what they seal opens with the
// full multi-shot setup, and what that seals opens with them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crypto/test_support.hpp"
#include "crypto/hpke.hpp"

namespace cryptcom {
namespace {

using test::test_key_pair;

std::vector<byte> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<hpke::aead_id> usable_aeads() {
  std::vector<hpke::aead_id> out{hpke::aead_id::chacha20_poly1305};
  if (hpke::aead_available(hpke::aead_id::aes_256_gcm)) out.push_back(hpke::aead_id::aes_256_gcm);
  return out;
}

TEST(crypto, single_shot_and_full_setup_interoperate_across_changing_infos_and_aeads) {
  // Repeats, alternations and an info too long to be cached, for each AEAD in turn and mixed.
  const std::vector<std::string> infos{
      "a", "a", "b", "a", "", "", std::string(300, 'x'), std::string(300, 'x'), "b"};
  const std::vector<byte> aad = bytes_of("header");
  const std::vector<byte> plaintext = bytes_of("one message, one key");
  for (int round = 0; round < 2; ++round) {
    for (const std::string& info_text : infos) {
      for (const hpke::aead_id aead : usable_aeads()) {
        SCOPED_TRACE("info '" + info_text.substr(0, 8) + "' aead " +
                     std::to_string(static_cast<int>(aead)));
        const std::vector<byte> info = bytes_of(info_text);
        const test_key_pair recipient, ephemeral;

        // single-shot seal, full-setup open
        public_key enc;
        std::vector<byte> ct(plaintext.size() + hpke::tag_size);
        ASSERT_TRUE(hpke::seal_base(aead, recipient.public_value, info, aad, plaintext,
                                    {ephemeral.secret, ephemeral.public_value}, enc, ct)
                        .ok());
        auto receiver =
            hpke::setup_base_recipient(aead, enc, recipient.secret, recipient.public_value, info);
        ASSERT_TRUE(receiver.ok());
        std::vector<byte> opened(plaintext.size());
        ASSERT_TRUE(receiver->open(aad, ct, opened).ok());
        EXPECT_EQ(opened, plaintext);

        // full-setup seal, single-shot open
        const test_key_pair ephemeral2;
        public_key enc2;
        auto sender = hpke::setup_base_sender(aead, recipient.public_value, info,
                                              {ephemeral2.secret, ephemeral2.public_value}, enc2);
        ASSERT_TRUE(sender.ok());
        std::vector<byte> ct2(plaintext.size() + hpke::tag_size);
        ASSERT_TRUE(sender->seal(aad, plaintext, ct2).ok());
        std::vector<byte> opened2(plaintext.size());
        ASSERT_TRUE(hpke::open_base(aead, enc2, recipient.secret, recipient.public_value, info, aad,
                                    ct2, opened2)
                        .ok());
        EXPECT_EQ(opened2, plaintext);

        // A context set up by the full path still exports (its exporter secret is derived).
        std::vector<byte> exported(32);
        ASSERT_TRUE(sender->export_secret(info, exported).ok());
        EXPECT_NE(exported, std::vector<byte>(32, 0));
      }
    }
  }
}

}  // namespace
}  // namespace cryptcom
