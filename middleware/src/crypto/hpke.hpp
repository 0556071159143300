// HPKE (RFC 9180) for one KEM: DHKEM(X25519, HKDF-SHA256), with KDF HKDF-SHA256 and the AEADs
// ChaCha20-Poly1305 (default) and AES-256-GCM (where libsodium reports hardware support), in base
// mode (0) and auth mode (2), plus the secret exporter. Every primitive is libsodium's; only the
// RFC 9180 key schedule (LabeledExtract/LabeledExpand over HMAC-SHA256) is written here.
//
// Errors: untrusted input that fails (bad tag, low-order point) is a returned status; caller
// misuse (wrong buffer sizes) is errc::invalid_argument. Outputs are never left holding
// unauthenticated plaintext: open() zeroes its output on every failure path.
// Thread-safety: free functions are reentrant; a context is used by one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::hpke {

inline constexpr std::uint16_t kem_x25519_sha256 = 0x0020;
inline constexpr std::uint16_t kdf_hkdf_sha256 = 0x0001;

enum class aead_id : std::uint16_t {
  aes_256_gcm = 0x0002,
  chacha20_poly1305 = 0x0003,
  export_only = 0xFFFF,
};

enum class mode : std::uint8_t { base = 0x00, auth = 0x02 };

inline constexpr std::size_t enc_size = 32;     // Nenc
inline constexpr std::size_t tag_size = 16;     // Nt, both AEADs
inline constexpr std::size_t nonce_size = 12;   // Nn
inline constexpr std::size_t key_size = 32;     // Nk, both AEADs
inline constexpr std::size_t secret_size = 32;  // Nh / Nsecret

// True when the AEAD can be used here (AES-256-GCM needs AES-NI + PCLMUL in libsodium 1.0.18).
bool aead_available(aead_id aead) noexcept;

// RFC 9180 §7.1.3 DeriveKeyPair(ikm): deterministic pair from input keying material.
status derive_key_pair(byte_view ikm, mutable_secret_key_view secret_out, public_key& public_out);

// X25519 with the all-zero (low-order) result rejected as errc::low_order_point.
status x25519(secret_key_view secret, const public_key& peer_public,
              std::span<byte, 32> shared_out);

// The per-message secrets of one HPKE context. Zeroed on destruction; move-only.
// A context lives on the stack for the duration of one seal or open, and is then wiped.
class context {
 public:
  context() = default;
  ~context();
  context(const context&) = delete;
  context& operator=(const context&) = delete;
  context(context&& other) noexcept;
  context& operator=(context&& other) noexcept;

  // Seal(aad, pt): writes pt.size() + tag_size bytes to ct_out; increments the sequence number.
  // plaintext and ciphertext_out may start at the same address (in-place); no other overlap.
  status seal(byte_view aad, byte_view plaintext, mutable_byte_view ciphertext_out);
  // Open(aad, ct): writes ct.size() - tag_size bytes to pt_out, or zeroes pt_out and fails.
  status open(byte_view aad, byte_view ciphertext, mutable_byte_view plaintext_out);
  // Export(exporter_context, L): L = out.size() bytes, at most 255 * 32.
  status export_secret(byte_view exporter_context, mutable_byte_view out) const;

  aead_id aead() const noexcept { return aead_; }
  // For the test vectors only: the key schedule's outputs.
  std::span<const byte> key() const noexcept { return {key_.data(), key_size}; }
  std::span<const byte> base_nonce() const noexcept { return base_nonce_; }
  std::span<const byte> exporter_secret() const noexcept { return exporter_secret_; }
  std::uint64_t sequence() const noexcept { return seq_; }

 private:
  friend struct key_schedule_access;
  void wipe() noexcept;  // zero every secret; the context becomes "not set up"
  aead_id aead_ = aead_id::chacha20_poly1305;
  std::array<byte, key_size> key_{};
  std::array<byte, nonce_size> base_nonce_{};
  std::array<byte, secret_size> exporter_secret_{};
  std::uint64_t seq_ = 0;
  // Set only by the key schedule: a default-constructed or moved-from context holds an all-zero
  // key and must refuse to seal, open or export (errc::invalid_argument).
  bool ready_ = false;
};

// The sender's ephemeral key pair, supplied by the caller so that it can come from a
// pre-generated pool (or, in the vector tests, from DeriveKeyPair(ikmE)). Used once.
struct ephemeral_key {
  secret_key_view secret;
  public_key public_value;
};

// SetupBaseS / SetupAuthS. `enc_out` receives the encapsulated key (= ephemeral public key).
// Also writes the shared secret to `shared_secret_out` when it is non-empty (vector tests only).
result<context> setup_base_sender(aead_id aead, const public_key& recipient, byte_view info,
                                  const ephemeral_key& ephemeral, public_key& enc_out,
                                  std::span<byte> shared_secret_out = {});
result<context> setup_auth_sender(aead_id aead, const public_key& recipient, byte_view info,
                                  const ephemeral_key& ephemeral, secret_key_view sender_secret,
                                  const public_key& sender_public, public_key& enc_out,
                                  std::span<byte> shared_secret_out = {});

// SetupBaseR / SetupAuthR. The recipient's public key is passed in (not recomputed from the
// private key, which would cost a scalar multiplication per message).
result<context> setup_base_recipient(aead_id aead, const public_key& enc,
                                     secret_key_view recipient_secret,
                                     const public_key& recipient_public, byte_view info,
                                     std::span<byte> shared_secret_out = {});
result<context> setup_auth_recipient(aead_id aead, const public_key& enc,
                                     secret_key_view recipient_secret,
                                     const public_key& recipient_public, byte_view info,
                                     const public_key& sender_public,
                                     std::span<byte> shared_secret_out = {});

// Single-shot base mode, what the engine uses per message: one context, sequence number 0.
status seal_base(aead_id aead, const public_key& recipient, byte_view info, byte_view aad,
                 byte_view plaintext, const ephemeral_key& ephemeral, public_key& enc_out,
                 mutable_byte_view ciphertext_out);
status open_base(aead_id aead, const public_key& enc, secret_key_view recipient_secret,
                 const public_key& recipient_public, byte_view info, byte_view aad,
                 byte_view ciphertext, mutable_byte_view plaintext_out);

// seal_base in two steps, for a sender that knows the recipient's key before it has the message:
// encap_base is the KEM (the X25519 agreement, nearly all of a seal's cost), writing the shared
// secret to `shared_secret_out` (the caller's locked memory) and the encapsulated key to
// `enc_out`; seal_base_encapsulated is the rest (key schedule and AEAD). Together they give what
// seal_base gives with the same ephemeral key. The shared secret seals one message: the caller
// wipes it once it is used or will not be.
status encap_base(const public_key& recipient, const ephemeral_key& ephemeral,
                  std::span<byte, secret_size> shared_secret_out, public_key& enc_out);
status seal_base_encapsulated(aead_id aead, std::span<const byte, secret_size> shared_secret,
                              byte_view info, byte_view aad, byte_view plaintext,
                              mutable_byte_view ciphertext_out);

}  // namespace cryptcom::hpke
