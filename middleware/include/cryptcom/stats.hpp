// cryptcom::stats: counters per peer and in total, as a snapshot (plain values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "cryptcom/types.hpp"

namespace cryptcom {

struct counters {
  // Keys this endpoint issued.
  std::uint64_t keys_generated = 0;  // one-time pairs made (offered keys and reply keys)
  std::uint64_t keys_offered = 0;    // public halves sent to the peer
  std::uint64_t keys_used = 0;       // private halves used to open a message (then destroyed)
  std::uint64_t keys_expired = 0;    // private halves destroyed unused when their TTL ran out
  std::uint64_t keys_destroyed = 0;  // all private halves destroyed, for any reason
  std::uint64_t keys_received = 0;   // peer keys received (offers and reply keys)
  std::uint64_t keys_discarded = 0;  // peer keys dropped unused (expired, peer restarted)

  std::uint64_t messages_sealed = 0;  // seal operations, re-seals included
  // Of those, seals whose agreement engine::prepare_seal() had done ahead.
  std::uint64_t seals_prepared = 0;
  std::uint64_t messages_opened = 0;  // messages delivered to the application
  std::uint64_t messages_resent = 0;  // re-sealed after a rejection or timeout
  std::uint64_t messages_undeliverable = 0;
  std::uint64_t messages_acknowledged = 0;
  // Taken back by engine::withdraw() (they never reached the peer), for another peer: neither
  // acknowledged nor undeliverable here.
  std::uint64_t messages_withdrawn = 0;

  std::uint64_t frames_sent = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t control_frames_sent = 0;  // frames carrying no application data
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;

  // Frames rejected, by reason.
  std::uint64_t rejected_malformed = 0;
  std::uint64_t rejected_unknown_key = 0;
  std::uint64_t rejected_expired_key = 0;
  std::uint64_t rejected_replay = 0;
  std::uint64_t rejected_authentication = 0;
  std::uint64_t rejected_too_large = 0;
  std::uint64_t rejected_rate_limited = 0;  // opens refused by budget, restarts refused
  std::uint64_t rejected_total() const noexcept {
    return rejected_malformed + rejected_unknown_key + rejected_expired_key + rejected_replay +
           rejected_authentication + rejected_too_large + rejected_rate_limited;
  }

  // Of the frames rejected above: answered with a rejection naming their key, or dropped
  // without an answer (no key id could be read, or the peer's rejection list was full).
  std::uint64_t rejections_sent = 0;
  std::uint64_t frames_dropped = 0;
  // Data frames under a live key of the peer's refused before the agreement: the peer's budget
  // of failed opens (options::failed_open_rate) was spent.
  std::uint64_t opens_refused = 0;
  // Keys destroyed unused because they failed to open max_failed_opens_per_key times.
  std::uint64_t keys_retired = 0;
  // Key requests granted fewer keys than asked (the peer's allowance, its connection's budget,
  // key_grant_rate): normal for a greedy peer, not a refused frame.
  std::uint64_t key_requests_trimmed = 0;
  // Rejections of ours that the peer sent and we did not act on: duplicates, a transmission
  // already answered, or beyond max_rejection_resends.
  std::uint64_t rejections_ignored = 0;

  std::uint64_t peer_restarts = 0;

  // Authenticated mode (docs/PROTOCOL.md §12).
  std::uint64_t handshakes_started = 0;    // initiates sent
  std::uint64_t handshakes_completed = 0;  // sessions established
  std::uint64_t handshakes_refused = 0;    // identities refused, by us or by the peer
  std::uint64_t handshakes_dropped = 0;    // handshake frames that did not verify or came too fast
  // Frames dropped unauthenticated: no session, a MAC that does not verify, another instance.
  std::uint64_t frames_unauthenticated = 0;
  std::uint64_t frames_replayed = 0;  // a sequence number not above the last one accepted
  // Frames of the other mode (version 1 in authenticated mode, version 2 in base mode).
  std::uint64_t frames_wrong_mode = 0;
  // Events not kept: beyond options::max_pending_events (the oldest go), or refusals of one peer
  // beyond 100 reports a second (counted above, not reported each).
  std::uint64_t events_dropped = 0;
};

struct stats_snapshot {
  counters total;
  std::map<std::uint64_t, counters> per_peer;
  std::size_t live_keys = 0;        // private keys held now
  std::size_t peer_keys = 0;        // usable peer keys held now
  std::size_t queued_messages = 0;  // waiting for a key
  std::size_t unacknowledged = 0;   // sent, kept for re-sealing
  std::size_t locked_bytes = 0;     // locked memory reserved for private keys
  // Earliest expiry among the private keys held; after tick(now) it is always later than now.
  std::optional<time_point> next_key_expiry;
};

}  // namespace cryptcom
