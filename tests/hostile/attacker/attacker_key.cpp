#include "attacker/attacker_key.hpp"

#include <sodium.h>

#include <stdexcept>
#include <utility>

#include "attacker/forge.hpp"

namespace cryptcom::hostile {

attacker_key::attacker_key() {
  std::array<byte, 32> ikm{};
  randombytes_buf(ikm.data(), ikm.size());
  const status s = hpke::derive_key_pair(ikm, secret_, offer_.key);
  sodium_memzero(ikm.data(), ikm.size());
  if (!s.ok()) throw std::runtime_error("attacker_key: " + s.to_string());
  offer_.id = random_guid();
}

attacker_key::~attacker_key() { sodium_memzero(secret_.data(), secret_.size()); }

attacker_key::attacker_key(attacker_key&& other) noexcept
    : offer_(other.offer_), secret_(other.secret_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
}

attacker_key& attacker_key::operator=(attacker_key&& other) noexcept {
  if (this != &other) {
    offer_ = other.offer_;
    secret_ = other.secret_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

wire::offered_key attacker_key::offer(std::uint32_t ttl_ms) const {
  wire::offered_key k = offer_;
  k.ttl_ms = ttl_ms;
  return k;
}

result<std::vector<std::string>> attacker_key::open(const wire::data_view& frame,
                                                    hpke::aead_id aead) const {
  if (frame.ciphertext.size() < hpke::tag_size) {
    return status(errc::malformed_frame, "ciphertext shorter than the tag");
  }
  std::vector<byte> plaintext(frame.ciphertext.size() - hpke::tag_size);
  const status s = hpke::open_base(aead, frame.enc, secret_, offer_.key, info_bytes(),
                                   frame.associated_data, frame.ciphertext, plaintext);
  if (!s.ok()) return s;
  std::vector<byte_view> parts;
  if (status p = wire::decode_payload(plaintext, wire::decode_limits{}, parts); !p.ok()) return p;
  std::vector<std::string> out;
  out.reserve(parts.size());
  for (byte_view part : parts) out.emplace_back(part.begin(), part.end());
  sodium_memzero(plaintext.data(), plaintext.size());
  return out;
}

}  // namespace cryptcom::hostile
