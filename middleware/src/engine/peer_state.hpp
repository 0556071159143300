// peer_state: what the engine knows about one peer: the keys it gave us, the messages we owe it
// or wait on it for, and the control information due to it.
// Thread-safety: none; part of one engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "cryptcom/engine.hpp"
#include "cryptcom/plaintext_buffer.hpp"
#include "cryptcom/stats.hpp"
#include "engine/peer_auth.hpp"
#include "engine/refused_payloads.hpp"
#include "engine/retransmit_timer.hpp"
#include "engine/spent_keys.hpp"
#include "engine/token_bucket.hpp"
#include "wire/frame.hpp"

namespace cryptcom::engine_detail {

// A public key the peer gave us (offer or reply key), usable until `usable_until`.
struct peer_key {
  guid id;
  public_key key;
  time_point usable_until;  // local arrival + TTL - expiry margin
  bool reply = false;       // a reply key: what is sealed to it answers the peer's request
};

// A message accepted from the application, kept (its parts, not a frame) until the peer
// acknowledges it, so that it can be re-sealed after a rejection or a loss.
struct outgoing_message {
  message_id id = 0;
  // The parts and what keeps their bytes alive (engine::message_parts): the caller's owner, or
  // the engine's copy (a plaintext_buffer, wiped when its last reference goes). Released when
  // the message goes (acknowledged, given up, withdrawn, or the engine with it). Each seal
  // encodes them into the frame's ciphertext and encrypts there.
  message_parts content;
  flow how = flow::push;
  std::size_t parts = 0;  // the application's parts and their bytes, against the peer's limits
  std::size_t bytes = 0;
  time_point accepted_at;
  time_point last_sent_at;
  std::uint32_t attempts = 0;
  // The transmission (attempt number) a rejection was last acted on for, and how many re-seals
  // rejections caused: each transmission is answered once, and the total is capped
  // (options::max_rejection_resends), so a peer cannot make us send one message many times.
  std::uint32_t answered_attempt = 0;
  std::uint32_t rejection_resends = 0;
  // The peer said the key is dead after the re-seals were used up: the retransmission timer then
  // re-seals under a new key instead of the same one.
  bool needs_new_key = false;
  std::optional<peer_key> key;                 // the peer key it was last sealed to
  std::optional<wire::offered_key> reply_key;  // pull: our key for the reply, kept across resends
};

struct peer_state {
  peer_state(token_bucket bucket, token_bucket failures, token_bucket restarts,
             retransmit_timer timer, duration spent_window, duration refused_window)
      : spent(spent_window),
        refused(refused_window),
        rto(timer),
        grant_bucket(bucket),
        restart_budget(restarts),
        open_failures(failures) {}

  std::optional<guid> instance;      // the peer's endpoint instance, once it told us
  peer_auth auth;                    // authenticated mode only
  std::optional<wire::hello> told;   // what the peer said of itself (AEAD, limits), once it did
  bool hello_sent = false;           // we told it ours (again after it restarts)
  std::optional<flow> default_flow;  // set_flow(): overrides options::default_flow

  // Keys for sending to the peer: reply keys (pull) are used first, then offered keys.
  std::deque<peer_key> reply_keys;
  std::deque<peer_key> offered_keys;
  spent_keys spent;           // keys we sealed to lately: an offer of one again is a duplicate
  refused_payloads refused;   // our keys that opened a payload we refused, and why
  bool wants_pool = false;    // we send to this peer, so keep a pool of its keys
  std::size_t requested = 0;  // keys asked for and not yet received
  time_point requested_at;
  // The pool size we aim at: options::pool_target at first, then moved by engine's note_starved
  // whenever messages wait for keys already asked for: doubled (up to max_keys_per_peer, and to no
  // more than the messages sent recently) while they do not queue on the way to the peer, at least
  // halved (to no less than a quarter of pool_target, nor than what was sent to it lately) while
  // they do; goal_adjusted keeps that to once per offer.
  std::size_t pool_goal = 0;
  bool goal_adjusted = false;
  // Messages first sent to the peer in the current and the last window of
  // retransmit_after / 2: its recent rate, the most its pool goal may grow to.
  time_point rate_window_start{};
  std::size_t sent_in_window = 0;
  std::size_t sent_last_window = 0;

  // Messages waiting for a key, in order.
  std::deque<outgoing_message> queue;
  // Sent and not yet acknowledged: in order of last transmission, indexed by key GUID.
  std::list<outgoing_message> unacked;
  std::unordered_map<guid, std::list<outgoing_message>::iterator> unacked_by_key;
  // ... and by message id, which is their order of acceptance: the next to reach
  // delivery_timeout first.
  std::map<message_id, std::list<outgoing_message>::iterator> unacked_by_id;
  // When an unacknowledged message is due again: adapts to how fast this peer acknowledges.
  // Shared by the peer's messages, so `unacked` stays in deadline order.
  retransmit_timer rto;

  // Control information owed to the peer.
  std::size_t keys_owed = 0;                  // it asked for keys; we grant when we next write
  std::optional<time_point> offers_due;       // deferred so they can ride on a reply
  std::optional<time_point> last_offered_at;  // when we last offered it keys
  std::vector<guid> acks;
  std::optional<time_point> acks_due;
  std::vector<wire::rejection> rejections;
  bool rejections_urgent = false;  // one is to go at once, not with the next acknowledgements
  token_bucket grant_bucket;
  // Grants: the group whose budget pays for keys until the peer has used one (proven), and the
  // keys it used in the current and the last window of key_ttl, which size its allowance.
  std::optional<std::uint64_t> group;  // set_group(); empty: the peer is a group of its own
  std::optional<token_bucket> own_budget;
  std::optional<token_bucket> own_handshakes;  // authenticated mode, when in no group
  bool proven = false;
  time_point used_window_start{};
  std::size_t used_in_window = 0;
  std::size_t used_last_window = 0;
  token_bucket restart_budget;
  // Events reporting frames refused from this peer (each is also counted).
  token_bucket refusal_reports{100.0, 100.0, time_point{}};
  // Failed opens this peer may still cause (each cost us an X25519), and how often each of our
  // live keys issued to it failed to open.
  token_bucket open_failures;
  std::unordered_map<guid, std::uint32_t> failed_opens;

  counters stats;

  // The deadline peer_timers holds for this peer: impl::flush keeps it equal to peer_deadline.
  std::optional<time_point> scheduled;
};

}  // namespace cryptcom::engine_detail
