#include "attacker/v2_crypto.hpp"

#include <sodium.h>

#include <stdexcept>

namespace cryptcom::hostile::v2 {
namespace {

// RFC 9180's identifiers for the one suite §12 uses.
constexpr std::uint16_t kem_id = 0x0020;
constexpr std::uint16_t kdf_id = 0x0001;
constexpr std::uint16_t aead_id = 0x0003;

bytes i2osp(std::uint64_t value, std::size_t width) {
  bytes out(width);
  for (std::size_t i = 0; i < width; ++i) out[width - 1 - i] = static_cast<byte>(value >> (8 * i));
  return out;
}

bytes kem_suite() {
  bytes s = as_bytes("KEM");
  const bytes id = i2osp(kem_id, 2);
  s.insert(s.end(), id.begin(), id.end());
  return s;
}

bytes hpke_suite() {
  return cat({as_bytes("HPKE"), i2osp(kem_id, 2), i2osp(kdf_id, 2), i2osp(aead_id, 2)});
}

// RFC 9180 §4: LabeledExtract and LabeledExpand.
key32 labeled_extract(byte_view salt, byte_view suite, std::string_view label, byte_view ikm) {
  const bytes labeled = cat({as_bytes("HPKE-v1"), suite, as_bytes(label), ikm});
  return hkdf_extract(salt, labeled);
}

bytes labeled_expand(byte_view prk, byte_view suite, std::string_view label, byte_view info,
                     std::size_t length) {
  const bytes labeled_info =
      cat({i2osp(length, 2), as_bytes("HPKE-v1"), suite, as_bytes(label), info});
  return hkdf_expand(prk, labeled_info, length);
}

// DHKEM's ExtractAndExpand (§4.1).
key32 kem_shared_secret(const key32& dh, byte_view kem_context) {
  const bytes suite = kem_suite();
  key32 prk = labeled_extract({}, suite, "eae_prk", dh);
  const bytes ss = labeled_expand(prk, suite, "shared_secret", kem_context, 32);
  sodium_memzero(prk.data(), prk.size());
  key32 out;
  std::copy(ss.begin(), ss.end(), out.begin());
  return out;
}

// KeySchedule for mode_base (§5.1): the AEAD key and base nonce.
struct aead_context {
  bytes key;
  bytes nonce;
};

aead_context key_schedule(const key32& shared_secret, byte_view info) {
  const bytes suite = hpke_suite();
  const key32 psk_id_hash = labeled_extract({}, suite, "psk_id_hash", {});
  const key32 info_hash = labeled_extract({}, suite, "info_hash", info);
  const bytes context = cat({i2osp(0, 1), psk_id_hash, info_hash});
  key32 secret = labeled_extract(shared_secret, suite, "secret", {});
  aead_context out{labeled_expand(secret, suite, "key", context, 32),
                   labeled_expand(secret, suite, "base_nonce", context, 12)};
  sodium_memzero(secret.data(), secret.size());
  return out;
}

void wipe(aead_context& c) {
  sodium_memzero(c.key.data(), c.key.size());
  sodium_memzero(c.nonce.data(), c.nonce.size());
}

}  // namespace

bytes as_bytes(std::string_view text) { return bytes(text.begin(), text.end()); }

bytes cat(std::initializer_list<byte_view> pieces) {
  bytes out;
  for (byte_view p : pieces) out.insert(out.end(), p.begin(), p.end());
  return out;
}

key32 hmac_sha256(byte_view key, byte_view data) {
  crypto_auth_hmacsha256_state state;
  // libsodium declares the key non-null even when it is empty (an absent HKDF salt).
  static constexpr byte no_key = 0;
  crypto_auth_hmacsha256_init(&state, key.empty() ? &no_key : key.data(), key.size());
  if (!data.empty()) crypto_auth_hmacsha256_update(&state, data.data(), data.size());
  key32 out;
  crypto_auth_hmacsha256_final(&state, out.data());
  sodium_memzero(&state, sizeof state);
  return out;
}

key32 hkdf_extract(byte_view salt, byte_view ikm) {
  // An absent salt is HashLen zero bytes (RFC 5869 §2.2); HMAC pads a shorter key with zeros,
  // so an empty key gives the same result.
  return hmac_sha256(salt, ikm);
}

bytes hkdf_expand(byte_view prk, byte_view info, std::size_t length) {
  if (length > 255 * 32) throw std::invalid_argument("hkdf_expand: too long");
  bytes out;
  bytes t;
  for (byte counter = 1; out.size() < length; ++counter) {
    const bytes block = cat({t, info, byte_view(&counter, 1)});
    const key32 next = hmac_sha256(prk, block);
    t.assign(next.begin(), next.end());
    out.insert(out.end(), t.begin(), t.end());
  }
  out.resize(length);
  sodium_memzero(t.data(), t.size());
  return out;
}

std::optional<key32> x25519(const key32& secret, const key32& their_public) {
  key32 out;
  if (crypto_scalarmult(out.data(), secret.data(), their_public.data()) != 0) return std::nullopt;
  return out;
}

key32 x25519_base(const key32& secret) {
  key32 out;
  crypto_scalarmult_base(out.data(), secret.data());
  return out;
}

std::pair<key32, key32> random_key_pair() {
  key32 secret;
  randombytes_buf(secret.data(), secret.size());
  return {secret, x25519_base(secret)};
}

std::optional<key32> session_prk(const key32& our_secret, const key32& their_public) {
  auto ss = x25519(our_secret, their_public);
  if (!ss) return std::nullopt;
  const key32 prk = hkdf_extract(as_bytes("cryptcom/2 session"), *ss);
  sodium_memzero(ss->data(), ss->size());
  return prk;
}

key32 initiate_key(const key32& prk, const key32& s_i, const key32& s_r, const id16& i_i,
                   const id16& n_i) {
  const bytes info = cat({as_bytes("cryptcom/2 initiate"), s_i, s_r, i_i, n_i});
  const bytes k = hkdf_expand(prk, info, 32);
  key32 out;
  std::copy(k.begin(), k.end(), out.begin());
  return out;
}

session_keys derive_session(const key32& prk, const key32& s_i, const key32& s_r, const id16& i_i,
                            const id16& i_r, const id16& n_i, const id16& n_r) {
  const bytes th = cat({s_i, s_r, i_i, i_r, n_i, n_r});
  const bytes ir = hkdf_expand(prk, cat({as_bytes("cryptcom/2 initiator"), th}), 32);
  const bytes ri = hkdf_expand(prk, cat({as_bytes("cryptcom/2 responder"), th}), 32);
  session_keys out;
  std::copy(ir.begin(), ir.end(), out.k_ir.begin());
  std::copy(ri.begin(), ri.end(), out.k_ri.begin());
  return out;
}

bool mac_equal(byte_view a, byte_view b) {
  return a.size() == 32 && b.size() == 32 && sodium_memcmp(a.data(), b.data(), 32) == 0;
}

std::optional<sealed_box> hpke_seal(const key32& pk_r, byte_view info, byte_view aad,
                                    byte_view plaintext, const std::pair<key32, key32>& ephemeral) {
  auto dh = x25519(ephemeral.first, pk_r);
  if (!dh) return std::nullopt;
  const bytes kem_context = cat({ephemeral.second, pk_r});
  key32 shared = kem_shared_secret(*dh, kem_context);
  sodium_memzero(dh->data(), dh->size());
  aead_context ctx = key_schedule(shared, info);
  sodium_memzero(shared.data(), shared.size());
  sealed_box out;
  out.enc = ephemeral.second;
  out.ciphertext.resize(plaintext.size() + crypto_aead_chacha20poly1305_ietf_ABYTES);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.ciphertext.data(), &written, plaintext.data(),
                                            plaintext.size(), aad.data(), aad.size(), nullptr,
                                            ctx.nonce.data(), ctx.key.data());
  wipe(ctx);
  return out;
}

std::optional<sealed_box> hpke_seal(const key32& pk_r, byte_view info, byte_view aad,
                                    byte_view plaintext) {
  auto eph = random_key_pair();
  auto out = hpke_seal(pk_r, info, aad, plaintext, eph);
  sodium_memzero(eph.first.data(), eph.first.size());
  return out;
}

std::optional<bytes> hpke_open(const key32& sk_r, const key32& enc, byte_view info, byte_view aad,
                               byte_view ciphertext) {
  if (ciphertext.size() < crypto_aead_chacha20poly1305_ietf_ABYTES) return std::nullopt;
  auto dh = x25519(sk_r, enc);
  if (!dh) return std::nullopt;
  const bytes kem_context = cat({enc, x25519_base(sk_r)});
  key32 shared = kem_shared_secret(*dh, kem_context);
  sodium_memzero(dh->data(), dh->size());
  aead_context ctx = key_schedule(shared, info);
  sodium_memzero(shared.data(), shared.size());
  bytes plaintext(ciphertext.size() - crypto_aead_chacha20poly1305_ietf_ABYTES);
  unsigned long long written = 0;
  const int rc = crypto_aead_chacha20poly1305_ietf_decrypt(
      plaintext.data(), &written, nullptr, ciphertext.data(), ciphertext.size(), aad.data(),
      aad.size(), ctx.nonce.data(), ctx.key.data());
  wipe(ctx);
  if (rc != 0) return std::nullopt;
  return plaintext;
}

std::pair<key32, key32> derive_key_pair(byte_view ikm) {
  const bytes suite = kem_suite();
  key32 prk = labeled_extract({}, suite, "dkp_prk", ikm);
  const bytes sk = labeled_expand(prk, suite, "sk", {}, 32);
  sodium_memzero(prk.data(), prk.size());
  key32 secret;
  std::copy(sk.begin(), sk.end(), secret.begin());
  return {secret, x25519_base(secret)};
}

byte_view identity_info() {
  static constexpr std::string_view info = "cryptcom/2 identity";
  return {reinterpret_cast<const byte*>(info.data()), info.size()};
}

byte_view message_info() {
  static constexpr std::string_view info = "cryptcom/2 one-time key";
  return {reinterpret_cast<const byte*>(info.data()), info.size()};
}

}  // namespace cryptcom::hostile::v2
