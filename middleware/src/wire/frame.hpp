// The wire envelope: what one ZeroMQ frame of cryptcom carries, and its strict msgpack codec.
//
// Two frame kinds travel (docs/PROTOCOL.md is the normative description):
//   control = [version, 1, control_block]
//   data    = [version, 2, key_id, enc, reply_key | nil, control_block | nil, ciphertext]
// control_block = [instance, wanted, [offered_key...], [ack_guid...], [rejection...] (, hello)]
// hello         = [max_version, features, aead, max_message_bytes, max_parts]
// offered_key   = [guid, public_key, ttl_ms]          rejection = [guid, reason]
// A control block is a key request (wanted > 0), a key offer (offers), acknowledgements (acks)
// and rejections, in any combination, so that they can all ride on one frame, or on a data frame.
// In a data frame every byte before the ciphertext element is the AEAD's associated data, so no
// header field (nor a piggybacked offer) can be altered without the open failing.
// The ciphertext is the HPKE seal of the payload = msgpack array of bin (the message parts).
//
// Decoding never allocates anything sized by the input before checking it against the limits,
// and returns views into the input buffer: a decoded frame lives as long as the buffer it came
// from. Thread-safety: free functions, reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::wire {

inline constexpr std::uint8_t protocol_version = 1;
// Authenticated mode (docs/PROTOCOL.md §12): control and data frames gain a sequence number and
// a MAC, and a third kind carries the handshake.
inline constexpr std::uint8_t authenticated_version = 2;
inline constexpr std::size_t mac_size = 32;              // HMAC-SHA256
inline constexpr std::size_t sealed_identity_size = 48;  // a public key sealed with HPKE

enum class frame_kind : std::uint8_t { control = 1, data = 2, handshake = 3 };

enum class handshake_step : std::uint8_t {
  hello_request = 0,
  initiate = 1,
  accept = 2,
  refuse = 3,
};

struct offered_key {
  guid id;
  public_key key;
  std::uint32_t ttl_ms = 0;  // time to live, counted from when the frame is sent
  friend bool operator==(const offered_key&, const offered_key&) = default;
};

struct rejection {
  guid id;      // the key the rejected data frame named
  errc reason;  // unknown_key, expired_key, replayed_key, authentication_failed, ...
  friend bool operator==(const rejection&, const rejection&) = default;
};

// What the sender of a control block is and accepts (docs/PROTOCOL.md §4): its protocol version
// and optional features, the AEAD that messages sealed to its keys must use, and the largest
// message it accepts. Rides in the block's optional sixth element.
struct hello {
  std::uint32_t max_version = protocol_version;  // highest frame version the sender speaks
  std::uint64_t features = 0;                    // optional behaviours (none defined in v1)
  std::uint16_t aead = 0x0003;                   // HPKE AEAD id: 3 ChaCha20-Poly1305, 2 AES-256-GCM
  std::uint64_t max_message_bytes = 0;           // all parts of one message together
  std::uint32_t max_parts = 0;                   // parts of one message
  friend bool operator==(const hello&, const hello&) = default;
};

struct control_block {
  guid instance;                      // the sender's endpoint instance (changes on restart)
  std::uint32_t wanted = 0;           // keys the sender asks for (0: none)
  std::vector<offered_key> offers;    // keys the receiver may use to send to the sender
  std::vector<guid> acks;             // the receiver's data frames the sender opened
  std::vector<rejection> rejections;  // the receiver's data frames the sender could not open
  std::optional<hello> about_sender;  // absent in blocks of older peers
  // Nothing asked, offered, acknowledged or rejected (a hello alone does not need a frame).
  bool empty() const noexcept {
    return wanted == 0 && offers.empty() && acks.empty() && rejections.empty();
  }
  friend bool operator==(const control_block&, const control_block&) = default;
};

// What authenticates a version 2 control or data frame: its sequence number and the MAC over
// `covered` (every byte before the mac element's bin header).
struct frame_auth {
  std::uint64_t seq = 0;
  byte_view covered;
  byte_view mac;  // mac_size bytes
};

// A decoded handshake frame (version 2, kind 3). Fields a step does not have stay zero.
struct handshake_view {
  handshake_step step = handshake_step::hello_request;
  guid instance;
  guid nonce;
  guid peer_nonce;
  public_key enc;                  // initiate
  byte_view sealed_identity;       // initiate: sealed_identity_size bytes
  byte_view identity_aad;          // initiate: every byte before sealed_identity's bin header
  std::uint8_t reason = 0;         // refuse
  std::optional<frame_auth> auth;  // all but hello_request (seq stays 0)
};

// A decoded data frame. Views point into the decoded buffer.
struct data_view {
  guid key_id;                           // the recipient's one-time key this was sealed to
  public_key enc;                        // HPKE encapsulated key
  std::optional<offered_key> reply_key;  // pull: the key the reply must be sealed to
  std::optional<control_block> control;
  byte_view associated_data;  // every byte before the ciphertext element
  byte_view ciphertext;       // HPKE ciphertext incl. tag
};

struct decode_limits {
  std::size_t max_frame_bytes = 64u * 1024 * 1024 + 64 * 1024;
  std::size_t max_offers = 1024;
  std::size_t max_acks = 4096;
  std::size_t max_rejections = 1024;
  std::size_t max_parts = 100000;
};

// What a decoded frame is: exactly one of the three is set.
struct decoded_frame {
  std::uint8_t version = protocol_version;
  frame_kind kind;
  control_block control;           // kind == control
  data_view data;                  // kind == data
  handshake_view handshake;        // kind == handshake (version 2 only)
  std::optional<frame_auth> auth;  // version 2 control and data frames
};

// Decodes a frame of version 1 or 2. Errors: malformed_frame (with the byte offset and what was
// expected), unsupported_version, unknown_kind, limit_exceeded (naming the limit),
// message_too_large.
result<decoded_frame> decode(byte_view frame, const decode_limits& limits);

// The key id of a data frame that decode() refused, when it can still be read: the frame starts
// as a data frame of this version ([1, 2, key_id, ...], any array header) and its key_id is a bin
// of 16 bytes. Lets a receiver answer a damaged data frame with a rejection naming the key,
// without trusting anything else in it.
std::optional<guid> readable_key_id(byte_view frame);

// Encoders append to `out` (which is cleared first). They never fail for valid input; input that
// no 32-bit msgpack length can express (a list or ciphertext of 2^32 or more) is caller misuse and
// aborts. They write what they are given: keeping lists within the peer's decode_limits and
// rejection reasons to known codes (1..16) is the caller's job, as the decoder refuses the rest.
void encode_control(const control_block& block, std::vector<byte>& out);

// Writes a data frame whose ciphertext has `ciphertext_size` bytes, leaving the ciphertext
// uninitialised, and returns {associated data, ciphertext} views into `out` so the caller can
// seal in place with no extra copy. The views are valid until `out` is next modified.
struct data_layout {
  byte_view associated_data;
  mutable_byte_view ciphertext;
};
data_layout encode_data(const guid& key_id, const public_key& enc,
                        const std::optional<offered_key>& reply_key, const control_block* control,
                        std::size_t ciphertext_size, std::vector<byte>& out);

// The same, with the ciphertext's first payload_size(payload) bytes holding the encoded payload
// (its last ciphertext_size - payload_size(payload) bytes, the AEAD's tag, uninitialised), for
// the caller to seal where it lies: the parts are copied once, into the frame, and never zeroed
// first. A ciphertext_size below payload_size(payload) is caller misuse and aborts.
data_layout encode_data(const guid& key_id, const public_key& enc,
                        const std::optional<offered_key>& reply_key, const control_block* control,
                        std::size_t ciphertext_size, std::span<const byte_view> payload,
                        std::vector<byte>& out);

// Version 2 (authenticated) encoders. Each writes the frame with its MAC left zero and returns
// what the MAC covers and where it goes, to be filled by the caller before the frame is sent (for
// a data frame: before sealing, since the MAC is part of the associated data).
struct mac_layout {
  byte_view covered;
  std::span<byte, mac_size> mac;
};
mac_layout encode_control_v2(std::uint64_t seq, const control_block& block, std::vector<byte>& out);
struct data_layout_v2 {
  mac_layout mac;
  byte_view associated_data;  // includes the MAC
  mutable_byte_view ciphertext;
};
data_layout_v2 encode_data_v2(std::uint64_t seq, const guid& key_id, const public_key& enc,
                              const std::optional<offered_key>& reply_key,
                              const control_block* control, std::size_t ciphertext_size,
                              std::vector<byte>& out);
// encode_data_v2 with the encoded payload written into the ciphertext, as encode_data above.
data_layout_v2 encode_data_v2(std::uint64_t seq, const guid& key_id, const public_key& enc,
                              const std::optional<offered_key>& reply_key,
                              const control_block* control, std::size_t ciphertext_size,
                              std::span<const byte_view> payload, std::vector<byte>& out);
void encode_hello_request(const guid& instance, std::vector<byte>& out);
struct initiate_layout {
  byte_view identity_aad;                                 // bytes before sealed_identity
  std::span<byte, sealed_identity_size> sealed_identity;  // to be filled first
  mac_layout mac;                                         // then this
};
initiate_layout encode_initiate(const guid& instance, const guid& nonce, const public_key& enc,
                                std::vector<byte>& out);
mac_layout encode_accept(const guid& instance, const guid& nonce, const guid& peer_nonce,
                         std::vector<byte>& out);
mac_layout encode_refuse(const guid& instance, const guid& nonce, const guid& peer_nonce,
                         std::uint8_t reason, std::vector<byte>& out);

// The payload inside the ciphertext: the message parts.
std::size_t payload_size(std::span<const byte_view> parts);
// Writes exactly payload_size(parts) bytes to the front of out; an `out` shorter than that is
// caller misuse and aborts. A message has at least one part: zero parts encode, but no decoder
// accepts them.
void encode_payload(std::span<const byte_view> parts, mutable_byte_view out);
// Appends exactly payload_size(parts) bytes, the same, to `out` (no pass over memory to size it
// first, as a resize would zero the bytes).
void append_payload(std::span<const byte_view> parts, std::vector<byte>& out);
// Parts as views into `payload`. Errors: malformed_frame (also for zero parts), limit_exceeded
// (max_parts). parts_out is cleared first and left empty on error.
status decode_payload(byte_view payload, const decode_limits& limits,
                      std::vector<byte_view>& parts_out);

}  // namespace cryptcom::wire
