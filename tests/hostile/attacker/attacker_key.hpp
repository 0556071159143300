// attacker_key: a one-time X25519 key pair of the attacker's own, offered to a cryptcom peer (as a
// reply key on a request, or in an offer) so that the peer seals data to it, which the attacker
// then opens. This is how a hostile peer makes a cryptcom endpoint send it real ciphertext: the
// protocol gives any peer that much.
// The private key is the attacker's, not a secret of the system under test, so it lives in
// ordinary memory; it is wiped on destruction all the same. Move-only. Thread-safety: none.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"
#include "crypto/hpke.hpp"
#include "wire/frame.hpp"

namespace cryptcom::hostile {

class attacker_key {
 public:
  attacker_key();  // a fresh random pair under a random GUID
  ~attacker_key();
  attacker_key(const attacker_key&) = delete;
  attacker_key& operator=(const attacker_key&) = delete;
  attacker_key(attacker_key&& other) noexcept;
  attacker_key& operator=(attacker_key&& other) noexcept;

  const guid& id() const noexcept { return offer_.id; }
  // The key as it goes on the wire, with a time to live of `ttl_ms`.
  wire::offered_key offer(std::uint32_t ttl_ms = 60'000) const;

  // Opens a data frame sealed to this key and returns the message's parts.
  // Errors: authentication_failed (not sealed to this key, or tampered), malformed_frame.
  result<std::vector<std::string>> open(
      const wire::data_view& frame, hpke::aead_id aead = hpke::aead_id::chacha20_poly1305) const;

 private:
  wire::offered_key offer_;
  std::array<byte, secret_key_size> secret_{};
};

}  // namespace cryptcom::hostile
