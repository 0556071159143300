// forge: cryptcom wire frames made to order, as a hostile peer makes them. Everything is built with
// the project's own encoder (wire/frame.hpp) and HPKE (crypto/hpke.hpp), so what the target
// receives is exactly what a real peer could send; docs/PROTOCOL.md is the specification.
//
// Nothing here sends: these are byte strings for a raw_peer to put on the wire. The envelope
// (routing frames) is the raw_peer's business; a frame never contains one.
// Thread-safety: free functions, reentrant (randomness from libsodium).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"
#include "crypto/hpke.hpp"
#include "wire/frame.hpp"

namespace cryptcom::hostile {

using bytes = std::vector<byte>;

// The largest `wanted` the wire can say: "all the keys you have".
inline constexpr std::uint32_t all_keys = 0xFFFF'FFFF;
// The most rejections, offers or acknowledgements one control block may carry at the receiver's
// default decode limits (docs/PROTOCOL.md §7): a block of more is refused whole.
inline constexpr std::size_t max_rejections_per_block = 1024;

// HPKE's info string (docs/PROTOCOL.md §8).
byte_view info_bytes();

guid random_guid();
bytes random_bytes(std::size_t n);

// A control frame carrying `block`.
bytes control_frame(const wire::control_block& block);
// A control frame from `instance` asking for `wanted` keys (0: an empty block, which only
// announces the instance).
bytes key_request(const guid& instance, std::uint32_t wanted);
// A control frame from `instance` rejecting key `key` `copies` times over for `reason`: the same
// rejection repeated, as a block may carry it.
bytes rejections(const guid& instance, const guid& key, errc reason, std::size_t copies);

// What rides on a sealed data frame besides the payload.
struct seal_extras {
  std::optional<wire::offered_key> reply_key;  // pull: the answer is to be sealed to it
  const wire::control_block* control = nullptr;
  hpke::aead_id aead = hpke::aead_id::chacha20_poly1305;
};
// A data frame that opens: `parts` sealed to `to`, a key the receiver offered, with a fresh
// ephemeral key pair.
bytes sealed(const wire::offered_key& to, std::span<const byte_view> parts,
             const seal_extras& extras = {});
// A data frame to key `key` that opens for nobody: a random `enc` and a random ciphertext of
// `ciphertext_size` bytes (at least the 16-byte tag). Each one costs the receiver an X25519
// agreement if it holds `key`, and the sender only random bytes.
bytes random_enc(const guid& key, std::size_t ciphertext_size = 32);

// A routing frame no ZeroMQ socket would make: distinct for each `n`, never empty.
std::string forged_path_frame(std::uint64_t n);

}  // namespace cryptcom::hostile
