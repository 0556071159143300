// The protocol engine: see cryptcom/engine.hpp for the contract and docs/PROTOCOL.md for the wire.
#include "cryptcom/engine.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "crypto/hpke.hpp"
#include "crypto/session_keys.hpp"
#include "engine/engine_probe.hpp"
#include "engine/peer_state.hpp"
#include "engine/peer_timers.hpp"
#include "keys/identity_access.hpp"
#include "keys/key_store.hpp"
#include "keys/locked_arena.hpp"
#include "wire/frame.hpp"

namespace cryptcom {

using engine_detail::auth_session;
using engine_detail::locked_slot;
using engine_detail::outgoing_message;
using engine_detail::peer_key;
using engine_detail::peer_state;
using engine_detail::retransmit_timer;
using engine_detail::token_bucket;

namespace {

constexpr std::string_view hpke_info = "cryptcom/1 one-time key";
// engine::recycle: frame buffers worth keeping (smaller ones cost malloc little), and how many
// and how much memory an engine may hold in them: enough for the frames libzmq finishes writing
// between two of our turns, or in one burst of seals when keys arrive (hundreds of 64 KiB frames,
// a dozen of 1 MiB), bounded in bytes.
constexpr std::size_t min_recycled_frame = 64 * 1024;
constexpr std::size_t max_spare_frames = 256;
constexpr std::size_t max_spare_frame_bytes = 16u * 1024 * 1024;
constexpr std::size_t frame_header_slack = 16 * 1024;
// Authenticated mode (PROTOCOL.md §12.3).
constexpr std::string_view hpke_info_v2 = "cryptcom/2 one-time key";
constexpr std::string_view identity_info = "cryptcom/2 identity";
// Pending sessions a responder keeps per peer, so replayed initiates cannot crowd out a genuine
// one (§12.4).
constexpr std::size_t max_pending_sessions = 4;
// hello_requests go to one peer at most this often (§12.4).
constexpr duration hello_request_interval = std::chrono::seconds(1);

// Bounds that keep every frame within a msgpack bin32 (PROTOCOL.md §7).
constexpr std::size_t frame_slack = 256 * 1024;
constexpr std::size_t max_parts_limit = 1u << 20;
constexpr std::size_t max_message_size_limit = std::size_t{3} << 30;

byte_view bytes_of(std::string_view text) {
  return {reinterpret_cast<const byte*>(text.data()), text.size()};
}

std::uint32_t to_ms(duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(ms, 0, std::numeric_limits<std::uint32_t>::max()));
}

status check_options(const options& o) {
  auto bad = [](const std::string& why) { return status(errc::invalid_argument, why); };
  if (o.key_ttl <= o.expiry_margin) return bad("key_ttl must exceed expiry_margin");
  if (o.pool_target == 0 || o.pool_low_watermark >= o.pool_target)
    return bad("pool_low_watermark must be below pool_target, and pool_target above 0");
  if (o.pool_target > o.max_keys_per_peer)
    return bad("pool_target must not exceed max_keys_per_peer");
  if (o.max_keys_per_peer == 0 || o.max_keys_total < o.max_keys_per_peer)
    return bad("max_keys_total must be at least max_keys_per_peer, which must be above 0");
  if (o.max_parts == 0 || o.max_parts > max_parts_limit)
    return bad("max_parts must be between 1 and " + std::to_string(max_parts_limit));
  if (o.max_message_size > max_message_size_limit)
    return bad("max_message_size must be at most " + std::to_string(max_message_size_limit) +
               " (a sealed message is one msgpack bin32)");
  if (o.ack_batch == 0 || o.ack_batch > 1024)
    return bad("ack_batch must be between 1 and 1024 (a block carries at most 4096 acks)");
  if (o.max_pending_events == 0) return bad("max_pending_events must be above 0");
  if (o.retransmit_after <= duration::zero() || o.delivery_timeout < o.retransmit_after)
    return bad("delivery_timeout must be at least retransmit_after, which must be positive");
  if (o.key_grant_rate == 0) return bad("key_grant_rate must be above 0");
  if (o.unproven_grant_rate == 0 || o.unproven_grant_burst == 0)
    return bad("unproven_grant_rate and unproven_grant_burst must be above 0");
  if (o.peer_restart_interval <= duration::zero())
    return bad("peer_restart_interval must be positive");
  if (o.failed_open_rate == 0 || o.failed_open_burst == 0 || o.max_failed_opens_per_key == 0)
    return bad("failed_open_rate, failed_open_burst and max_failed_opens_per_key must be above 0");
  const auto aead = static_cast<hpke::aead_id>(o.cipher);
  if (aead != hpke::aead_id::chacha20_poly1305 && aead != hpke::aead_id::aes_256_gcm)
    return bad("unknown AEAD");
  if (!hpke::aead_available(aead))
    return status(errc::unavailable, "AES-256-GCM is not available on this CPU");
  const authentication& a = o.auth;
  if (!a.self && (a.peer_key || !a.allowed.empty() || a.policy != peer_policy::allow_list))
    return bad("auth: a peer key, allow-list or policy needs an identity (auth.self)");
  if (a.self && (a.handshake_rate == 0 || a.handshake_burst == 0 || a.max_pending_checks == 0))
    return bad("auth: handshake_rate, handshake_burst and max_pending_checks must be above 0");
  return status::success();
}

keys::key_store_limits store_limits(const options& o) {
  keys::key_store_limits limits;
  limits.max_total = o.max_keys_total;
  limits.max_per_peer = o.max_keys_per_peer;
  // A used key's GUID is remembered for as long as its sender may still retransmit, so a late
  // copy is recognised as a replay instead of being re-sealed under a new key (a duplicate).
  limits.tombstone_grace = o.delivery_timeout + o.retransmit_after;
  return limits;
}

// What a rejection of one of our data frames tells us to do with its message (PROTOCOL.md §4).
enum class rejection_answer : std::uint8_t {
  wait_for_acknowledgement,  // replayed_key: the key was used; only an ack says by what
  new_key,                   // certainly not opened: re-seal under another key
  same_key,                  // not opened and the key still lives there: send it again to it
  retransmit_later,          // not opened, not tried: the retransmission timer sends it again
  give_up,                   // the peer cannot accept it: report it undeliverable now
};

rejection_answer answer_to(errc reason) {
  switch (reason) {
    case errc::replayed_key:
      return rejection_answer::wait_for_acknowledgement;
    case errc::unknown_key:
    case errc::expired_key:
    case errc::low_order_point:
      return rejection_answer::new_key;
    case errc::rate_limited:
      return rejection_answer::retransmit_later;
    case errc::invalid_argument:
    case errc::limit_exceeded:
    case errc::message_too_large:
      return rejection_answer::give_up;
    default:
      // authentication_failed, malformed_frame, and reasons we do not send (the safe reading:
      // the key may still be live, and a new one could deliver twice).
      return rejection_answer::same_key;
  }
}

// An order of key ids, for lists a peer's choice of ids must not make slow (sorted, not hashed).
bool guid_before(const guid& x, const guid& y) { return x.bytes < y.bytes; }

std::string describe(peer_id peer, const guid* key, std::string_view what) {
  std::string s = "peer " + std::to_string(peer);
  if (key != nullptr && !key->is_zero()) s += ", key " + key->short_hex();
  s += ": ";
  s += what;
  return s;
}

}  // namespace

struct engine::impl {
  impl(const options& o, key_source& k, random_source& r, time_point now)
      : opts(o),
        init_status(check_options(o)),
        key_gen(k),
        random(r),
        store(store_limits(o)),
        scratch(secret_key_size, 2, 2),
        aead(static_cast<hpke::aead_id>(o.cipher)),
        authenticated(o.auth.self.has_value()),
        initiator(authenticated && o.auth.peer_key.has_value()),
        auth_scratch(64, 2, 2),
        session_keys(64, 64, std::numeric_limits<std::uint32_t>::max() - 64) {
    (void)now;
    instance = random.next_guid();
    // The list limits are the protocol's own (PROTOCOL.md §7), the same for every peer, so a
    // block one writes another reads; the slack above the message covers the largest control
    // block, reply key and header they allow, and the parts' bin headers.
    limits.max_frame_bytes = o.max_message_size + frame_slack + 16 * o.max_parts;
    limits.max_parts = o.max_parts;
    own_hello.aead = static_cast<std::uint16_t>(o.cipher);
    own_hello.features = o.hello_features;
    if (authenticated) own_hello.max_version = wire::authenticated_version;
    own_hello.max_message_bytes = o.max_message_size;
    own_hello.max_parts = static_cast<std::uint32_t>(
        std::min<std::size_t>(o.max_parts, std::numeric_limits<std::uint32_t>::max()));
    for (auto* s : {&scratch_slot, &prepared_slot}) {
      if (!init_status.ok()) break;
      auto slot = scratch.allocate();
      if (!slot.ok()) {
        init_status = slot.error();
      } else {
        *s = *slot;
      }
    }
    if (init_status.ok() && authenticated) {
      auto slot = auth_scratch.allocate();
      if (!slot.ok()) {
        init_status = slot.error();
      } else {
        auth_scratch_slot = *slot;
      }
      if (init_status.ok() && initiator) {
        // The static agreement with the one server key never changes: computed once, so that a
        // handshake costs the initiator one X25519 and a flood of forged answers none.
        auto fixed = auth_scratch.allocate();
        if (!fixed.ok()) {
          init_status = fixed.error();
        } else {
          initiator_prk_slot = *fixed;
          if (status d = auth::derive_prk(own_secret(), responder_key(),
                                          auth_scratch.bytes(initiator_prk_slot).first<32>());
              !d.ok()) {
            init_status = status(errc::invalid_argument,
                                 "auth.peer_key " + to_z85(responder_key()) +
                                     " is not a usable X25519 public key: " + d.message());
          }
        }
      }
      std::sort(opts.auth.allowed.begin(), opts.auth.allowed.end(),
                [](const public_key& a, const public_key& b) { return a.bytes < b.bytes; });
    }
  }

  // ---- state ----
  options opts;
  status init_status;
  key_source& key_gen;
  random_source& random;
  guid instance;
  keys::key_store store;
  // Two slots: the ephemeral private key of the seal in progress, and the shared secret of the
  // next seal done ahead by prepare_seal().
  keys::locked_arena scratch;
  keys::locked_arena::slot scratch_slot = keys::locked_arena::no_slot;
  keys::locked_arena::slot prepared_slot = keys::locked_arena::no_slot;
  // What the shared secret in prepared_slot is for (set: it holds one).
  struct prepared_seal {
    peer_id peer = 0;
    guid key_id;
    public_key enc;
  };
  std::optional<prepared_seal> prepared;
  hpke::aead_id aead;  // what we open with; what we seal with is what each peer announced
  wire::decode_limits limits;
  wire::hello own_hello;  // what every control block we send says of us

  // Authenticated mode (PROTOCOL.md §12): whether it is on, and whether we start handshakes.
  bool authenticated;
  bool initiator;
  // One slot of 64 bytes for a handshake in progress: the PRK, then a MAC key.
  keys::locked_arena auth_scratch;
  keys::locked_arena::slot auth_scratch_slot = keys::locked_arena::no_slot;
  // Initiator: the PRK of our static key and the server key (PROTOCOL.md §12.3), in its own slot.
  keys::locked_arena::slot initiator_prk_slot = keys::locked_arena::no_slot;
  // The sessions' MAC keys; declared before `peers`, whose sessions release their slots here.
  keys::locked_arena session_keys;
  std::size_t pending_checks = 0;  // sessions awaiting resolve_identity()

  std::unordered_map<peer_id, peer_state> peers;
  // Budgets of keys for peers that have not used one yet, per group set with set_group().
  struct group_budget {
    token_bucket bucket;
    std::size_t members = 0;
    std::optional<token_bucket> handshakes;  // authenticated mode: initiates verified
  };
  std::unordered_map<std::uint64_t, group_budget> groups;
  // Frames for poll_transmit(), each with the key its data is sealed to (zero for control
  // frames), so that withdraw() can hold back one that has not left yet.
  struct pending_transmit {
    transmit frame;
    guid data_key;
  };
  std::deque<pending_transmit> transmits;
  // Buffers of large frames the transport gave back (engine::recycle), written again by the next
  // large data frames: their pages are reused rather than allocated, faulted in and given back
  // to the system per message. Bounded in number and bytes.
  std::vector<std::vector<byte>> spare_frames;
  std::size_t spare_bytes = 0;
  std::deque<delivery> deliveries;
  std::deque<event> events;
  counters total;
  message_id next_message = 1;

  // Peers by next deadline (see peer_timers.hpp); `due` is tick()'s list, kept for its capacity.
  engine_detail::peer_timers timers;
  std::vector<peer_id> due;
  mutable std::uint64_t peer_visits = 0;  // deadlines computed and timers run (engine_probe)

  // ---- helpers ----
  peer_state& peer(peer_id id, time_point now) {
    auto it = peers.find(id);
    if (it == peers.end()) {
      const double rate = static_cast<double>(opts.key_grant_rate);
      const double burst = static_cast<double>(opts.max_keys_per_peer);
      const double restarts_per_second =
          1.0 / std::chrono::duration<double>(opts.peer_restart_interval).count();
      peer_state fresh(token_bucket(rate, burst, now),
                       token_bucket(static_cast<double>(opts.failed_open_rate),
                                    static_cast<double>(opts.failed_open_burst), now),
                       token_bucket(restarts_per_second, 2.0, now),
                       retransmit_timer(opts.retransmit_after, opts.delivery_timeout / 2),
                       opts.retransmit_after,
                       opts.key_ttl + opts.delivery_timeout + opts.retransmit_after);
      it = peers.emplace(id, std::move(fresh)).first;
      it->second.pool_goal = opts.pool_target;
      it->second.own_budget.emplace(unproven_budget(now));
      if (authenticated) it->second.own_handshakes.emplace(handshake_budget(now));
    }
    return it->second;
  }

  token_bucket unproven_budget(time_point now) const {
    return token_bucket(static_cast<double>(opts.unproven_grant_rate),
                        static_cast<double>(opts.unproven_grant_burst), now);
  }

  token_bucket& budget_of(peer_state& p) {
    if (p.group) return groups.at(*p.group).bucket;
    return *p.own_budget;
  }

  token_bucket handshake_budget(time_point now) const {
    return token_bucket(static_cast<double>(opts.auth.handshake_rate),
                        static_cast<double>(opts.auth.handshake_burst), now);
  }

  token_bucket& handshakes_of(peer_state& p, time_point now) {
    if (!p.group) return *p.own_handshakes;
    auto& g = groups.at(*p.group);
    if (!g.handshakes) g.handshakes.emplace(handshake_budget(now));
    return *g.handshakes;
  }

  byte_view info_bytes() const { return bytes_of(authenticated ? hpke_info_v2 : hpke_info); }

  void leave_group(peer_state& p) {
    if (!p.group) return;
    auto it = groups.find(*p.group);
    if (it != groups.end() && --it->second.members == 0) groups.erase(it);
    p.group.reset();
  }

  template <class Field>
  void count(peer_state& p, Field field, std::uint64_t n = 1) {
    p.stats.*field += n;
    total.*field += n;
  }

  void emit_event(event_kind kind, peer_id peer, const guid& key, message_id msg, errc reason,
                  std::string_view what) {
    event e;
    e.kind = kind;
    e.peer = peer;
    e.key_id = key;
    e.message = msg;
    e.reason = reason;
    e.detail = describe(peer, &key, what);
    if (msg != 0) e.detail += " (message " + std::to_string(msg) + ")";
    if (events.size() >= opts.max_pending_events) {
      events.pop_front();
      ++total.events_dropped;
    }
    events.push_back(std::move(e));
  }

  // Counts and reports a frame we refused; for data frames the sender also gets a rejection.
  void refuse(peer_id id, peer_state& p, const guid& key, errc reason, std::string_view what,
              bool tell_sender, time_point now) {
    const bool reported = report_refusal(id, p, key, reason, what, now);
    // Bounded so that a flood of garbage cannot grow our memory; beyond the bound the sender
    // learns of the problem by its own timeout. Within the report budget the sender is answered
    // at once; beyond it rejections wait, as acknowledgements do, to share one frame.
    if (tell_sender && p.rejections.size() < limits.max_rejections) {
      p.rejections.push_back({key, reason});
      if (reported) p.rejections_urgent = true;
      if (!p.acks_due) p.acks_due = now + opts.ack_delay;
      count(p, &counters::rejections_sent);
    } else {
      count(p, &counters::frames_dropped);
    }
  }

  // Counts a refused frame by reason and reports it, within the peer's budget of reports (a
  // flood would only push older reports out of the bounded queue: past it, refusals are counted
  // without building an event each). Returns whether it was reported.
  bool report_refusal(peer_id id, peer_state& p, const guid& key, errc reason,
                      std::string_view what, time_point now) {
    switch (reason) {
      case errc::unknown_key:
        count(p, &counters::rejected_unknown_key);
        break;
      case errc::expired_key:
        count(p, &counters::rejected_expired_key);
        break;
      case errc::replayed_key:
        count(p, &counters::rejected_replay);
        break;
      case errc::authentication_failed:
        count(p, &counters::rejected_authentication);
        break;
      case errc::message_too_large:
      case errc::limit_exceeded:
        count(p, &counters::rejected_too_large);
        break;
      case errc::rate_limited:
        count(p, &counters::rejected_rate_limited);
        break;
      default:
        count(p, &counters::rejected_malformed);
        break;
    }
    if (p.refusal_reports.take(1, now) != 1) {
      ++total.events_dropped;
      return false;
    }
    emit_event(event_kind::frame_rejected, id, key, 0, reason,
               std::string(to_string(reason)) + ": " + std::string(what));
    return true;
  }

  // ---- keys we hold for sending ----
  static void drop_unusable(std::deque<peer_key>& keys, time_point now, std::size_t& dropped) {
    while (!keys.empty() && keys.front().usable_until <= now) {
      keys.pop_front();
      ++dropped;
    }
  }

  static bool holds_key(const std::deque<peer_key>& keys, const guid& id) {
    return std::any_of(keys.begin(), keys.end(), [&](const peer_key& k) { return k.id == id; });
  }

  std::size_t usable(peer_state& p, time_point now) {
    std::size_t dropped = 0;
    drop_unusable(p.reply_keys, now, dropped);
    drop_unusable(p.offered_keys, now, dropped);
    if (dropped) count(p, &counters::keys_discarded, dropped);
    return p.reply_keys.size() + p.offered_keys.size();
  }

  std::optional<peer_key> take_key(peer_state& p, time_point now) {
    if (usable(p, now) == 0) return std::nullopt;
    auto& from = p.reply_keys.empty() ? p.offered_keys : p.reply_keys;
    peer_key k = from.front();
    from.pop_front();
    p.spent.add(k.id, now);
    return k;
  }

  // How many keys to ask the peer for now (0: none).
  // The pool aims at the peer's pool_goal, asked for below the low watermark scaled alike.
  std::size_t keys_to_request(peer_state& p, time_point now) {
    if (!p.wants_pool && p.queue.empty()) return 0;
    const std::size_t target = p.pool_goal;
    const std::size_t low = opts.pool_low_watermark * target / opts.pool_target;
    const std::size_t have = usable(p, now) + p.requested;
    if (have >= low && !(p.queue.size() > 0 && usable(p, now) == 0 && p.requested == 0)) {
      return 0;
    }
    return have >= target ? 0 : target - have;
  }

  // Counts first transmissions in windows of half retransmit_after: the peer's recent send rate,
  // which bounds how big its pool ever needs to be.
  void note_sent(peer_state& p, time_point now) {
    const duration window = opts.retransmit_after / 2;
    if (now - p.rate_window_start >= window) {
      p.sent_last_window = now - p.rate_window_start < 2 * window ? p.sent_in_window : 0;
      p.sent_in_window = 0;
      p.rate_window_start = now;
    }
    ++p.sent_in_window;
  }

  // How long our messages wait for their acknowledgement beyond the quickest one this peer ever
  // gave: time spent in queues on the way to it (it is the bottleneck, or shared by many
  // senders), not the path's own round trip (a distant peer is not a queue). The smoothed time
  // of the recent acknowledgements, or the oldest unacknowledged message's wait when longer: the
  // latter alone reads short whenever this peer's own messages have just drained, however long
  // the queue that its next ones join. Nothing is known before a first acknowledgement.
  duration queueing(const peer_state& p, time_point now) const {
    if (!p.rto.sampled()) return duration::zero();
    duration waited = p.rto.smoothed_rtt();
    if (!p.unacked.empty()) waited = std::max(waited, now - p.unacked.front().last_sent_at);
    return waited - std::min(waited, p.rto.min_rtt());
  }

  // Messages wait for keys we already asked for: the pool ran out within one round trip to the
  // peer. At most once per offer (goal_adjusted), the pool goal then moves:
  //  - down when our messages queue on the way longer than a quarter of retransmit_after: at
  //    least halved, and in proportion to how far past that bound they queue, so that one round
  //    trip corrects it. Every key we hold or have in flight was generated by the peer, and every
  //    message in flight waits in its queues: a receiver shared by many senders serves each at
  //    its share of its rate whatever their pools, so a big pool only lengthens that queue
  //    (towards the retransmission timeout: messages sent twice) and the peer's stock of issued
  //    keys. The senders' small pools together still keep it busy. Never below a quarter of
  //    pool_target, nor below what we sent in a sixteenth of retransmit_after: a sender that is
  //    the receiver's only traffic (large messages queue a while as a matter of course) keeps
  //    enough keys to go on sealing while its request for more waits behind its own messages.
  //  - up, doubled up to max_keys_per_peer, when they queue less than half that: a steady stream
  //    to a peer that keeps up then does not stall on every refill; but never beyond the
  //    messages sent to the peer in half retransmit_after, so one of many senders with a small
  //    part of the traffic keeps a small pool.
  void note_starved(peer_state& p, time_point now) {
    if (p.requested == 0 || p.goal_adjusted) return;
    const duration queued = queueing(p, now);
    const duration queue_bound = opts.retransmit_after / 4;
    if (queued > queue_bound) {
      const std::size_t smallest = std::max<std::size_t>(
          {1, opts.pool_target / 4, std::max(p.sent_last_window, p.sent_in_window) / 8});
      if (p.pool_goal > smallest) {
        const double past =
            static_cast<double>(queue_bound.count()) / static_cast<double>(queued.count());  // < 1
        const auto scaled = static_cast<std::size_t>(static_cast<double>(p.pool_goal) * past);
        p.pool_goal = std::max(smallest, std::min(p.pool_goal / 2, scaled));
        p.goal_adjusted = true;
      }
      return;
    }
    if (queued > queue_bound / 2) return;  // (between the two: it stays)
    const std::size_t grown = std::min(2 * p.pool_goal, opts.max_keys_per_peer);
    if (grown > std::max(p.sent_last_window, p.sent_in_window)) return;
    p.pool_goal = grown;
    p.goal_adjusted = true;
  }

  // ---- keys we issue ----
  // Generates one one-time pair for `peer`, keeps its private half in the store, and returns
  // the public half as it goes on the wire.
  result<wire::offered_key> issue_key(peer_id id, peer_state& p, time_point now) {
    wire::offered_key k;
    k.id = random.next_guid();
    k.ttl_ms = to_ms(opts.key_ttl);
    status s = store.insert(id, k.id, now + opts.key_ttl, [&](mutable_secret_key_view secret) {
      k.key = key_gen.next(secret);
      return k.key;
    });
    if (!s.ok()) return s;
    count(p, &counters::keys_generated);
    return k;
  }

  // ---- grants: how many keys a peer may have from us ----
  // Keys the peer used (messages from it that opened) in windows of key_ttl.
  void roll_used_window(peer_state& p, time_point now) {
    if (now - p.used_window_start < opts.key_ttl) return;
    p.used_last_window = now - p.used_window_start < 2 * opts.key_ttl ? p.used_in_window : 0;
    p.used_in_window = 0;
    p.used_window_start = now;
  }

  void note_used(peer_state& p, time_point now) {
    roll_used_window(p, now);
    ++p.used_in_window;
    p.proven = true;
  }

  // The unused keys the peer may hold: pool_target until it has used one, then twice its use of
  // the last one to two key_ttl, up to max_keys_per_peer.
  std::size_t allowance(peer_state& p, time_point now) {
    if (!p.proven) return opts.pool_target;
    roll_used_window(p, now);
    const std::size_t used = p.used_in_window + p.used_last_window;
    return std::clamp(2 * used, opts.pool_target, opts.max_keys_per_peer);
  }

  void grant(peer_id id, peer_state& p, std::uint32_t wanted, time_point now, bool defer_offers) {
    if (authenticated) replace_lost_offers(id, p, wanted, now);
    const std::size_t allowed = allowance(p, now);
    const std::size_t held = store.live(id) + p.keys_owed;
    std::size_t n = std::min<std::size_t>(wanted, allowed - std::min(allowed, held));
    enum class bound : std::uint8_t {
      allowance,
      unproven_budget,
      grant_rate
    } by = bound::allowance;
    if (n > 0 && !p.proven) {
      const std::size_t paid = budget_of(p).take(n, now);
      if (paid < n) by = bound::unproven_budget;
      n = paid;
    }
    const std::size_t capped = p.grant_bucket.take(n, now);
    if (capped < n) by = bound::grant_rate;
    n = capped;
    // Reported within the peer's budget of reports: a peer asking for everything on every frame
    // must not make us build an event per frame.
    if (n < wanted) {
      count(p, &counters::key_requests_trimmed);
      if (p.refusal_reports.take(1, now) == 1) {
        std::string named;
        switch (by) {
          case bound::allowance:
            named = "its allowance (" + std::to_string(allowed) +
                    ": pool_target until it uses keys, then twice its use, at most "
                    "max_keys_per_peer)";
            break;
          case bound::unproven_budget:
            named = "unproven_grant_rate (" + std::to_string(opts.unproven_grant_rate) +
                    "/s for the peers of its group that have used no key yet)";
            break;
          case bound::grant_rate:
            named = "key_grant_rate (" + std::to_string(opts.key_grant_rate) + "/s)";
            break;
        }
        emit_event(event_kind::frame_rejected, id, guid{}, 0,
                   n == 0 ? errc::rate_limited : errc::limit_exceeded,
                   "asked for " + std::to_string(wanted) + " keys, granted " + std::to_string(n) +
                       ", bounded by " + named);
      } else {
        ++total.events_dropped;
      }
    }
    p.keys_owed += n;
    if (n > 0) {
      if (defer_offers) {
        if (!p.offers_due) p.offers_due = now + opts.ack_delay;
      } else {
        p.offers_due.reset();
      }
    }
  }

  // max_keys_total is reached: unused keys of the biggest holders give way, one at a time, to a
  // peer that holds fewer, so a newcomer is always served however many keys others took.
  void make_room(peer_id id, peer_state& p, std::size_t n, time_point now) {
    std::size_t free = opts.max_keys_total - std::min(opts.max_keys_total, store.live());
    std::size_t retired = 0;
    while (free < n) {
      const std::optional<keys::peer_id> victim = store.largest_holder();
      if (!victim || *victim == id || store.live(*victim) <= store.live(id) + 1) break;
      if (store.retire_oldest(*victim, 1) == 0) break;
      ++free;
      ++retired;
      if (auto it = peers.find(*victim); it != peers.end()) {
        count(it->second, &counters::keys_retired);
        count(it->second, &counters::keys_destroyed);
      }
    }
    if (retired > 0 && p.refusal_reports.take(1, now) == 1) {
      emit_event(event_kind::frame_rejected, id, guid{}, 0, errc::limit_exceeded,
                 "max_keys_total (" + std::to_string(opts.max_keys_total) + ") reached: retired " +
                     std::to_string(retired) +
                     " unused keys of the largest holders to grant this peer");
    }
  }

  // ---- control blocks ----
  bool offers_ready(const peer_state& p, time_point now) const {
    return p.keys_owed > 0 && (!p.offers_due || *p.offers_due <= now);
  }

  // Everything owed to the peer that can ride on the next frame. `urgent_only` leaves the
  // acknowledgements that are not yet due (they wait to ride on other traffic).
  wire::control_block take_control(peer_id id, peer_state& p, time_point now, bool on_data) {
    wire::control_block block;
    block.instance = instance;
    block.about_sender = own_hello;
    const std::size_t want = keys_to_request(p, now);
    if (want > 0) {
      block.wanted = static_cast<std::uint32_t>(want);
      p.requested += want;
      p.requested_at = now;
    }
    // Offers owed: on a data frame they always ride along; alone only once due.
    if (p.keys_owed > 0 && (on_data || offers_ready(p, now))) {
      const std::size_t room =
          opts.max_keys_per_peer - std::min(opts.max_keys_per_peer, store.live(id));
      const std::size_t n = std::min({p.keys_owed, room, limits.max_offers});
      make_room(id, p, n, now);
      bool failed = false;
      while (block.offers.size() < n) {
        auto k = issue_key(id, p, now);
        if (!k.ok()) {
          emit_event(event_kind::frame_rejected, id, guid{}, 0, k.error().code(),
                     "could not issue a key: " + k.error().message());
          failed = true;
          break;
        }
        block.offers.push_back(*k);
      }
      count(p, &counters::keys_offered, block.offers.size());
      if (!block.offers.empty()) p.last_offered_at = now;
      // A grant above max_offers goes out in several blocks, the next one due at once.
      const bool more = !failed && n == limits.max_offers && p.keys_owed > n;
      p.keys_owed = more ? p.keys_owed - n : 0;
      if (more) {
        p.offers_due = now;
      } else {
        p.offers_due.reset();
      }
    }
    block.acks = std::move(p.acks);
    p.acks.clear();
    p.acks_due.reset();
    block.rejections = std::move(p.rejections);
    p.rejections.clear();
    p.rejections_urgent = false;
    return block;
  }

  bool control_due(peer_state& p, time_point now) {
    if (p.auth.confirm_due) return true;
    if (p.rejections_urgent && !p.rejections.empty()) return true;
    if (offers_ready(p, now)) return true;
    if (keys_to_request(p, now) > 0) return true;
    const std::size_t answers = p.acks.size() + p.rejections.size();
    return answers > 0 && (answers >= opts.ack_batch || (p.acks_due && *p.acks_due <= now));
  }

  void emit_control(peer_id id, peer_state& p, time_point now) {
    wire::control_block block = take_control(id, p, now, false);
    if (block.empty() && !p.auth.confirm_due) return;
    transmit t;
    t.peer = id;
    if (authenticated) {
      auth_session& s = *p.auth.session;
      const wire::mac_layout m = wire::encode_control_v2(s.next_seq++, block, t.frame);
      auth::mac(s.send_key(), m.covered, m.mac);
      p.auth.confirm_due = false;
    } else {
      wire::encode_control(block, t.frame);
    }
    p.hello_sent = true;
    count(p, &counters::frames_sent);
    count(p, &counters::control_frames_sent);
    count(p, &counters::bytes_sent, t.frame.size());
    transmits.push_back({std::move(t), guid{}});
  }

  // ---- the next seal's agreement, done ahead (engine::prepare_seal) ----
  std::span<byte, hpke::secret_size> prepared_secret() {
    return scratch.bytes(prepared_slot).first<hpke::secret_size>();
  }

  void wipe_prepared() noexcept {
    if (!prepared) return;
    const auto secret = scratch.bytes(prepared_slot);
    sodium_memzero(secret.data(), secret.size());
    prepared.reset();
  }

  // The prepared agreement when it is for `key_id` of `peer`; a seal to another key of that
  // peer means it was not the key taken (expired, refused, or a reply key came first): wiped.
  std::optional<prepared_seal> take_prepared(peer_id peer, const guid& key_id) {
    if (!prepared || prepared->peer != peer) return std::nullopt;
    if (prepared->key_id == key_id) return prepared;
    wipe_prepared();
    return std::nullopt;
  }

  void prepare_seal(peer_id id, time_point now) {
    if (!init_status.ok()) return;
    auto it = peers.find(id);
    if (it == peers.end()) return;
    peer_state& p = it->second;
    if (authenticated && !p.auth.session) return;
    // The key take_key() would give the next seal to this peer.
    if (usable(p, now) == 0) return;
    const peer_key& key = p.reply_keys.empty() ? p.offered_keys.front() : p.reply_keys.front();
    if (prepared && prepared->peer == id && prepared->key_id == key.id) return;
    wipe_prepared();
    auto ephemeral_secret = scratch.bytes(scratch_slot).first<secret_key_size>();
    const hpke::ephemeral_key eph{ephemeral_secret, key_gen.next(ephemeral_secret)};
    public_key enc;
    const status s = hpke::encap_base(key.key, eph, prepared_secret(), enc);
    sodium_memzero(ephemeral_secret.data(), ephemeral_secret.size());
    // A key that cannot be sealed to is left to the seal, which reports and drops it.
    if (s.ok()) prepared = prepared_seal{id, key.id, enc};
  }

  // ---- sealing ----
  // Seals `m` to `key` and queues the frame. The message then waits in `unacked`.
  // What the peer cannot accept, by what it announced (nullopt: nothing known against it).
  std::optional<std::pair<errc, std::string>> refused_by_peer(const peer_state& p,
                                                              std::size_t parts,
                                                              std::size_t bytes) const {
    if (!p.told) return std::nullopt;
    const auto peer_aead = static_cast<hpke::aead_id>(p.told->aead);
    if ((peer_aead != hpke::aead_id::chacha20_poly1305 &&
         peer_aead != hpke::aead_id::aes_256_gcm) ||
        !hpke::aead_available(peer_aead)) {
      return std::pair{errc::unavailable, "the peer opens with AEAD " +
                                              std::to_string(p.told->aead) +
                                              ", which this endpoint cannot seal with"};
    }
    if (bytes > p.told->max_message_bytes) {
      return std::pair{errc::message_too_large,
                       std::to_string(bytes) + " bytes exceeds the peer's max_message_size (" +
                           std::to_string(p.told->max_message_bytes) + ")"};
    }
    if (parts > p.told->max_parts) {
      return std::pair{errc::limit_exceeded, std::to_string(parts) +
                                                 " parts exceeds the peer's max_parts (" +
                                                 std::to_string(p.told->max_parts) + ")"};
    }
    return std::nullopt;
  }

  void seal_and_send(peer_id id, peer_state& p, outgoing_message&& m, const peer_key& key,
                     time_point now) {
    if (authenticated && !p.auth.session) {
      // No session (yet, or any more): the message waits for one.
      p.queue.push_front(std::move(m));
      return;
    }
    // Against the peer's announced limits only before the first transmission: a copy of a
    // message sent before the hello came may have been delivered, and the peer answers for it.
    if (auto refused = refused_by_peer(p, m.parts, m.bytes);
        refused && (m.attempts == 0 || refused->first == errc::unavailable)) {
      give_up(id, p, m, refused->second, refused->first);
      return;
    }
    // A message sealed to a reply key answers the peer's request: nothing answers it in turn,
    // so it carries no reply key of its own whatever its flow.
    if (m.how == flow::pull && !m.reply_key && !key.reply) {
      auto rk = issue_key(id, p, now);
      if (rk.ok()) {
        m.reply_key = *rk;
      } else {
        // No room for a reply key: the message still goes, the reply will use a pooled key.
        emit_event(event_kind::frame_rejected, id, guid{}, m.id, rk.error().code(),
                   "no reply key attached: " + rk.error().message());
      }
    }
    wire::control_block block = take_control(id, p, now, true);
    // A peer we give a reply key must know which AEAD we open with: tell it at least once.
    const bool has_control = !block.empty() || (m.reply_key && !p.hello_sent);
    if (has_control) p.hello_sent = true;

    // The agreement prepare_seal() did for this very key, if any: else ours, now.
    std::optional<prepared_seal> ahead = take_prepared(id, key.id);
    auto ephemeral_secret = scratch.bytes(scratch_slot).first<secret_key_size>();
    hpke::ephemeral_key eph{ephemeral_secret, ahead ? ahead->enc : key_gen.next(ephemeral_secret)};

    transmit t;
    t.peer = id;
    t.carries_data = true;
    const std::size_t payload_size = wire::payload_size(m.content.parts);
    const std::size_t ct_size = payload_size + hpke::tag_size;
    if (ct_size >= min_recycled_frame) {
      // The encoder clears it and reserves what it needs: a spare at least as large is reused.
      if (!spare_frames.empty()) {
        t.frame = std::move(spare_frames.back());
        spare_frames.pop_back();
        spare_bytes -= t.frame.capacity();
      }
      // Room for a larger header than this one (a control block with offers rides on some
      // frames), so that the buffer serves the next frames of this size when it comes back.
      // Untouched, the slack costs no page.
      if (t.frame.capacity() < ct_size + frame_header_slack) {
        t.frame = std::vector<byte>();
        t.frame.reserve(ct_size + frame_header_slack);
      }
    }
    wire::data_layout layout;
    if (authenticated) {
      // The MAC is part of the associated data, so it is written before the seal.
      auth_session& session = *p.auth.session;
      const wire::data_layout_v2 v2 =
          wire::encode_data_v2(session.next_seq++, key.id, eph.public_value, m.reply_key,
                               has_control ? &block : nullptr, ct_size, m.content.parts, t.frame);
      auth::mac(session.send_key(), v2.mac.covered, v2.mac.mac);
      layout = {v2.associated_data, v2.ciphertext};
      p.auth.confirm_due = false;
    } else {
      layout = wire::encode_data(key.id, eph.public_value, m.reply_key,
                                 has_control ? &block : nullptr, ct_size, m.content.parts, t.frame);
    }
    public_key enc;
    const auto peer_aead =
        p.told ? static_cast<hpke::aead_id>(p.told->aead) : hpke::aead_id::chacha20_poly1305;
    // The encoder wrote the parts where their ciphertext goes, and they are encrypted there (the
    // AEAD works in place): one copy from the owner's buffers per seal, no buffer zeroed first.
    const mutable_byte_view plaintext = layout.ciphertext.first(payload_size);
    status s;
    if (ahead) {
      s = hpke::seal_base_encapsulated(peer_aead, prepared_secret(), info_bytes(),
                                       layout.associated_data, plaintext, layout.ciphertext);
      wipe_prepared();
      if (s.ok()) count(p, &counters::seals_prepared);
    } else {
      s = hpke::seal_base(peer_aead, key.key, info_bytes(), layout.associated_data, plaintext, eph,
                          enc, layout.ciphertext);
    }
    sodium_memzero(ephemeral_secret.data(), ephemeral_secret.size());
    if (!s.ok()) {
      // The frame is dropped; the plaintext written into it goes first.
      sodium_memzero(layout.ciphertext.data(), layout.ciphertext.size());
      // Only a low-order public key from the peer can make sealing fail: that key is useless.
      emit_event(event_kind::frame_rejected, id, key.id, m.id, s.code(),
                 "cannot seal to this peer key: " + s.message());
      count(p, &counters::keys_discarded);
      p.queue.push_front(std::move(m));
      return;
    }
    count(p, &counters::messages_sealed);
    if (m.attempts == 0) note_sent(p, now);
    if (m.attempts > 0) count(p, &counters::messages_resent);
    count(p, &counters::frames_sent);
    count(p, &counters::bytes_sent, t.frame.size());
    transmits.push_back({std::move(t), key.id});

    m.key = key;
    m.last_sent_at = now;
    ++m.attempts;
    const guid key_id = key.id;
    const message_id message = m.id;
    p.unacked.push_back(std::move(m));
    p.unacked_by_key[key_id] = std::prev(p.unacked.end());
    p.unacked_by_id[message] = std::prev(p.unacked.end());
  }

  // Puts the peer's pending work on the wire: queued messages while keys last, then a control
  // frame if something cannot wait for other traffic.
  void flush(peer_id id, peer_state& p, time_point now) {
    if (authenticated && !p.auth.session) {
      // Nothing goes to a peer without a session; an initiator starts one when it has reason.
      if (initiator && wants_handshake(p)) {
        if (const auto t = next_initiate(p); !t || *t <= now) start_initiate(id, p, now);
      }
      timers.schedule(id, p.scheduled, peer_deadline(p));
      return;
    }
    while (!p.queue.empty()) {
      auto key = take_key(p, now);
      if (!key) {
        note_starved(p, now);
        break;
      }
      outgoing_message m = std::move(p.queue.front());
      p.queue.pop_front();
      seal_and_send(id, p, std::move(m), *key, now);
    }
    // More than one control frame only for a grant above max_offers (one block each); the
    // bound only guards against a block that would owe itself another.
    for (int blocks = 0; blocks < 64 && control_due(p, now); ++blocks) emit_control(id, p, now);
    timers.schedule(id, p.scheduled, peer_deadline(p));
  }

  // ---- acknowledgement and rejection of our messages ----
  std::optional<outgoing_message> take_unacked(peer_state& p, const guid& key) {
    auto it = p.unacked_by_key.find(key);
    if (it == p.unacked_by_key.end()) return std::nullopt;
    return take_unacked(p, it->second);
  }

  outgoing_message take_unacked(peer_state& p, std::list<outgoing_message>::iterator it) {
    outgoing_message m = std::move(*it);
    p.unacked.erase(it);
    p.unacked_by_key.erase(m.key->id);
    p.unacked_by_id.erase(m.id);
    return m;
  }

  void give_up(peer_id id, peer_state& p, outgoing_message& m, std::string_view why,
               errc reason = errc::undeliverable) {
    count(p, &counters::messages_undeliverable);
    const guid key = m.key ? m.key->id : guid{};
    emit_event(event_kind::message_undeliverable, id, key, m.id, reason, why);
    m.content = {};  // released now (an engine's copy is wiped), whenever `m` itself goes
  }

  // A block's rejections, each key acted on once: a block that names one key a thousand times
  // costs us what naming it once does.
  void on_rejections(peer_id id, peer_state& p, const std::vector<wire::rejection>& rejections,
                     time_point now) {
    if (rejections.size() == 1) {
      on_rejection(id, p, rejections.front(), now);
      return;
    }
    std::unordered_set<guid> seen;
    seen.reserve(rejections.size());
    for (const auto& r : rejections) {
      if (seen.insert(r.id).second) {
        on_rejection(id, p, r, now);
      } else {
        count(p, &counters::rejections_ignored);
      }
    }
  }

  // A rejection of one of our data frames (see answer_to for what each reason means).
  // Each transmission is answered once, and re-seals are capped per message, so the peer's
  // rejections cost us at most max_rejection_resends copies of a message beyond the timer's.
  void on_rejection(peer_id id, peer_state& p, const wire::rejection& r, time_point now) {
    const rejection_answer answer = answer_to(r.reason);
    // replayed_key: the key was used, but not necessarily by this message (a duplicated offer,
    // or someone else sealing to a key they saw offered): only an acknowledgement says it was
    // delivered. Until one comes the message stays unacknowledged; without one it is reported.
    if (answer == rejection_answer::wait_for_acknowledgement) return;
    auto it = p.unacked_by_key.find(r.id);
    if (it == p.unacked_by_key.end()) return;  // acknowledged or given up: a duplicate's rejection
    outgoing_message& pending = *it->second;
    if (pending.answered_attempt == pending.attempts) {
      count(p, &counters::rejections_ignored);  // this transmission was answered already
      return;
    }
    pending.answered_attempt = pending.attempts;
    if (answer == rejection_answer::retransmit_later) return;  // the timer sends it again
    if (answer == rejection_answer::give_up) {
      outgoing_message m = take_unacked(p, it->second);
      give_up(id, p, m,
              std::string("the peer refused it: ") + std::string(to_string(r.reason)) +
                  " (it cannot be accepted there; not re-sent)",
              r.reason);
      return;
    }
    const bool same_key = answer == rejection_answer::same_key;
    // Same key: only while we may still use it; a copy may yet have opened there, so never a
    // new key for these (the timer and the acknowledgement settle it).
    const bool key_usable = pending.key && pending.key->usable_until > now;
    if (pending.rejection_resends >= opts.max_rejection_resends || (same_key && !key_usable)) {
      // Re-seals used up: only the retransmission timer sends it again, at its own pace (under
      // a new key if the peer said this one is dead).
      count(p, &counters::rejections_ignored);
      if (!same_key) pending.needs_new_key = true;
      return;
    }
    outgoing_message m = take_unacked(p, it->second);
    emit_event(event_kind::message_rejected, id, r.id, m.id, r.reason,
               std::string("peer refused our frame: ") + std::string(to_string(r.reason)));
    ++m.rejection_resends;
    if (same_key) {
      // A damaged copy reached the peer; its key is still live there, so send ours again.
      const peer_key key = *m.key;
      seal_and_send(id, p, std::move(m), key, now);
      return;
    }
    // The peer certainly did not open it (unknown or expired key): re-seal under a new key.
    m.key.reset();
    p.queue.push_front(std::move(m));
    if (r.reason == errc::unknown_key) {
      // The peer forgot the keys it gave us without changing instance (it dropped our state):
      // the rest of our pool from it is as dead, so drop it and ask afresh instead of burning
      // one round trip per stale key.
      const std::size_t stale = p.offered_keys.size() + p.reply_keys.size();
      p.offered_keys.clear();
      p.reply_keys.clear();
      count(p, &counters::keys_discarded, stale);
      p.requested = 0;
    }
  }

  void on_peer_restart(peer_id id, peer_state& p, const guid& new_instance) {
    if (prepared && prepared->peer == id) wipe_prepared();
    const std::size_t dropped = p.reply_keys.size() + p.offered_keys.size();
    p.reply_keys.clear();
    p.offered_keys.clear();
    count(p, &counters::keys_discarded, dropped);
    const std::size_t destroyed = store.drop_peer(id);
    count(p, &counters::keys_destroyed, destroyed);
    p.requested = 0;
    p.keys_owed = 0;
    p.offers_due.reset();
    p.acks.clear();
    p.acks_due.reset();
    p.rejections.clear();
    p.rejections_urgent = false;
    p.failed_opens.clear();
    p.told.reset();
    p.hello_sent = false;
    // The new instance has used none of our keys: its grants start from scratch.
    p.proven = false;
    p.used_in_window = p.used_last_window = 0;
    // What the old instance may or may not have processed cannot be known: report it rather
    // than risk delivering it twice. Queued messages were never sent and simply go to the new one.
    for (auto& m : p.unacked) {
      give_up(id, p, m,
              "peer restarted before acknowledging; it may or may not have been processed");
    }
    p.unacked.clear();
    p.unacked_by_key.clear();
    p.unacked_by_id.clear();
    count(p, &counters::peer_restarts);
    emit_event(event_kind::peer_restarted, id, new_instance, 0, errc::ok,
               "peer restarted as instance " + new_instance.short_hex() +
                   "; keys of its old instance dropped");
  }

  // Applies a control block received from the peer. `defer_offers` when the frame expects a
  // reply: the keys it asks for then ride on that reply.
  void apply_control(peer_id id, peer_state& p, const wire::control_block& block, time_point now,
                     bool defer_offers) {
    if (p.instance && *p.instance != block.instance) {
      // A restart costs us a drop and a fresh grant: at most one per peer_restart_interval.
      if (!p.restart_budget.take(1, now)) {
        (void)report_refusal(id, p, guid{}, errc::rate_limited,
                             "a new instance announced sooner than peer_restart_interval after "
                             "the last restart; the control block is ignored",
                             now);
        return;
      }
      on_peer_restart(id, p, block.instance);
    }
    p.instance = block.instance;
    if (block.about_sender) p.told = block.about_sender;

    if (block.wanted > 0) grant(id, p, block.wanted, now, defer_offers);

    if (!block.offers.empty()) {
      const std::size_t room =
          opts.max_keys_per_peer -
          std::min(opts.max_keys_per_peer, p.offered_keys.size() + p.reply_keys.size());
      const std::size_t n = std::min(room, block.offers.size());
      for (std::size_t i = 0; i < n; ++i) {
        const auto& o = block.offers[i];
        const time_point until = now + std::chrono::milliseconds(o.ttl_ms) - opts.expiry_margin;
        if (until <= now) continue;
        // A duplicated offer frame must not let two messages share one key: the second would
        // meet a burned key, and a duplicated acknowledgement of the first would pass for the
        // second's.
        if (p.unacked_by_key.count(o.id) != 0 || holds_key(p.offered_keys, o.id) ||
            p.spent.contains(o.id, now)) {
          continue;
        }
        p.offered_keys.push_back({o.id, o.key, until});
      }
      count(p, &counters::keys_received, n);
      if (n < block.offers.size()) count(p, &counters::keys_discarded, block.offers.size() - n);
      p.requested -= std::min(p.requested, block.offers.size());
      p.goal_adjusted = false;
    }

    for (const guid& a : block.acks) {
      if (auto m = take_unacked(p, a)) {
        count(p, &counters::messages_acknowledged);
        if (m->attempts == 1) p.rto.on_sample(now - m->last_sent_at);
      }  // its payload is wiped as it goes
    }
    if (!block.rejections.empty()) on_rejections(id, p, block.rejections, now);
  }

  // Authenticated mode: a peer that asks again, key_request_retry after our last offer, while
  // holding (by our count) its whole allowance did not get those offers: a frame carrying them
  // was lost or spoiled on the way (a MAC that fails drops the whole frame). Its request is
  // authenticated, so it is the peer's own word: its oldest unused keys are destroyed to make
  // room for new ones, instead of leaving it without keys until they expire. Base mode cannot
  // tell a genuine request from a forged one and keeps the allowance as it is.
  void replace_lost_offers(peer_id id, peer_state& p, std::uint32_t wanted, time_point now) {
    if (wanted == 0 || !p.last_offered_at || now - *p.last_offered_at < opts.key_request_retry) {
      return;
    }
    const std::size_t allowed = allowance(p, now);
    const std::size_t held = store.live(id) + p.keys_owed;
    if (held + wanted <= allowed) return;
    const std::size_t lost = std::min<std::size_t>(held + wanted - allowed, store.live(id));
    const std::size_t retired = store.retire_oldest(id, lost);
    if (retired == 0) return;
    count(p, &counters::keys_retired, retired);
    count(p, &counters::keys_destroyed, retired);
    if (p.refusal_reports.take(1, now) == 1) {
      emit_event(
          event_kind::frame_rejected, id, guid{}, 0, errc::expired_key,
          "the peer asked for keys again while holding its allowance: " + std::to_string(retired) +
              " keys offered earlier were lost on the way; destroyed and offered anew");
    }
  }

  // ---- accepting messages (engine::send) ----
  // A message without an owner is copied once it is accepted.
  result<message_id> accept(peer_id id, message_parts&& message, time_point now,
                            const send_options& how) {
    if (!init_status.ok()) return init_status;
    if (message.parts.empty() || message.parts.size() > opts.max_parts) {
      return status(errc::invalid_argument,
                    describe(id, nullptr,
                             "a message has 1 to max_parts (" + std::to_string(opts.max_parts) +
                                 ") parts, got " + std::to_string(message.parts.size())));
    }
    std::size_t bytes = 0;
    for (const auto& part : message.parts) bytes += part.size();
    if (bytes > opts.max_message_size) {
      return status(errc::message_too_large,
                    describe(id, nullptr,
                             std::to_string(bytes) + " bytes exceeds max_message_size (" +
                                 std::to_string(opts.max_message_size) + ")"));
    }
    auto& p = peer(id, now);
    if (p.queue.size() >= opts.max_queued_per_peer) {
      return status(errc::limit_exceeded,
                    describe(id, nullptr,
                             "max_queued_per_peer (" + std::to_string(opts.max_queued_per_peer) +
                                 ") messages already wait for a key"));
    }
    if (p.unacked.size() >= opts.max_unacknowledged_per_peer) {
      return status(errc::limit_exceeded,
                    describe(id, nullptr,
                             "max_unacknowledged_per_peer (" +
                                 std::to_string(opts.max_unacknowledged_per_peer) +
                                 ") messages await acknowledgement"));
    }
    // Against what the peer announced it accepts: refused here rather than there.
    if (auto refused = refused_by_peer(p, message.parts.size(), bytes)) {
      return status(refused->first, describe(id, nullptr, refused->second));
    }
    outgoing_message m;
    m.id = next_message++;
    m.how = how.use_flow.value_or(p.default_flow.value_or(opts.default_flow));
    m.accepted_at = now;
    m.parts = message.parts.size();
    m.bytes = bytes;
    if (!message.owner) {
      // Lent parts: copied into a buffer of ours, wiped when the message goes.
      auto copy = std::make_shared<plaintext_buffer>(bytes);
      std::size_t at = 0;
      for (byte_view& part : message.parts) {
        if (!part.empty()) std::memcpy(copy->data() + at, part.data(), part.size());
        part = byte_view(copy->data() + at, part.size());
        at += part.size();
      }
      message.owner = std::move(copy);
    }
    m.content = std::move(message);
    // A peer with no reply key waiting for us needs a pool of its offered keys.
    if (p.reply_keys.empty()) p.wants_pool = true;
    const message_id accepted = m.id;
    p.queue.push_back(std::move(m));
    flush(id, p, now);
    return accepted;
  }

  // ---- withdrawing messages for another peer (engine::withdraw, PROTOCOL.md §11.6, §11.7) ----
  std::vector<withdrawn_message> withdraw(peer_id id, std::span<const guid> keys, time_point now) {
    std::vector<withdrawn_message> out;
    const auto found = peers.find(id);
    if (found == peers.end()) return out;
    peer_state& p = found->second;
    // Sorted, not hashed: the key ids were chosen by the peer (they come from its offers).
    std::vector<guid> listed(keys.begin(), keys.end());
    std::sort(listed.begin(), listed.end(), guid_before);
    const auto is_listed = [&](const std::optional<peer_key>& k) {
      return k && std::binary_search(listed.begin(), listed.end(), k->id, guid_before);
    };

    std::vector<outgoing_message> taken;
    for (auto it = p.unacked.begin(); it != p.unacked.end();) {
      const auto next = std::next(it);
      if (is_listed(it->key) && !reply_opened(*it, now)) taken.push_back(take_unacked(p, it));
      it = next;
    }
    std::deque<outgoing_message> kept;
    for (auto& m : p.queue) {
      // A queued message still holding its key waits for a session (authenticated mode) after
      // it was sent under that key; one without was never sent, or its key was refused.
      const bool never_sent = m.attempts == 0;
      if ((never_sent || is_listed(m.key)) && !reply_opened(m, now)) {
        taken.push_back(std::move(m));
      } else {
        kept.push_back(std::move(m));
      }
    }
    p.queue = std::move(kept);
    if (taken.empty()) return out;

    std::sort(taken.begin(), taken.end(),
              [](const outgoing_message& x, const outgoing_message& y) { return x.id < y.id; });
    std::vector<guid> held_back;
    out.reserve(taken.size());
    for (outgoing_message& m : taken) {
      if (m.key) {
        // Never sealed to again: a duplicated offer of it must not carry another message there,
        // where a late copy of this one could have used it.
        p.spent.add(m.key->id, now);
        held_back.push_back(m.key->id);
      }
      if (m.reply_key) destroy_reply_key(p, m.reply_key->id);
      withdrawn_message w;
      w.id = m.id;
      w.how = m.how;
      w.key_id = m.key ? m.key->id : guid{};
      w.owner = std::move(m.content.owner);
      w.parts = std::move(m.content.parts);
      count(p, &counters::messages_withdrawn);
      out.push_back(std::move(w));
    }
    drop_pending_data(id, held_back);
    timers.schedule(id, p.scheduled, peer_deadline(p));
    return out;
  }

  // Whether the peer answered `m` (pull): its reply key opened a reply, so the peer read it,
  // whatever the caller of withdraw() believes.
  bool reply_opened(const outgoing_message& m, time_point now) const {
    return m.reply_key && store.state(m.reply_key->id, now) == keys::key_state::used;
  }

  // Our reply key for a message taken from the peer: the reply would come from where the
  // message no longer goes. Destroyed now (zeroed); a reply sealed to it reads as expired_key.
  void destroy_reply_key(peer_state& p, const guid& key) {
    p.failed_opens.erase(key);
    if (store.retire(key).ok()) count(p, &counters::keys_destroyed);
  }

  // Data frames to `id` sealed to one of `keys` that poll_transmit() has not handed out yet:
  // they must not leave now that their messages go elsewhere.
  void drop_pending_data(peer_id id, std::vector<guid>& keys) {
    if (keys.empty() || transmits.empty()) return;
    std::sort(keys.begin(), keys.end(), guid_before);
    std::erase_if(transmits, [&](const pending_transmit& t) {
      return t.frame.peer == id && t.frame.carries_data &&
             std::binary_search(keys.begin(), keys.end(), t.data_key, guid_before);
    });
  }

  // ---- authenticated mode (PROTOCOL.md §12) ----
  secret_key_view own_secret() const { return detail::identity_access::secret(*opts.auth.self); }
  const public_key& own_public() const { return opts.auth.self->public_value(); }
  const public_key& responder_key() const { return *opts.auth.peer_key; }
  std::span<byte, 32> prk_slot() { return auth_scratch.bytes(auth_scratch_slot).first<32>(); }
  std::span<const byte, 32> initiator_prk() const {
    return auth_scratch.bytes(initiator_prk_slot).first<32>();
  }
  auth::mac_key_out key_slot() { return auth_scratch.bytes(auth_scratch_slot).subspan<32, 32>(); }
  void wipe_scratch() {
    const auto b = auth_scratch.bytes(auth_scratch_slot);
    sodium_memzero(b.data(), b.size());
  }

  void push_control_frame(peer_id id, peer_state& p, std::vector<byte>&& frame) {
    transmit t;
    t.peer = id;
    t.frame = std::move(frame);
    count(p, &counters::frames_sent);
    count(p, &counters::control_frames_sent);
    count(p, &counters::bytes_sent, t.frame.size());
    transmits.push_back({std::move(t), guid{}});
  }

  void report_identity(event_kind kind, peer_id id, const public_key& key, errc reason,
                       std::string_view what) {
    emit_event(kind, id, guid{}, 0, reason, what);
    events.back().peer_key = key;
  }

  // Counts a frame dropped unanswered in authenticated mode and reports it within the peer's
  // report budget. Returns the status receive() gives back.
  template <class Field>
  status drop_frame(peer_id id, peer_state& p, Field field, errc reason, std::string_view what,
                    time_point now) {
    count(p, field);
    count(p, &counters::frames_dropped);
    if (p.refusal_reports.take(1, now) == 1) {
      emit_event(event_kind::frame_rejected, id, guid{}, 0, reason,
                 std::string(to_string(reason)) + ": " + std::string(what));
    } else {
      ++total.events_dropped;
    }
    return status(reason, describe(id, nullptr, what));
  }

  // A frame of the other mode: refused and reported as such (never a fallback, §12.6).
  status wrong_mode(peer_id id, peer_state& p, std::string_view what, time_point now) {
    count(p, &counters::frames_wrong_mode);
    count(p, &counters::frames_dropped);
    if (p.refusal_reports.take(1, now) == 1) {
      emit_event(event_kind::peer_refused, id, guid{}, 0, errc::authentication_required, what);
    } else {
      ++total.events_dropped;
    }
    if (authenticated) send_hello_request(id, p, now);
    return status(errc::authentication_required, describe(id, nullptr, what));
  }

  void send_hello_request(peer_id id, peer_state& p, time_point now) {
    if (p.auth.hello_request_at && now - *p.auth.hello_request_at < hello_request_interval) return;
    p.auth.hello_request_at = now;
    std::vector<byte> frame;
    wire::encode_hello_request(instance, frame);
    push_control_frame(id, p, std::move(frame));
  }

  // The session keys from `prk`: ours to send first, then ours to receive.
  status session_from_prk(std::span<const byte, 32> prk, const auth::transcript& t,
                          locked_slot& out) {
    auto slot = session_keys.allocate();
    if (!slot.ok()) return slot.error();
    out = locked_slot(session_keys, *slot);
    const auto b = out.bytes();
    const auth::mac_key_out first(b.data(), 32);
    const auth::mac_key_out second(b.data() + 32, 32);
    if (initiator) {
      auth::derive_session_keys(prk, t, first, second);
    } else {
      auth::derive_session_keys(prk, t, second, first);
    }
    return status::success();
  }

  // Initiator: when the next initiate may go (nullopt: at once).
  std::optional<time_point> next_initiate(const peer_state& p) const {
    std::optional<time_point> t;
    if (p.auth.initiate_at) t = *p.auth.initiate_at + opts.key_request_retry;
    if (p.auth.refused_at) {
      const time_point r = *p.auth.refused_at + opts.key_request_retry;
      if (!t || r > *t) t = r;
    }
    return t;
  }

  // Initiator without a session: whether it has a reason to start a handshake. A refused one
  // tries again only for a message.
  bool wants_handshake(const peer_state& p) const {
    if (p.auth.refused_at) return !p.queue.empty();
    return !p.queue.empty() || p.wants_pool || p.auth.wants_session;
  }

  void start_initiate(peer_id id, peer_state& p, time_point now) {
    const guid nonce = random.next_guid();
    std::vector<byte> frame;
    auto ephemeral_secret = scratch.bytes(scratch_slot).first<secret_key_size>();
    const hpke::ephemeral_key eph{ephemeral_secret, key_gen.next(ephemeral_secret)};
    const wire::initiate_layout layout =
        wire::encode_initiate(instance, nonce, eph.public_value, frame);
    public_key enc;
    // The identity travels sealed to the responder's static key: only it learns who we are.
    status s =
        hpke::seal_base(hpke::aead_id::chacha20_poly1305, responder_key(), bytes_of(identity_info),
                        layout.identity_aad, own_public().bytes, eph, enc, layout.sealed_identity);
    sodium_memzero(ephemeral_secret.data(), ephemeral_secret.size());
    if (s.ok()) {
      const auth::transcript t{own_public(), responder_key(), instance, {}, nonce, {}};
      auth::derive_initiate_key(initiator_prk(), t, key_slot());
      auth::mac(key_slot(), layout.mac.covered, layout.mac.mac);
    }
    wipe_scratch();
    p.auth.initiate_at = now;
    if (!s.ok()) {
      report_identity(event_kind::peer_refused, id, responder_key(), s.code(),
                      "cannot start a handshake with the configured server key " +
                          to_z85(responder_key()) + ": " + s.message());
      return;
    }
    p.auth.initiate_nonce = nonce;
    p.auth.wants_session = false;
    count(p, &counters::handshakes_started);
    push_control_frame(id, p, std::move(frame));
  }

  void send_accept(peer_id id, peer_state& p, const auth_session& s) {
    std::vector<byte> frame;
    const wire::mac_layout m =
        wire::encode_accept(instance, s.responder_nonce, s.initiator_nonce, frame);
    auth::mac(s.send_key(), m.covered, m.mac);
    push_control_frame(id, p, std::move(frame));
  }

  void refuse_identity(peer_id id, peer_state& p, const auth_session& s, errc reason,
                       std::string_view why) {
    std::vector<byte> frame;
    const wire::mac_layout m = wire::encode_refuse(instance, s.responder_nonce, s.initiator_nonce,
                                                   static_cast<std::uint8_t>(reason), frame);
    auth::mac(s.send_key(), m.covered, m.mac);
    push_control_frame(id, p, std::move(frame));
    count(p, &counters::handshakes_refused);
    report_identity(event_kind::peer_refused, id, s.peer_static, reason,
                    "identity " + to_z85(s.peer_static) + " refused: " + std::string(why));
  }

  void add_pending(peer_state& p, auth_session&& s) {
    if (p.auth.pending.size() >= max_pending_sessions) {
      if (!p.auth.pending.front().approved) --pending_checks;
      p.auth.pending.erase(p.auth.pending.begin());
    }
    p.auth.pending.push_back(std::move(s));
  }

  // Responder: an initiate. Its identity is decided on only after it proved it holds the secret
  // key, so the answer and its timing say nothing of the allow-list to anyone else (§12.4).
  status on_initiate(peer_id id, peer_state& p, const wire::handshake_view& h, time_point now) {
    if (handshakes_of(p, now).take(1, now) != 1) {
      return drop_frame(id, p, &counters::handshakes_dropped, errc::rate_limited,
                        "an initiate beyond handshake_rate (" +
                            std::to_string(opts.auth.handshake_rate) + "/s per connection)",
                        now);
    }
    auth_session fresh;
    status s = hpke::open_base(hpke::aead_id::chacha20_poly1305, h.enc, own_secret(), own_public(),
                               bytes_of(identity_info), h.identity_aad, h.sealed_identity,
                               fresh.peer_static.bytes);
    if (!s.ok()) {
      return drop_frame(id, p, &counters::handshakes_dropped, errc::authentication_failed,
                        "an initiate whose sealed identity does not open: " + s.message(), now);
    }
    fresh.peer_instance = h.instance;
    fresh.initiator_nonce = h.nonce;
    fresh.responder_nonce = random.next_guid();
    const auth::transcript t{fresh.peer_static, own_public(), h.instance,
                             instance,          h.nonce,      fresh.responder_nonce};
    s = auth::derive_prk(own_secret(), fresh.peer_static, prk_slot());
    bool verified = false;
    if (s.ok()) {
      auth::derive_initiate_key(prk_slot(), t, key_slot());
      verified = auth::verify(key_slot(), h.auth->covered, h.auth->mac);
    }
    if (verified) s = session_from_prk(prk_slot(), t, fresh.keys);
    wipe_scratch();
    if (!verified) {
      return drop_frame(id, p, &counters::handshakes_dropped, errc::authentication_failed,
                        "an initiate that does not authenticate as the identity it carries", now);
    }
    if (!s.ok()) {
      return drop_frame(id, p, &counters::handshakes_dropped, s.code(),
                        "no locked memory for a session: " + s.message(), now);
    }
    switch (opts.auth.policy) {
      case peer_policy::any:
        break;
      case peer_policy::allow_list:
        if (!std::binary_search(
                opts.auth.allowed.begin(), opts.auth.allowed.end(), fresh.peer_static,
                [](const public_key& a, const public_key& b) { return a.bytes < b.bytes; })) {
          refuse_identity(id, p, fresh, errc::access_denied, "not on the allow-list");
          return status(errc::access_denied, describe(id, nullptr,
                                                      "identity " + to_z85(fresh.peer_static) +
                                                          " is not on the allow-list"));
        }
        break;
      case peer_policy::ask:
        if (pending_checks >= opts.auth.max_pending_checks) {
          refuse_identity(id, p, fresh, errc::rate_limited,
                          "max_pending_checks (" + std::to_string(opts.auth.max_pending_checks) +
                              ") identities already await a verdict");
          return status(errc::rate_limited, describe(id, nullptr, "too many pending checks"));
        }
        fresh.approved = false;
        ++pending_checks;
        report_identity(event_kind::identity_check, id, fresh.peer_static, errc::ok,
                        "identity " + to_z85(fresh.peer_static) +
                            " authenticated; awaiting resolve_identity()");
        add_pending(p, std::move(fresh));
        return status::success();
    }
    add_pending(p, std::move(fresh));
    send_accept(id, p, p.auth.pending.back());
    return status::success();
  }

  // Both roles: a new session replaces the established one. A session with another instance
  // (or identity) of the peer is a restart (§12.5); one between the same instances only renews
  // the MAC keys and counters.
  void establish(peer_id id, peer_state& p, auth_session&& fresh, time_point now) {
    const bool renewal = p.auth.session && p.auth.session->peer_instance == fresh.peer_instance &&
                         p.auth.session->peer_static == fresh.peer_static;
    if (p.auth.session && !renewal) {
      (void)p.restart_budget.take(1, now);
      on_peer_restart(id, p, fresh.peer_instance);
    }
    p.auth.previous.reset();
    if (renewal && initiator) p.auth.previous = std::move(p.auth.session);
    p.auth.session = std::move(fresh);
    p.auth.refused_at.reset();
    p.auth.wants_session = false;
    p.auth.initiate_nonce.reset();
    p.instance = p.auth.session->peer_instance;
    // The initiator's first frame is what establishes the session at the responder.
    if (initiator) p.auth.confirm_due = true;
    count(p, &counters::handshakes_completed);
    if (!renewal) {
      const auth_session& s = *p.auth.session;
      report_identity(event_kind::peer_authenticated, id, s.peer_static, errc::ok,
                      "session established with identity " + to_z85(s.peer_static) + ", instance " +
                          s.peer_instance.short_hex());
    }
  }

  // Initiator: an accept or refuse.
  status on_answer(peer_id id, peer_state& p, const wire::handshake_view& h, time_point now) {
    if (!p.auth.initiate_nonce || *p.auth.initiate_nonce != h.peer_nonce) {
      return drop_frame(id, p, &counters::handshakes_dropped, errc::authentication_failed,
                        "an answer to no initiate of ours (stale, replayed or forged)", now);
    }
    auth_session fresh;
    fresh.peer_static = responder_key();
    fresh.peer_instance = h.instance;
    fresh.initiator_nonce = h.peer_nonce;
    fresh.responder_nonce = h.nonce;
    const auth::transcript t{own_public(), responder_key(), instance,
                             h.instance,   h.peer_nonce,    h.nonce};
    const status s = session_from_prk(initiator_prk(), t, fresh.keys);
    if (!s.ok()) {
      return drop_frame(id, p, &counters::handshakes_dropped, s.code(),
                        "cannot derive the session: " + s.message(), now);
    }
    if (!auth::verify(fresh.receive_key(), h.auth->covered, h.auth->mac)) {
      return drop_frame(
          id, p, &counters::handshakes_dropped, errc::authentication_failed,
          "an answer whose MAC does not verify under the server key " + to_z85(responder_key()),
          now);
    }
    if (h.step == wire::handshake_step::accept) {
      establish(id, p, std::move(fresh), now);
      return status::success();
    }
    p.auth.initiate_nonce.reset();
    p.auth.refused_at = now;
    count(p, &counters::handshakes_refused);
    const errc reason = h.reason == static_cast<std::uint8_t>(errc::rate_limited)
                            ? errc::rate_limited
                            : errc::access_denied;
    const std::string why = "the server " + to_z85(responder_key()) + " refused our identity " +
                            to_z85(own_public()) + " (" + std::string(to_string(reason)) + ")";
    report_identity(event_kind::peer_refused, id, responder_key(), reason, why);
    for (auto& m : p.queue) give_up(id, p, m, why, errc::access_denied);
    p.queue.clear();
    return status(reason, describe(id, nullptr, why));
  }

  status on_handshake(peer_id id, peer_state& p, const wire::handshake_view& h, time_point now) {
    switch (h.step) {
      case wire::handshake_step::hello_request:
        if (!initiator) {
          return drop_frame(id, p, &counters::handshakes_dropped, errc::authentication_failed,
                            "a hello_request, which a responder ignores", now);
        }
        // Unauthenticated, so it costs at most one handshake per key_request_retry; the
        // current session stays until an accept replaces it.
        if (!p.auth.refused_at) {
          p.auth.wants_session = true;
          if (const auto t = next_initiate(p); !t || *t <= now) start_initiate(id, p, now);
        }
        return status::success();
      case wire::handshake_step::initiate:
        if (initiator) {
          return drop_frame(id, p, &counters::handshakes_dropped, errc::authentication_failed,
                            "an initiate, which an initiator ignores", now);
        }
        return on_initiate(id, p, h, now);
      case wire::handshake_step::accept:
      case wire::handshake_step::refuse:
        if (!initiator) {
          return drop_frame(id, p, &counters::handshakes_dropped, errc::authentication_failed,
                            "an accept or refuse, which a responder ignores", now);
        }
        return on_answer(id, p, h, now);
    }
    return status(errc::internal, "unknown handshake step");
  }

  // A version 2 control or data frame: the session it verifies under, or null (dropped). A
  // responder's pending session is established by the first frame that verifies under it.
  // The sequence number is taken at once for a control frame; for a data frame the caller takes
  // it once the frame opened (commit_seq), since the MAC does not cover the ciphertext: a copy
  // with a damaged ciphertext must not use up the number of the genuine frame.
  auth_session* authenticate(peer_id id, peer_state& p, const wire::frame_auth& a, bool commit,
                             time_point now) {
    if (p.auth.session && auth::verify(p.auth.session->receive_key(), a.covered, a.mac)) {
      auth_session& s = *p.auth.session;
      if (a.seq <= s.highest_seen) {
        (void)drop_frame(id, p, &counters::frames_replayed, errc::replayed_key,
                         "seq " + std::to_string(a.seq) + " is not above " +
                             std::to_string(s.highest_seen) +
                             ": a replayed or reordered frame, dropped",
                         now);
        return nullptr;
      }
      if (commit) s.highest_seen = a.seq;
      p.auth.previous.reset();  // the responder uses the new session: the old one is done
      return &s;
    }
    if (p.auth.previous && auth::verify(p.auth.previous->receive_key(), a.covered, a.mac)) {
      // An answer the responder sent under the session we renewed, before it saw the new one.
      auth_session& s = *p.auth.previous;
      if (a.seq > s.highest_seen) {
        if (commit) s.highest_seen = a.seq;
        return &s;
      }
    }
    for (std::size_t i = p.auth.pending.size(); i-- > 0;) {
      auth_session& c = p.auth.pending[i];
      if (!c.approved || !auth::verify(c.receive_key(), a.covered, a.mac)) continue;
      const bool restart = p.auth.session && (p.auth.session->peer_instance != c.peer_instance ||
                                              p.auth.session->peer_static != c.peer_static);
      if (restart && !p.restart_budget.available(now)) {
        (void)drop_frame(id, p, &counters::rejected_rate_limited, errc::rate_limited,
                         "a new instance sooner than peer_restart_interval after the last "
                         "restart; the frame is dropped",
                         now);
        return nullptr;
      }
      auth_session fresh = std::move(c);
      p.auth.pending.erase(p.auth.pending.begin() + static_cast<std::ptrdiff_t>(i));
      if (commit) fresh.highest_seen = a.seq;
      establish(id, p, std::move(fresh), now);
      return &*p.auth.session;
    }
    (void)drop_frame(id, p, &counters::frames_unauthenticated, errc::authentication_failed,
                     p.auth.session || !p.auth.pending.empty()
                         ? "a frame that does not authenticate under the session"
                         : "a frame from a peer we have no session with",
                     now);
    // Pending sessions do not hold it back: replayed initiates can make pending sessions that no
    // live initiator will ever use, while the genuine one still talks under a session we lost.
    if (!initiator && !p.auth.session) send_hello_request(id, p, now);
    return nullptr;
  }

  // ---- receiving ----
  // A frame under a live key of the peer's did not open: charge the peer's budget, and retire
  // the key once it has failed max_failed_opens_per_key times (its genuine sender, told
  // expired_key, re-seals under another).
  void note_failed_open(peer_id id, peer_state& p, const guid& key, time_point now) {
    (void)p.open_failures.take(1, now);
    if (p.failed_opens.size() >= opts.max_keys_per_peer) {
      // Forget counts of keys that are gone; bounded by the keys the peer holds.
      std::erase_if(p.failed_opens, [&](const auto& e) {
        return store.state(e.first, now) != keys::key_state::live;
      });
    }
    if (++p.failed_opens[key] < opts.max_failed_opens_per_key) return;
    p.failed_opens.erase(key);
    if (store.retire(key).ok()) {
      count(p, &counters::keys_retired);
      count(p, &counters::keys_destroyed);
      emit_event(event_kind::frame_rejected, id, key, 0, errc::authentication_failed,
                 "key retired after " + std::to_string(opts.max_failed_opens_per_key) +
                     " failed opens (max_failed_opens_per_key)");
    }
  }

  // One frame from the wire. `writable` is the frame's own bytes when the caller lets us open it
  // in place (receive_in_place), else null.
  status receive_frame(peer_id id, byte_view frame, byte* writable, time_point now) {
    if (!init_status.ok()) return init_status;
    auto& p = peer(id, now);
    count(p, &counters::frames_received);
    count(p, &counters::bytes_received, frame.size());
    auto decoded = wire::decode(frame, limits);
    if (!decoded.ok()) {
      // A data frame whose key id can still be read is answered (its sender learns at once and
      // the key, untouched, stays live); anything else is dropped. Nothing in a frame that does
      // not decode is acted on.
      const status err = decoded.error();
      // In authenticated mode nothing unauthenticated is answered (§12.6).
      const std::optional<guid> key = authenticated || err.code() == errc::unsupported_version ||
                                              err.code() == errc::unknown_kind
                                          ? std::nullopt
                                          : wire::readable_key_id(frame);
      const errc reason =
          err.code() == errc::message_too_large
              ? errc::message_too_large
              : (err.code() == errc::unsupported_version || err.code() == errc::unknown_kind
                     ? err.code()
                     : errc::malformed_frame);
      refuse(id, p, key.value_or(guid{}), reason, err.to_string(), key.has_value(), now);
      if (key) flush(id, p, now);
      return status(err.code(), describe(id, key ? &*key : nullptr, err.to_string()));
    }
    auth_session* verified_by = nullptr;  // authenticated mode: the session the frame is under
    if (authenticated || decoded->version == wire::authenticated_version) {
      if (status s = authenticate_frame(id, p, *decoded, now, verified_by); !s.ok()) {
        flush(id, p, now);
        return s;
      }
      if (decoded->kind == wire::frame_kind::handshake) {
        status s = on_handshake(id, p, decoded->handshake, now);
        flush(id, p, now);
        return s;
      }
    }
    status result = status::success();
    if (decoded->kind == wire::frame_kind::control) {
      apply_control(id, p, decoded->control, now, false);
    } else {
      std::optional<mutable_byte_view> in_place;
      if (writable != nullptr) {
        const wire::data_view& d = decoded->data;
        in_place.emplace(writable + (d.ciphertext.data() - frame.data()), d.ciphertext.size());
      }
      result = receive_data(id, p, decoded->data, in_place, now);
      // Authenticated mode: the frame's number is used up unless its ciphertext did not open
      // (or was not tried), so the genuine frame can still come.
      if (authenticated && verified_by != nullptr && result.code() != errc::authentication_failed &&
          result.code() != errc::rate_limited && result.code() != errc::low_order_point) {
        verified_by->highest_seen = std::max(verified_by->highest_seen, decoded->auth->seq);
      }
    }
    flush(id, p, now);
    return result;
  }

  // The mode's checks of a decoded frame (§12.6): the other mode's frames are refused, and a
  // version 2 control or data frame must verify under a session and name its instance.
  status authenticate_frame(peer_id id, peer_state& p, const wire::decoded_frame& f, time_point now,
                            auth_session*& verified_by) {
    if (!authenticated) {
      return wrong_mode(id, p,
                        "a frame of authenticated mode (version 2): this endpoint has no "
                        "identity, so it runs base mode and cannot talk to this peer",
                        now);
    }
    if (f.version != wire::authenticated_version) {
      return wrong_mode(id, p,
                        "a base-mode (version 1) frame: this endpoint runs authenticated mode "
                        "and accepts none",
                        now);
    }
    if (f.kind == wire::frame_kind::handshake) return status::success();
    auth_session* s = authenticate(id, p, *f.auth, f.kind == wire::frame_kind::control, now);
    if (s == nullptr) {
      return status(errc::authentication_failed, describe(id, nullptr, "frame not authenticated"));
    }
    const wire::control_block* block = f.kind == wire::frame_kind::control
                                           ? &f.control
                                           : (f.data.control ? &*f.data.control : nullptr);
    if (block != nullptr && block->instance != s->peer_instance) {
      return drop_frame(id, p, &counters::frames_unauthenticated, errc::malformed_frame,
                        "a control block naming instance " + block->instance.short_hex() +
                            ", not the session's " + s->peer_instance.short_hex(),
                        now);
    }
    verified_by = s;
    return status::success();
  }

  // A data frame. `in_place`: the ciphertext's own bytes, writable, to open the payload into
  // (the delivery then views them); without it the payload gets a buffer of its own.
  status receive_data(peer_id id, peer_state& p, const wire::data_view& d,
                      std::optional<mutable_byte_view> in_place, time_point now) {
    if (d.ciphertext.size() < hpke::tag_size) {
      refuse(id, p, d.key_id, errc::malformed_frame, "ciphertext shorter than the tag", true, now);
      return status(errc::malformed_frame, describe(id, &d.key_id, "ciphertext too short"));
    }
    // Nothing sized by the frame is allocated for a key we do not hold.
    status opened = status::success();
    // A key opens only for the peer it was issued to: from anyone else (a third party that saw
    // the offer) it is unknown, and stays live for its owner.
    const std::optional<keys::peer_id> owner = store.owner(d.key_id);
    const keys::key_state state =
        owner && *owner == id ? store.state(d.key_id, now) : keys::key_state::unknown;
    switch (state) {
      case keys::key_state::live:
        // Each failed open costs an X25519; a peer gets a budget of them, checked before the
        // agreement.
        if (!p.open_failures.available(now)) {
          count(p, &counters::opens_refused);
          refuse(id, p, d.key_id, errc::rate_limited,
                 "the peer's failed opens exceeded failed_open_rate (" +
                     std::to_string(opts.failed_open_rate) + "/s, burst " +
                     std::to_string(opts.failed_open_burst) + "); not opened",
                 true, now);
          return status(errc::rate_limited,
                        describe(id, &d.key_id, "failed_open_rate exceeded; not opened"));
        }
        break;
      case keys::key_state::used:
        opened = status(errc::replayed_key, "used");
        break;
      case keys::key_state::expired:
        opened = status(errc::expired_key, "expired");
        break;
      case keys::key_state::unknown:
        opened = status(errc::unknown_key, "unknown");
        break;
    }
    // The AEAD decrypts in place when plaintext starts where the ciphertext does, and checks the
    // tag before it writes anything; on failure it zeroes what it would have written.
    std::vector<byte> plaintext;
    mutable_byte_view target;
    if (opened.ok()) {
      const std::size_t size = d.ciphertext.size() - hpke::tag_size;
      if (in_place) {
        target = in_place->first(size);
      } else {
        plaintext.resize(size);
        target = plaintext;
      }
      opened = store.open_with(d.key_id, now, [&](secret_key_view secret, const public_key& pub) {
        return hpke::open_base(aead, d.enc, secret, pub, info_bytes(), d.associated_data,
                               d.ciphertext, target);
      });
    }
    if (!opened.ok() && state == keys::key_state::live) note_failed_open(id, p, d.key_id, now);
    if (!opened.ok()) {
      std::string what;
      switch (opened.code()) {
        case errc::unknown_key:
          what = "no such key (never issued by this instance)";
          break;
        case errc::expired_key:
          what = "the key's time to live ran out";
          break;
        case errc::replayed_key:
          what = "the key was already used: replay or duplicate";
          break;
        case errc::authentication_failed:
          what = "does not open: tampered or wrong key";
          break;
        default:
          what = opened.message();
          break;
      }
      const std::optional<errc> refused_before =
          opened.code() == errc::replayed_key ? p.refused.reason(d.key_id, now) : std::nullopt;
      if (refused_before) {
        // A copy of a frame whose payload we refused: the same answer again.
        refuse(id, p, d.key_id, *refused_before, "a copy of a frame whose payload was refused",
               true, now);
        return status(*refused_before, describe(id, &d.key_id, "payload refused before"));
      }
      if (opened.code() == errc::replayed_key) {
        // The key opened a frame of this same peer before, and a sender never seals two
        // messages to one key (§9): this is a copy of a message we delivered, sent again
        // because our acknowledgement was lost. Acknowledged again, delivered once.
        p.acks.push_back(d.key_id);
        if (!p.acks_due) p.acks_due = now + opts.ack_delay;
        (void)report_refusal(id, p, d.key_id, opened.code(), what + "; acknowledged again", now);
        return status(opened.code(), describe(id, &d.key_id, what));
      }
      refuse(id, p, d.key_id, opened.code(), what, true, now);
      return status(opened.code(), describe(id, &d.key_id, what));
    }
    count(p, &counters::keys_used);
    count(p, &counters::keys_destroyed);
    note_used(p, now);
    if (!p.failed_opens.empty()) p.failed_opens.erase(d.key_id);

    delivery out;
    out.peer = id;
    out.payload = std::move(plaintext);  // keeps its buffer: `target` still views it
    if (status s = wire::decode_payload(target, limits, out.parts); !s.ok()) {
      // It opened, so the key is used up: the sender is told why at once and reports the
      // message undeliverable (re-sealing it would fail the same way).
      sodium_memzero(target.data(), target.size());
      const errc reason =
          s.code() == errc::limit_exceeded ? errc::limit_exceeded : errc::invalid_argument;
      p.refused.add(d.key_id, reason, now);
      refuse(id, p, d.key_id, reason, "the payload opened but is not acceptable: " + s.message(),
             true, now);
      return s;
    }
    // Authenticated: the piggybacked control block and reply key can be trusted as the
    // sender's, and the message is acknowledged.
    if (d.control) apply_control(id, p, *d.control, now, d.reply_key.has_value());
    if (d.reply_key) {
      const time_point until =
          now + std::chrono::milliseconds(d.reply_key->ttl_ms) - opts.expiry_margin;
      if (until > now) {
        // A reply key is used for the next message to the peer, whatever it is; unused, it is
        // discarded at its TTL, or here when the peer sends more of them than we hold keys for.
        if (p.reply_keys.size() >= opts.max_keys_per_peer) {
          p.reply_keys.pop_front();
          count(p, &counters::keys_discarded);
        }
        p.reply_keys.push_back({d.reply_key->id, d.reply_key->key, until, true});
        count(p, &counters::keys_received);
      }
      out.expects_reply = true;
    }
    p.acks.push_back(d.key_id);
    if (!p.acks_due) p.acks_due = now + opts.ack_delay;
    count(p, &counters::messages_opened);
    deliveries.push_back(std::move(out));
    return status::success();
  }

  // ---- timers ----
  void on_timers(peer_id id, peer_state& p, time_point now) {
    (void)usable(p, now);  // drops peer keys past their use-by time
    if (p.requested > 0 && now - p.requested_at >= opts.key_request_retry) p.requested = 0;

    // Not acknowledged in time: send again to the same key (a different one could deliver it
    // twice: only the peer can say the first copy was not opened).
    // Past delivery_timeout, in order of acceptance: exactly then, however long the
    // retransmission timeout has grown.
    while (!p.unacked_by_id.empty() &&
           now - p.unacked_by_id.begin()->second->accepted_at >= opts.delivery_timeout) {
      outgoing_message m = take_unacked(p, p.unacked_by_id.begin()->second);
      give_up(id, p, m,
              "no acknowledgement within delivery_timeout; it may or may not have been processed");
    }
    bool timed_out = false;
    while (!p.unacked.empty() && p.unacked.front().last_sent_at + p.rto.timeout() <= now) {
      outgoing_message m = take_unacked(p, p.unacked.begin());
      timed_out = true;
      if (m.needs_new_key) {
        m.needs_new_key = false;
        m.key.reset();
        p.queue.push_front(std::move(m));
        continue;
      }
      const peer_key key = *m.key;
      seal_and_send(id, p, std::move(m), key, now);
    }
    if (timed_out) p.rto.on_timeout();
    // Waiting for a key too long.
    while (!p.queue.empty() && now - p.queue.front().accepted_at >= opts.delivery_timeout) {
      outgoing_message m = std::move(p.queue.front());
      p.queue.pop_front();
      give_up(id, p, m,
              authenticated && !p.auth.session
                  ? (initiator ? "no answer to our handshake within delivery_timeout (does the "
                                 "peer run authenticated mode, with the identity configured as "
                                 "our server key?)"
                               : "no session with the peer within delivery_timeout")
                  : "no usable key from the peer within delivery_timeout");
    }
  }

  std::optional<time_point> peer_deadline(const peer_state& p) const {
    ++peer_visits;
    std::optional<time_point> t;
    auto consider = [&](time_point x) {
      if (!t || x < *t) t = x;
    };
    if (p.requested > 0) consider(p.requested_at + opts.key_request_retry);
    if (!p.unacked.empty()) consider(p.unacked.front().last_sent_at + p.rto.timeout());
    if (!p.unacked_by_id.empty()) {
      consider(p.unacked_by_id.begin()->second->accepted_at + opts.delivery_timeout);
    }
    if (!p.queue.empty()) consider(p.queue.front().accepted_at + opts.delivery_timeout);
    if (p.acks_due && (!p.acks.empty() || !p.rejections.empty())) consider(*p.acks_due);
    if (p.offers_due && p.keys_owed > 0) consider(*p.offers_due);
    if (!p.offered_keys.empty()) consider(p.offered_keys.front().usable_until);
    if (!p.reply_keys.empty()) consider(p.reply_keys.front().usable_until);
    if (initiator && !p.auth.session && wants_handshake(p)) {
      if (const auto n = next_initiate(p)) consider(*n);
    }
    return t;
  }
};

// ---------------------------------------------------------------------------------------------

engine::engine(const options& opts, key_source& keys, random_source& random, time_point now)
    : impl_(std::make_unique<impl>(opts, keys, random, now)) {}
engine::~engine() = default;
engine::engine(engine&&) noexcept = default;
engine& engine::operator=(engine&&) noexcept = default;

status engine::construction_status() const { return impl_->init_status; }

const guid& engine::instance() const noexcept { return impl_->instance; }

void engine::connect(peer_id peer, time_point now) {
  if (!impl_->init_status.ok()) return;
  auto& im = *impl_;
  auto& p = im.peer(peer, now);
  p.wants_pool = true;
  // A responder cannot start the session it needs; it tells the initiator it is there (§12.4).
  if (im.authenticated && !im.initiator && !p.auth.session) im.send_hello_request(peer, p, now);
  im.flush(peer, p, now);
}

void engine::set_flow(peer_id peer, flow how, time_point now) {
  impl_->peer(peer, now).default_flow = how;
}

void engine::set_pool_target(peer_id peer, std::size_t keys, time_point now) {
  auto& im = *impl_;
  im.peer(peer, now).pool_goal = std::clamp<std::size_t>(keys, 1, im.opts.max_keys_per_peer);
}

void engine::set_group(peer_id peer, std::uint64_t group, time_point now) {
  auto& im = *impl_;
  if (!im.init_status.ok()) return;
  auto& p = im.peer(peer, now);
  if (p.group == group) return;
  im.leave_group(p);
  auto [it, fresh] = im.groups.try_emplace(
      group, engine::impl::group_budget{im.unproven_budget(now), 0, std::nullopt});
  (void)fresh;
  ++it->second.members;
  p.group = group;
}

void engine::disconnect(peer_id peer, time_point now) {
  (void)now;
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) return;
  auto& p = it->second;
  for (auto& m : p.queue) impl_->give_up(peer, p, m, "peer disconnected");
  for (auto& m : p.unacked) impl_->give_up(peer, p, m, "peer disconnected before acknowledging");
  const std::size_t destroyed = impl_->store.drop_peer(peer);
  impl_->count(p, &counters::keys_destroyed, destroyed);
  for (const auto& s : p.auth.pending) {
    if (!s.approved) --impl_->pending_checks;
  }
  impl_->leave_group(p);
  impl_->timers.schedule(peer, p.scheduled, std::nullopt);
  impl_->peers.erase(it);
  if (impl_->prepared && impl_->prepared->peer == peer) impl_->wipe_prepared();
}

void engine::prepare_seal(peer_id peer, time_point now) { impl_->prepare_seal(peer, now); }

std::vector<withdrawn_message> engine::withdraw(peer_id peer, std::span<const guid> keys,
                                                time_point now) {
  return impl_->withdraw(peer, keys, now);
}

result<message_id> engine::send(peer_id peer, std::span<const byte_view> parts, time_point now,
                                const send_options& how) {
  message_parts message;
  message.parts.assign(parts.begin(), parts.end());
  return impl_->accept(peer, std::move(message), now, how);  // no owner: copied once accepted
}

result<message_id> engine::send(peer_id peer, message_parts message, time_point now,
                                const send_options& how) {
  if (!message.owner) {
    return status(errc::invalid_argument,
                  describe(peer, nullptr, "a message handed over needs an owner of its bytes"));
  }
  return impl_->accept(peer, std::move(message), now, how);
}

void engine::recycle(std::vector<byte>&& frame_buffer) {
  auto& im = *impl_;
  const std::size_t bytes = frame_buffer.capacity();
  if (bytes < min_recycled_frame || im.spare_frames.size() >= max_spare_frames ||
      im.spare_bytes + bytes > max_spare_frame_bytes) {
    return;  // freed with the argument
  }
  frame_buffer.clear();
  im.spare_bytes += bytes;
  im.spare_frames.push_back(std::move(frame_buffer));
}

status engine::receive(peer_id peer, byte_view frame, time_point now) {
  return impl_->receive_frame(peer, frame, nullptr, now);
}

status engine::receive_in_place(peer_id peer, mutable_byte_view frame, time_point now) {
  return impl_->receive_frame(peer, frame, frame.data(), now);
}

void engine::tick(time_point now) {
  auto& im = *impl_;
  if (!im.init_status.ok()) return;
  (void)im.store.expire(now, [&](peer_id owner) {
    auto it = im.peers.find(owner);
    if (it == im.peers.end()) {
      ++im.total.keys_expired;
      ++im.total.keys_destroyed;
      return;
    }
    im.count(it->second, &counters::keys_expired);
    im.count(it->second, &counters::keys_destroyed);
  });
  // Only the peers that are due: flush() schedules each again.
  im.timers.due(now, im.due);
  for (const peer_id id : im.due) {
    peer_state& p = im.peers.at(id);
    ++im.peer_visits;
    im.on_timers(id, p, now);
    im.flush(id, p, now);
  }
}

std::optional<time_point> engine::poll_timeout() const {
  const auto& im = *impl_;
  std::optional<time_point> t = im.store.next_expiry();
  if (auto d = im.timers.next(); d && (!t || *d < *t)) t = d;
  return t;
}

std::optional<transmit> engine::poll_transmit() {
  if (impl_->transmits.empty()) return std::nullopt;
  transmit t = std::move(impl_->transmits.front().frame);
  impl_->transmits.pop_front();
  return t;
}

std::optional<delivery> engine::poll_delivery() {
  if (impl_->deliveries.empty()) return std::nullopt;
  delivery d = std::move(impl_->deliveries.front());
  impl_->deliveries.pop_front();
  return d;
}

std::optional<event> engine::poll_event() {
  if (impl_->events.empty()) return std::nullopt;
  event e = std::move(impl_->events.front());
  impl_->events.pop_front();
  return e;
}

std::size_t engine::max_frame_size() const noexcept { return impl_->limits.max_frame_bytes; }

std::optional<public_key> engine::peer_identity(peer_id peer) const {
  const auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end() || !it->second.auth.session) return std::nullopt;
  return it->second.auth.session->peer_static;
}

void engine::resolve_identity(peer_id peer, const public_key& key, bool accepted, time_point now) {
  auto& im = *impl_;
  const auto it = im.peers.find(peer);
  if (it == im.peers.end()) return;
  peer_state& p = it->second;
  auto& pending = p.auth.pending;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].approved || pending[i].peer_static != key) continue;
    --im.pending_checks;
    if (accepted) {
      pending[i].approved = true;
      im.send_accept(peer, p, pending[i]);
    } else {
      im.refuse_identity(peer, p, pending[i], errc::access_denied, "refused by the application");
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    }
    im.flush(peer, p, now);
    return;
  }
}

std::size_t engine::usable_keys(peer_id peer) const {
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) return 0;
  return it->second.reply_keys.size() + it->second.offered_keys.size();
}

stats_snapshot engine::stats() const {
  const auto& im = *impl_;
  stats_snapshot s;
  s.total = im.total;
  s.live_keys = im.store.live();
  s.locked_bytes = im.store.locked_bytes();
  s.next_key_expiry = im.store.next_expiry();
  for (const auto& [id, p] : im.peers) {
    s.per_peer[id] = p.stats;
    s.peer_keys += p.reply_keys.size() + p.offered_keys.size();
    s.queued_messages += p.queue.size();
    s.unacknowledged += p.unacked.size();
  }
  return s;
}

std::uint64_t engine_detail::engine_probe::peer_visits(const engine& e) {
  return e.impl_->peer_visits;
}

std::string engine_detail::engine_probe::timers_mismatch(const engine& e) {
  const auto& im = *e.impl_;
  const auto text = [](std::optional<time_point> t) {
    return t ? std::to_string(t->time_since_epoch().count()) : std::string("none");
  };
  const std::uint64_t visits = im.peer_visits;  // the check is not the engine's work
  std::size_t scheduled = 0;
  std::string mismatch;
  for (const auto& [id, p] : im.peers) {
    const std::optional<time_point> want = im.peer_deadline(p);
    const bool in_table = !want || im.timers.contains(id, *want);
    if (p.scheduled != want || !in_table) {
      mismatch = "peer " + std::to_string(id) + ": deadline " + text(want) + ", scheduled " +
                 text(p.scheduled) + (in_table ? "" : " (not in the table)");
      break;
    }
    if (want) ++scheduled;
  }
  if (mismatch.empty() && scheduled != im.timers.size()) {
    mismatch = std::to_string(im.timers.size()) + " deadlines scheduled for " +
               std::to_string(scheduled) + " peers that have one";
  }
  im.peer_visits = visits;
  return mismatch;
}

}  // namespace cryptcom
