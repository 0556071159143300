// cryptcom::identity and Z85: RFC 32's example, the CurveZMQ key pairs of the zmq_curve man page
// (checked by X25519 itself, not only by their text), and czmq certificate files as czmq's
// zcert_save and `cryptcom keygen` write them.
#include "cryptcom/identity.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/z85.hpp"
#include "keys/identity_access.hpp"

namespace cryptcom {
namespace {

// The key pairs published in ZeroMQ's zmq_curve(7) man page (used by libzmq's own CURVE tests),
// with the bytes that page gives for them.
constexpr std::string_view client_public = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
constexpr std::string_view client_secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
constexpr std::string_view client_public_hex =
    "bb88471d65e2659b30c55a5321cebb5aab2b70a398645c26dca2b2fcb43fc518";
constexpr std::string_view client_secret_hex =
    "7bb864b489afa3671fbe69101f94b38972f24816dfb01b51656b3fec8dfd0888";
constexpr std::string_view server_public = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
constexpr std::string_view server_secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
constexpr std::string_view server_public_hex =
    "54fcba24e93249969316fb617c872bb0c1d1ff14800427c594cbfacf1bc2d652";
constexpr std::string_view server_secret_hex =
    "8e0bdd697628b91d8f245587ee95c5b04d48963f79259877b49cd9063aead3b7";

std::array<byte, 32> decode_key(std::string_view text) {
  std::array<byte, 32> out{};
  const status s = z85::decode(text, out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

public_key public_of(secret_key_view secret) {
  public_key pub;
  EXPECT_EQ(crypto_scalarmult_base(pub.bytes.data(), secret.data()), 0);
  return pub;
}

TEST(z85, encodes_and_decodes_the_example_of_rfc_32) {
  const std::array<byte, 8> bytes = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
  EXPECT_EQ(z85::encode(bytes), "HelloWorld");
  std::array<byte, 8> back{};
  ASSERT_TRUE(z85::decode("HelloWorld", back).ok());
  EXPECT_EQ(back, bytes);
}

TEST(z85, round_trips_32_bytes_and_every_byte_value) {
  std::array<byte, 32> key{};
  randombytes_buf(key.data(), key.size());
  const std::string text = z85::encode(key);
  EXPECT_EQ(text.size(), z85::key_chars);
  std::array<byte, 32> back{};
  ASSERT_TRUE(z85::decode(text, back).ok());
  EXPECT_EQ(back, key);

  std::vector<byte> all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<byte>(i);
  const std::string all_text = z85::encode(all);
  EXPECT_EQ(all_text.size(), 320u);
  std::vector<byte> all_back(256);
  ASSERT_TRUE(z85::decode(all_text, all_back).ok());
  EXPECT_EQ(all_back, all);
  // The extremes of a group: 0 and 2^32 - 1 ("%nSc0", RFC 32's largest group).
  const std::array<byte, 8> extremes = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(z85::encode(extremes), "00000%nSc0");
}

TEST(z85, decodes_the_curvezmq_keys_of_the_zmq_curve_man_page) {
  EXPECT_EQ(to_hex(decode_key(client_public)), client_public_hex);
  EXPECT_EQ(to_hex(decode_key(client_secret)), client_secret_hex);
  EXPECT_EQ(to_hex(decode_key(server_public)), server_public_hex);
  EXPECT_EQ(to_hex(decode_key(server_secret)), server_secret_hex);
  // And back: our encoder writes libzmq's text.
  EXPECT_EQ(z85::encode(decode_key(client_public)), client_public);
  EXPECT_EQ(z85::encode(decode_key(server_secret)), server_secret);
  // The pairs are real X25519 pairs: the public key is the secret's times the base point.
  const auto c = decode_key(client_secret);
  EXPECT_EQ(public_of(secret_key_view(c)).bytes, decode_key(client_public));
  const auto s = decode_key(server_secret);
  EXPECT_EQ(public_of(secret_key_view(s)).bytes, decode_key(server_public));
}

TEST(z85, refuses_bad_lengths_characters_and_groups_above_32_bits) {
  std::array<byte, 8> out{};
  out.fill(0xaa);
  status s = z85::decode("HelloWorl", out);
  EXPECT_EQ(s.code(), errc::invalid_argument);
  EXPECT_EQ(s.message(), "9 characters, expected 10");
  EXPECT_EQ(out, (std::array<byte, 8>{}));  // zeroed on error

  s = z85::decode("HelloWorldHello", out);  // a multiple of 5, but not 8 bytes
  EXPECT_EQ(s.message(), "15 characters, expected 10");

  out.fill(0xaa);
  s = z85::decode("Hello\"orld", out);
  EXPECT_EQ(s.code(), errc::invalid_argument);
  EXPECT_EQ(s.message(), "character 6 is not in the Z85 alphabet");
  EXPECT_EQ(out, (std::array<byte, 8>{}));
  EXPECT_EQ(z85::decode(std::string_view("Hello\0orld", 10), out).message(),
            "character 6 is not in the Z85 alphabet");
  EXPECT_EQ(z85::decode("Hello~orld", out).message(), "character 6 is not in the Z85 alphabet");
  EXPECT_EQ(z85::decode("Hello\xc3orld", out).message(), "character 6 is not in the Z85 alphabet");

  s = z85::decode("Hello%nSc1", out);  // 2^32: one above the largest group
  EXPECT_EQ(s.message(), "characters 6 to 10 encode more than 32 bits");
  EXPECT_EQ(z85::decode("#####Hello", out).message(), "characters 1 to 5 encode more than 32 bits");
  EXPECT_TRUE(z85::decode("Hello%nSc0", out).ok());
}

TEST(z85, public_key_functions_take_40_characters_of_z85_only) {
  const auto key = public_key_from_z85(client_public);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(to_hex(key->bytes), client_public_hex);
  EXPECT_EQ(to_z85(*key), client_public);
  EXPECT_FALSE(public_key_from_z85(client_public.substr(0, 39)).has_value());
  EXPECT_FALSE(public_key_from_z85(std::string(client_public) + "0").has_value());
  EXPECT_FALSE(public_key_from_z85("").has_value());
  EXPECT_FALSE(public_key_from_z85("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hI'").has_value());
  EXPECT_FALSE(public_key_from_z85("#####w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID").has_value());
}

TEST(identity, generate_makes_distinct_real_key_pairs) {
  auto a = identity::generate();
  auto b = identity::generate();
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_NE(a->public_value(), b->public_value());
  EXPECT_EQ(public_of(detail::identity_access::secret(*a)), a->public_value());
  EXPECT_EQ(public_of(detail::identity_access::secret(*b)), b->public_value());
  EXPECT_EQ(sodium_is_zero(detail::identity_access::secret(*a).data(), secret_key_size), 0);
}

TEST(identity, from_z85_takes_the_secret_with_or_without_its_public_key) {
  for (std::string_view pub : {client_public, std::string_view()}) {
    auto id = identity::from_z85(pub, client_secret);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    EXPECT_EQ(to_hex(id->public_value().bytes), client_public_hex);
    EXPECT_EQ(id->public_z85(), client_public);
    EXPECT_EQ(to_hex(detail::identity_access::secret(*id)), client_secret_hex);
  }
  auto server = identity::from_z85("", server_secret);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->public_z85(), server_public);
  // public_z85 round-trips through the public functions.
  EXPECT_EQ(public_key_from_z85(server->public_z85()), server->public_value());
}

TEST(identity, from_z85_refuses_a_mismatch_and_bad_text_without_echoing_the_secret) {
  auto mismatch = identity::from_z85(client_public, server_secret);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code(), errc::invalid_argument);
  EXPECT_EQ(mismatch.error().message(), "public key does not match the secret key");

  auto short_secret = identity::from_z85("", client_secret.substr(0, 39));
  ASSERT_FALSE(short_secret.ok());
  EXPECT_EQ(short_secret.error().message(), "secret key: 39 characters, expected 40");

  std::string bad(client_secret);
  bad[2] = ' ';
  auto bad_char = identity::from_z85("", bad);
  ASSERT_FALSE(bad_char.ok());
  EXPECT_EQ(bad_char.error().message(), "secret key: character 3 is not in the Z85 alphabet");
  EXPECT_EQ(bad_char.error().message().find(client_secret.substr(3, 8)), std::string::npos);

  auto bad_public = identity::from_z85(client_public.substr(1), client_secret);
  ASSERT_FALSE(bad_public.ok());
  EXPECT_EQ(bad_public.error().message(), "public key: 39 characters, expected 40");

  auto empty = identity::from_z85("", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message(), "secret key: 0 characters, expected 40");
}

TEST(identity, copies_share_one_locked_key) {
  auto id = identity::from_z85("", client_secret);
  ASSERT_TRUE(id.ok());
  const identity copy = *id;
  identity moved = std::move(*id);
  EXPECT_EQ(detail::identity_access::secret(copy).data(),
            detail::identity_access::secret(moved).data());
  EXPECT_EQ(copy.public_value(), moved.public_value());
  EXPECT_EQ(to_hex(detail::identity_access::secret(copy)), client_secret_hex);
}

TEST(identity, secret_key_memory_is_read_only) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto id = identity::generate();
  ASSERT_TRUE(id.ok());
  const byte* secret = detail::identity_access::secret(*id).data();
  EXPECT_DEATH(
      {
        const_cast<volatile byte*>(secret)[0] = 1;  // mprotect'ed read-only: SIGSEGV
      },
      "");
}

// Certificate files in a fresh directory under /tmp, removed afterwards.
class identity_file : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cryptcom_identity_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
};

// What czmq's zcert_save_secret writes (zconfig_save of the certificate after its comments).
std::string czmq_secret_certificate(std::string_view pub, std::string_view sec) {
  return "#   ****  Generated on 2024-05-01 10:00:00 by CZMQ  ****\n"
         "#   ZeroMQ CURVE **Secret** Certificate\n"
         "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
         "\n"
         "metadata\n"
         "    name = \"alice\"\n"
         "curve\n"
         "    public-key = \"" +
         std::string(pub) + "\"\n    secret-key = \"" + std::string(sec) + "\"\n";
}

TEST_F(identity_file, loads_a_secret_certificate_as_czmq_writes_it) {
  const std::string path =
      write("alice_secret", czmq_secret_certificate(client_public, client_secret));
  auto id = identity::load(path);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(id->public_z85(), client_public);
  EXPECT_EQ(to_hex(detail::identity_access::secret(*id)), client_secret_hex);
}

// load may be a program's first use of libsodium (sodium_malloc aborts before sodium_init). The
// threadsafe death-test style runs the statement in a freshly started copy of this binary, where
// nothing has initialised libsodium yet.
TEST_F(identity_file, load_works_as_the_first_libsodium_call_of_a_process) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path =
      write("first_secret", czmq_secret_certificate(client_public, client_secret));
  EXPECT_EXIT(
      {
        auto id = identity::load(path);
        std::exit(id.ok() && id->public_z85() == client_public ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The same bytes as tools/cryptcom/keygen.cpp writes into NAME_secret (its header, --meta
// entries, then the curve section with the key straight from zmq_curve_keypair).
TEST_F(identity_file, loads_the_secret_certificate_of_cryptcom_keygen) {
  auto fresh = identity::generate();
  ASSERT_TRUE(fresh.ok());
  // The secret's text, only for writing the test's file.
  const std::string secret_text = z85::encode(detail::identity_access::secret(*fresh));
  const std::string text =
      "#   ****  Generated on 2024-05-01 10:00:00 UTC by cryptcom keygen  ****\n"
      "#   ZeroMQ CURVE **Secret** Certificate\n"
      "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
      "\n"
      "metadata\n"
      "    name = \"bob\"\n"
      "    email = \"bob@example.org\"\n"
      "curve\n"
      "    public-key = \"" +
      fresh->public_z85() + "\"\n    secret-key = \"" + secret_text + "\"\n";
  auto id = identity::load(write("bob_secret", text));
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(id->public_value(), fresh->public_value());
  EXPECT_EQ(sodium_memcmp(detail::identity_access::secret(*id).data(),
                          detail::identity_access::secret(*fresh).data(), secret_key_size),
            0);
}

TEST_F(identity_file, reads_the_zpl_variants_czmq_accepts) {
  // Single quotes, a bare value, comments after values, CRLF line ends, no metadata, no
  // public-key (computed), a section's name with a comment, and a deeper unrelated section.
  const std::string text =
      "# comment\r\n"
      "context\r\n"
      "    curve\r\n"
      "        secret-key = \"" +
      std::string(server_secret) +
      "\"\r\n"
      "curve   # the keys\r\n"
      "    secret-key = '" +
      std::string(client_secret) +
      "'   # CurveZMQ\r\n"
      "    other = bare # not ours\r\n";
  auto id = identity::load(write("variants", text));
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(id->public_z85(), client_public);
}

TEST_F(identity_file, refuses_a_public_certificate_naming_the_path) {
  const std::string path = write("alice",
                                 "#   ZeroMQ CURVE Public Certificate\n"
                                 "metadata\n"
                                 "curve\n"
                                 "    public-key = \"" +
                                     std::string(client_public) + "\"\n");
  auto id = identity::load(path);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), errc::invalid_argument);
  EXPECT_EQ(id.error().message(),
            path +
                ": no secret-key in the curve section (a public certificate; the secret one is "
                "the NAME_secret file)");
}

TEST_F(identity_file, refuses_a_missing_or_unreadable_file_naming_the_path) {
  const std::string missing = dir_ + "/nobody_secret";
  auto id = identity::load(missing);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), errc::unavailable);
  EXPECT_EQ(id.error().message(), missing + ": " + std::strerror(ENOENT));

  auto directory = identity::load(dir_);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message(), dir_ + ": not a regular file");

  const std::string big = write("big", std::string(64 * 1024 + 1, '#'));
  auto too_big = identity::load(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().message(), big + ": larger than 65536 bytes, not a certificate");
}

TEST_F(identity_file, refuses_files_without_a_good_curve_section) {
  struct bad_case {
    std::string text;
    std::string message;  // after "PATH: "
  };
  const std::string sec(client_secret);
  const std::vector<bad_case> cases = {
      {"", "no curve section (not a czmq certificate)"},
      {"metadata\n    secret-key = \"" + sec + "\"\n", "no curve section (not a czmq certificate)"},
      {"curve\n    secret-key = \"" + sec.substr(1) + "\"\n",
       "secret-key: 39 characters, expected 40"},
      {"curve\n    secret-key = \"" + sec.substr(0, 39) + "~\"\n",
       "secret-key: character 40 is not in the Z85 alphabet"},
      {"curve\n    public-key = \"" + std::string(server_public) + "\"\n    secret-key = \"" + sec +
           "\"\n",
       "public-key does not match the secret-key"},
      {"curve\n    public-key = \"" + std::string(client_public).substr(2) +
           "\"\n    secret-key = \"" + sec + "\"\n",
       "public-key: 38 characters, expected 40"},
      {"curve\n    secret-key = \"" + sec + "\"\n    secret-key = \"" + sec + "\"\n",
       "line 3: a second secret-key"},
      {"curve\n   secret-key = \"" + sec + "\"\n",
       "line 2: indented by 3 spaces, not a multiple of 4"},
      {"curve\n\tsecret-key = \"" + sec + "\"\n", "line 2: indented with a tab (ZPL uses spaces)"},
      {"curve\n        secret-key = \"" + sec + "\"\n",
       "line 2: indented deeper than under a parent"},
      {"curve\n    secret-key = \"" + sec + "\n",
       "line 2: a quoted value without its closing quote"},
      {"curve\n    secret-key \"" + sec + "\"\n", "line 2: expected '=' after the name"},
      {"curve\n    secret-key = \"" + sec + "\" x\n", "line 2: unexpected text after the value"},
      {"curve\n    = \"" + sec + "\"\n", "line 2: expected a name"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = write("case" + std::to_string(i), cases[i].text);
    auto id = identity::load(path);
    ASSERT_FALSE(id.ok()) << "case " << i;
    EXPECT_EQ(id.error().code(), errc::invalid_argument) << "case " << i;
    EXPECT_EQ(id.error().message(), path + ": " + cases[i].message) << "case " << i;
    // No message quotes the secret key.
    EXPECT_EQ(id.error().message().find(sec.substr(5, 20)), std::string::npos) << "case " << i;
  }
}

}  // namespace
}  // namespace cryptcom
