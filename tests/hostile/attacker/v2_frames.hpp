// v2_frames: version 2 frames (docs/PROTOCOL.md §12.2) encoded and decoded by hand from the
// specification, with a msgpack writer and a strict reader of the subset §2 allows. The control
// block inside is version 1's (§4), rewritten here too: the attacker builds every byte of a
// version 2 frame without the core's codec, so a frame it builds honestly and the engine refuses
// (or the other way round) is a disagreement with the specification worth reporting.
//
// A decoded frame keeps the byte offsets that the MAC and the AEAD cover, so the attacker can
// verify or forge them, and re-encode a frame with one field changed.
// Thread-safety: free functions and plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attacker/v2_crypto.hpp"

namespace cryptcom::hostile::v2 {

// A msgpack writer of the subset of §2: arrays, unsigned integers (shortest form), bins (shortest
// header), nil.
class writer {
 public:
  writer& array(std::size_t n);
  writer& uint(std::uint64_t v);
  writer& bin(byte_view b);
  writer& nil();
  writer& raw(byte_view b);
  bytes& out() noexcept { return out_; }
  std::size_t size() const noexcept { return out_.size(); }

 private:
  bytes out_;
};

struct offered_key {
  id16 id{};
  key32 key{};
  std::uint32_t ttl_ms = 60'000;
};
struct rejection {
  id16 id{};
  std::uint32_t reason = 0;
};
struct hello {
  std::uint64_t max_version = 2;
  std::uint64_t features = 0;
  std::uint64_t aead = 3;
  std::uint64_t max_message_bytes = 64u * 1024 * 1024;
  std::uint64_t max_parts = 1000;
};
struct control_block {
  id16 instance{};
  std::uint32_t wanted = 0;
  std::vector<offered_key> offers;
  std::vector<id16> acks;
  std::vector<rejection> rejections;
  std::optional<hello> hi = hello{};  // nullopt: a block of 5
};
void write_block(writer& w, const control_block& b);
void write_offer(writer& w, const offered_key& k);

enum class step : std::uint8_t { hello_request = 0, initiate = 1, accept = 2, refuse = 3 };

// One decoded frame of any version-2 kind (and the version and kind of any other frame).
struct frame {
  std::uint64_t version = 0;
  std::uint64_t kind = 0;
  // Kind 3.
  step hs = step::hello_request;
  id16 instance{};
  id16 nonce{};
  id16 peer_nonce{};
  key32 enc{};  // initiate's enc, or a data frame's
  bytes sealed_identity;
  std::uint64_t reason = 0;
  std::size_t sealed_identity_header = 0;  // offset of sealed_identity's bin header
  // Kinds 1 and 2.
  std::uint64_t seq = 0;
  std::optional<control_block> control;  // kind 1: the block; kind 2: the one riding along
  id16 key_id{};
  std::optional<offered_key> reply_key;
  bytes ciphertext;
  std::size_t ciphertext_header = 0;  // kind 2: offset of the ciphertext's bin header (= aad end)
  // Every authenticated kind.
  key32 mac{};
  std::size_t mac_header = 0;  // offset of the mac's bin header: the MAC covers [0, mac_header)
};

// Decodes any frame strictly (§2, §12.2). nullopt with `error` set when it does not decode; a
// frame of version 1 decodes its version and kind only (error "version 1").
std::optional<frame> decode(byte_view bytes_in, std::string* error = nullptr);
// The version of a frame: the first element after the outer array header; nullopt if unreadable.
std::optional<std::uint64_t> version_of(byte_view frame_bytes);

// Builders. `mac_key` is the key the frame is MACed under; the attacker passes a key it derived
// (honest) or a random one (forgery).
bytes hello_request(const id16& instance);
// An initiate claiming the identity `s_i` to the responder `s_r`, its MAC under `mac_key`: k_init
// for the honest one, anything else for a forgery (whoever lacks s_I and s_R cannot compute
// k_init).
bytes initiate(const id16& instance, const id16& nonce, const key32& s_i, const key32& s_r,
               const key32& mac_key);
// The honest initiate of the initiator whose static pair is (s_i_secret, s_i), with k_init
// derived from its agreement with s_r; nullopt on an all-zero agreement.
std::optional<bytes> honest_initiate(const id16& instance, const id16& nonce,
                                     const key32& s_i_secret, const key32& s_i, const key32& s_r);
bytes accept(const id16& instance, const id16& nonce, const id16& peer_nonce, const key32& k_ri);
bytes refuse(const id16& instance, const id16& nonce, const id16& peer_nonce, std::uint64_t reason,
             const key32& k_ri);
bytes control(std::uint64_t seq, const control_block& block, const key32& mac_key);
// A data frame: `parts` sealed to `to` (info "cryptcom/2 one-time key"), MAC under `mac_key`.
bytes data(std::uint64_t seq, const offered_key& to, const std::vector<std::string>& parts,
           const std::optional<offered_key>& reply_key, const control_block* block,
           const key32& mac_key);

// Writes a decoded control or data frame back to bytes, its MAC and ciphertext as they were: what
// a man in the middle sends after changing a field (the MAC then no longer covers what it says).
bytes encode(const frame& f);

// Whether a decoded frame's MAC verifies under `key` (covered bytes: [0, mac_header)).
bool mac_verifies(byte_view frame_bytes, const frame& f, const key32& key);
// Re-MACs a frame in place under `key` (after a field was changed, or to forge with a wrong key).
void remac(bytes& frame_bytes, const frame& f, const key32& key);

// The payload (§6) of `parts`, and its decoding (nullopt: not a valid payload).
bytes payload(const std::vector<std::string>& parts);
std::optional<std::vector<std::string>> parse_payload(byte_view plaintext);

id16 random_id();

}  // namespace cryptcom::hostile::v2
