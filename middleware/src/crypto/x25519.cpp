// X25519 Diffie-Hellman (libsodium's crypto_scalarmult) for DHKEM, with the all-zero output
// rejected as RFC 9180 §7.1.4 requires.
#include <sodium.h>

#include "crypto/hpke.hpp"
#include "crypto/sodium_ready.hpp"

namespace cryptcom::hpke {

static_assert(crypto_scalarmult_BYTES == 32);
static_assert(crypto_scalarmult_SCALARBYTES == secret_key_size);

status x25519(secret_key_view secret, const public_key& peer_public,
              std::span<byte, 32> shared_out) {
  detail::ensure_sodium();
  // libsodium returns -1 when the result is all zero (a low-order peer point); the explicit check
  // keeps that guarantee independent of which implementation libsodium picked for this CPU.
  const int rc = crypto_scalarmult(shared_out.data(), secret.data(), peer_public.bytes.data());
  if (rc != 0 || sodium_is_zero(shared_out.data(), shared_out.size()) == 1) {
    sodium_memzero(shared_out.data(), shared_out.size());
    return {errc::low_order_point, "X25519 with a low-order public key gave the all-zero secret"};
  }
  return status::success();
}

}  // namespace cryptcom::hpke
