#include "attacker/forge.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace cryptcom::hostile {

byte_view info_bytes() {
  static constexpr std::string_view info = "cryptcom/1 one-time key";
  return {reinterpret_cast<const byte*>(info.data()), info.size()};
}

guid random_guid() {
  guid g;
  randombytes_buf(g.bytes.data(), g.bytes.size());
  return g;
}

bytes random_bytes(std::size_t n) {
  bytes b(n);
  if (n > 0) randombytes_buf(b.data(), n);
  return b;
}

bytes control_frame(const wire::control_block& block) {
  bytes out;
  wire::encode_control(block, out);
  return out;
}

bytes key_request(const guid& instance, std::uint32_t wanted) {
  wire::control_block block;
  block.instance = instance;
  block.wanted = wanted;
  return control_frame(block);
}

bytes rejections(const guid& instance, const guid& key, errc reason, std::size_t copies) {
  wire::control_block block;
  block.instance = instance;
  block.rejections.assign(copies, wire::rejection{key, reason});
  return control_frame(block);
}

bytes sealed(const wire::offered_key& to, std::span<const byte_view> parts,
             const seal_extras& extras) {
  std::array<byte, secret_key_size> eph_secret{};
  std::array<byte, 32> ikm{};
  randombytes_buf(ikm.data(), ikm.size());
  public_key eph_public;
  status s = hpke::derive_key_pair(ikm, eph_secret, eph_public);
  sodium_memzero(ikm.data(), ikm.size());
  if (!s.ok()) throw std::runtime_error("forge::sealed: " + s.to_string());

  bytes payload(wire::payload_size(parts));
  wire::encode_payload(parts, payload);
  bytes out;
  const wire::data_layout layout = wire::encode_data(
      to.id, eph_public, extras.reply_key, extras.control, payload.size() + hpke::tag_size, out);
  public_key enc;
  s = hpke::seal_base(extras.aead, to.key, info_bytes(), layout.associated_data, payload,
                      hpke::ephemeral_key{eph_secret, eph_public}, enc, layout.ciphertext);
  sodium_memzero(eph_secret.data(), eph_secret.size());
  sodium_memzero(payload.data(), payload.size());
  if (!s.ok()) throw std::runtime_error("forge::sealed: " + s.to_string());
  return out;
}

bytes random_enc(const guid& key, std::size_t ciphertext_size) {
  public_key enc;
  randombytes_buf(enc.bytes.data(), enc.bytes.size());
  bytes out;
  const std::size_t size = ciphertext_size < hpke::tag_size ? hpke::tag_size : ciphertext_size;
  const wire::data_layout layout = wire::encode_data(key, enc, std::nullopt, nullptr, size, out);
  randombytes_buf(layout.ciphertext.data(), layout.ciphertext.size());
  return out;
}

std::string forged_path_frame(std::uint64_t n) {
  char text[24];
  std::snprintf(text, sizeof text, "forged-%llu", static_cast<unsigned long long>(n));
  return text;
}

}  // namespace cryptcom::hostile
