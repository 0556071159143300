// cryptcom::options: everything an endpoint can be told, with documented defaults.
// A plain struct (LevelDB's Options style): set what you need, leave the rest.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "cryptcom/identity.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom {

// Which one-time-key flow a message uses.
//  push: the receiver generated the key and offered it beforehand (A sends to B).
//  pull: the sender also attaches a one-time key of its own, so the answer is sealed to it
//        (A asks B for something). The request itself is still sealed with a push key.
enum class flow : std::uint8_t { push = 0, pull = 1 };

enum class aead : std::uint16_t { chacha20_poly1305 = 0x0003, aes_256_gcm = 0x0002 };

// Which initiators a responder accepts in authenticated mode, once they have proven they hold
// the secret key of the identity they claim (docs/PROTOCOL.md §12.4).
enum class peer_policy : std::uint8_t {
  any,         // every authenticated identity
  allow_list,  // only the keys in authentication::allowed
  ask,         // each new identity is put to the application (or the transport's ZAP handler):
               // event_kind::identity_check, answered with engine::resolve_identity()
};

// Authenticated mode (docs/PROTOCOL.md §12). Without an identity the endpoint runs base mode
// (protocol version 1), which authenticates no peer. With one it speaks version 2 only: every
// frame is authenticated between the two identities, and base-mode peers are refused.
struct authentication {
  // This endpoint's long-term key pair. Unset: base mode.
  std::optional<cryptcom::identity> self;
  // The peer's public key, known beforehand: this endpoint is then the initiator of every
  // handshake (a client; ZeroMQ's ZMQ_CURVE_SERVERKEY). Unset: a responder (a server), which
  // learns each peer's key from its handshake and applies `policy`.
  std::optional<public_key> peer_key;
  // Responders only. Default: allow_list, so an empty list accepts nobody until keys are added
  // (or `any` is chosen explicitly).
  peer_policy policy = peer_policy::allow_list;
  std::vector<public_key> allowed;
  // Handshakes a responder verifies per second for the peers of one group (a connection), each
  // costing two X25519; beyond it, initiates are dropped (counted as rate_limited). Default:
  // 64/s, burst 64.
  std::size_t handshake_rate = 64;
  std::size_t handshake_burst = 64;
  // Identities awaiting resolve_identity() at once (policy ask); beyond it, new ones are
  // refused with rate_limited. Default: 1024.
  std::size_t max_pending_checks = 1024;
};

struct options {
  // Default flow for messages sent without an explicit one. Default: push. The ZeroMQ layer
  // picks pull for REQ and DEALER-to-REP, where a reply is expected.
  flow default_flow = flow::push;

  // The optional behaviours this endpoint announces in the `features` of its hellos
  // (docs/PROTOCOL.md §4). Set by transports, not applications: cryptcom::zmq sets bit 0
  // (broker_notices, §11.7) on sockets with socket_options::through_broker. Default: none.
  std::uint64_t hello_features = 0;

  // AEAD used to seal. AES-256-GCM is used only where libsodium reports hardware support;
  // elsewhere construction fails with errc::unavailable. Default: ChaCha20-Poly1305.
  aead cipher = aead::chacha20_poly1305;

  // Time to live of every one-time key this endpoint issues. Default: 60 s.
  duration key_ttl = std::chrono::seconds(60);
  // A sender does not use a key whose remaining life is below this margin (time in flight plus
  // time to open it). Default: 5 s.
  duration expiry_margin = std::chrono::seconds(5);

  // Keys the sender tries to hold per peer (offered to it by that peer). Default: 64.
  // It is where each peer's pool starts. When messages wait for keys already asked for, the pool
  // doubles (up to max_keys_per_peer and the messages sent to the peer in half retransmit_after)
  // while they are acknowledged within retransmit_after / 8 of the quickest acknowledgement the
  // peer gave, and shrinks while they queue on the way to it for more than retransmit_after / 4
  // beyond that (to no less than pool_target / 4, nor than the messages sent to it in
  // retransmit_after / 16): a receiver shared by many senders serves each at its share anyway,
  // and a bigger pool would only lengthen its queue and the stock of keys it generated.
  std::size_t pool_target = 64;
  // Below this many usable keys the sender asks for more (well above zero, so steady streams
  // never run dry); scaled with the pool as it grows or shrinks. Default: 32.
  std::size_t pool_low_watermark = 32;

  // Live keys this endpoint keeps for one peer / in total. Bounds memory under floods of key
  // requests. Default: 1024 / 65536.
  std::size_t max_keys_per_peer = 1024;
  std::size_t max_keys_total = 65536;
  // Keys granted to one peer per second of requests (token bucket, burst = max_keys_per_peer):
  // a ceiling above the rules below. Default: 100000.
  std::size_t key_grant_rate = 100000;
  // A peer may hold (unused) at most its allowance of our keys: pool_target until it has used
  // one, then twice what it used in the last key_ttl, between pool_target and max_keys_per_peer.
  // So a peer's grant grows only with the messages it actually sends.
  // Keys granted to peers that have not used any yet come from a budget per group of peers (the
  // transport's connection, see engine::set_group; by default each peer is its own group):
  // unproven_grant_rate keys per second, burst unproven_grant_burst. Forged routing paths or
  // instance churn on one connection then cost at most that many key generations per second.
  // Default: 256/s, burst 256.
  std::size_t unproven_grant_rate = 256;
  std::size_t unproven_grant_burst = 256;
  // A peer may announce a new instance (a restart: its keys are dropped and granted afresh) at
  // most once per this interval (burst of 2); a control block announcing one sooner is dropped.
  // Default: 1 s.
  duration peer_restart_interval = std::chrono::seconds(1);

  // Largest plaintext message (all parts) accepted for sending or receiving; announced to peers.
  // At most 3 GiB (a sealed message is one msgpack bin32). Default: 64 MiB.
  std::size_t max_message_size = 64u * 1024 * 1024;
  // Largest number of parts in one message; announced to peers. At most 2^20. Default: 1000.
  std::size_t max_parts = 1000;

  // Messages held per peer while no key is available. Past it send() fails with
  // errc::limit_exceeded. Default: 1000.
  std::size_t max_queued_per_peer = 1000;
  // Sent messages kept (for re-sealing) until acknowledged, per peer. Default: 10000.
  std::size_t max_unacknowledged_per_peer = 10000;
  // A sent message not acknowledged in time is sent again under the same key (if still valid) or
  // a new one. "In time" adapts to each peer as TCP's retransmission timeout does (RFC 6298):
  // the smoothed acknowledgement time plus four times its variation, doubled after each expiry,
  // at most delivery_timeout / 2; this is its minimum and its value until a first
  // acknowledgement is timed. Default: 2 s.
  duration retransmit_after = std::chrono::seconds(2);
  // A message that could not be delivered for this long (no key, no acknowledgement) is given up
  // and reported undeliverable. Default: 30 s.
  duration delivery_timeout = std::chrono::seconds(30);
  // Acknowledgements are batched: sent at the latest after this delay, or when this many are
  // pending, unless other traffic to the peer carries them first (key offers, in a steady
  // stream, carry them long before the batch fills). ack_batch is at most 1024 (a block carries
  // at most 4096 acknowledgements). Default: 20 ms / 256.
  duration ack_delay = std::chrono::milliseconds(20);
  std::size_t ack_batch = 256;
  // Events kept for poll_event(); beyond it the oldest are dropped (and counted), so an
  // application that never polls events cannot be made to grow memory by a flood of garbage.
  // Default: 10000.
  std::size_t max_pending_events = 10000;
  // A peer that has asked for keys and got none for this long is asked again. Default: 1 s.
  duration key_request_retry = std::chrono::seconds(1);

  // Hostile peers. Opens that fail (a frame that does not authenticate under a live key of the
  // peer's) cost an X25519 each; each peer may cause this many per second (token bucket of
  // failed_open_burst). Beyond it, its data frames are refused with rate_limited before any
  // agreement. Default: 4/s, burst 16.
  std::size_t failed_open_rate = 4;
  std::size_t failed_open_burst = 16;
  // A key that failed to open this many times is retired (destroyed unused, as if expired): its
  // genuine sender is told expired_key and re-seals under a new key. Default: 3.
  std::size_t max_failed_opens_per_key = 3;
  // A message is re-sealed in answer to the peer's rejections at most this many times (and at
  // most once per transmission); beyond it, rejections are ignored and only the retransmission
  // timer sends it again, so no frame of the peer's can make us send a message many times.
  // Default: 3.
  std::size_t max_rejection_resends = 3;

  // Authenticated mode; default: base mode (no identity).
  cryptcom::authentication auth;
};

}  // namespace cryptcom
