// key_store: the private halves of the one-time keys this endpoint issued, by GUID.
//
// Each key belongs to one peer (the one it was offered to, or the one whose reply it will
// decrypt) and has an absolute expiry. A key is used at most once: open_with() destroys it after
// the first successful open, and leaves it in place when the open fails (a tampered copy must not
// burn the key that the genuine message needs). After use or expiry the GUID is remembered as a
// tombstone until `expiry + tombstone_grace`, so a replay is told apart from an unknown GUID.
// Private keys live in a locked_arena; everything else (GUID, public key, expiry) is public.
//
// Answers never depend on when expire() last ran: a key past its expiry reads as expired and a
// tombstone past its grace reads as unknown at once; expire() only reclaims (and zeroes) sooner.
//
// Memory: about 121 bytes per live key (the 32-byte locked slot included; measured in the
// tests). Records sit in a ring in insertion order (64 bytes each: GUID, public key, expiry,
// owner, slot); a flat open-addressing index of 4-byte ring positions finds them by GUID.
// Expiry is processed from the ring's front because keys are issued with roughly monotonic
// expiries; a key inserted with an earlier expiry than one already queued also goes into a small
// min-heap, so it is still destroyed on time. A record is freed when it reaches the ring's front
// and is due (tombstones) or dropped; until then it costs its 64 bytes even when dropped.
// Each peer chains its records in two lists (live keys oldest first, and its tombstones) through
// 8 bytes of links kept beside the ring (not in the record, which stays one cache line), so
// dropping a peer or retiring its oldest keys touches that peer's records only. Peers are also
// kept ordered by how many live keys they hold, for largest_holder().
// Thread-safety: none; owned by one engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"
#include "keys/function_ref.hpp"
#include "keys/locked_arena.hpp"

namespace cryptcom::keys {

using peer_id = std::uint64_t;

struct key_store_limits {
  std::size_t max_total = 65536;    // live keys across all peers
  std::size_t max_per_peer = 4096;  // live keys for one peer
  duration tombstone_grace = std::chrono::seconds(60);
};

// What the store knows about a GUID.
enum class key_state : std::uint8_t { live, used, expired, unknown };

class key_store {
 public:
  explicit key_store(const key_store_limits& limits);
  ~key_store();
  key_store(const key_store&) = delete;
  key_store& operator=(const key_store&) = delete;

  // Makes room for a new key for `peer` and lets `fill` write its private key into the locked
  // slot and return the public key (typically key_source::next). Fails with
  // errc::limit_exceeded naming the bound (per peer or total) before calling `fill`; the message
  // uses the option names ("peer 7: max_keys_per_peer (4096) live keys reached").
  // The GUID is chosen by the caller (random); a duplicate (also of a tombstone) is
  // errc::invalid_argument. errc::out_of_memory when locked memory cannot be had.
  status insert(peer_id peer, const guid& id, time_point expiry,
                function_ref<public_key(mutable_secret_key_view)> fill);

  // Looks the key up. When live and not expired at `now`, calls open(secret, public) once;
  // if open returns ok the key is destroyed (slot zeroed) and becomes a `used` tombstone.
  // If open fails the key stays live and open's error code is returned, its message prefixed
  // with the peer and the GUID.
  // Errors: unknown_key, expired_key, replayed_key (tombstone), or open's error. `peer_out`
  // receives the owner of the key when it is known (also for tombstones). The views passed to
  // `open` live for that call only; `open` must not call back into the store.
  status open_with(const guid& id, time_point now,
                   function_ref<status(secret_key_view, const public_key&)> open,
                   peer_id* peer_out = nullptr);

  key_state state(const guid& id, time_point now) const;

  // Destroys every key whose expiry is <= now (they become `expired` tombstones) and forgets
  // tombstones older than their expiry + grace. Returns the number of keys destroyed.
  std::size_t expire(time_point now);
  // The same, telling `on_expired` the owner of each key it destroys (for per-peer counters).
  std::size_t expire(time_point now, function_ref<void(peer_id)> on_expired);
  // Destroys every live key of `peer` now (the peer restarted or left); tombstones go too.
  // Returns the number of live keys destroyed. Costs O(the peer's live keys and tombstones),
  // whatever the other peers hold.
  std::size_t drop_peer(peer_id peer);

  // Destroys (zeroes) up to `n` of `peer`'s oldest live keys now, oldest (first inserted) first.
  // Each becomes an `expired` tombstone: a sender that still seals to it is told expired_key and
  // re-seals under another key. Returns how many were destroyed (fewer than `n` when the peer
  // holds fewer; 0 for an unknown peer). Costs O(n + log peers).
  std::size_t retire_oldest(peer_id peer, std::size_t n);
  // Destroys one live key now, as an `expired` tombstone (a key that failed to open too often).
  // A key whose expiry has passed but that expire() has not reached yet still counts as live
  // here and is destroyed. Errors: unknown_key, naming the GUID, when the store holds no live key
  // by that GUID (never issued, forgotten, dropped, or already a tombstone). O(log peers).
  status retire(const guid& id);
  // The peer a live key or a tombstone belongs to; nullopt for a GUID the store does not hold.
  // Unlike state(), this does not look at the time: a tombstone past its grace still names its
  // owner until expire() forgets it (state() already reads it as unknown). O(1).
  std::optional<peer_id> owner(const guid& id) const;
  // The peer holding the most live keys (any one of them on a tie); nullopt when no key is live.
  // O(1).
  std::optional<peer_id> largest_holder() const;

  std::size_t live() const noexcept;
  std::size_t live(peer_id peer) const noexcept;
  // Tombstones remembered now (one past its grace may linger until expire() reaches it; it
  // already reads as unknown).
  std::size_t tombstones() const noexcept;
  // Earliest expiry among live keys, for the engine's poll_timeout().
  std::optional<time_point> next_expiry() const;
  // Bytes of locked memory reserved for private keys (grows in chunks, never shrinks), and
  // bookkeeping bytes (records, index, heaps, the arena's own tracking), for the stats.
  std::size_t locked_bytes() const noexcept;
  std::size_t bookkeeping_bytes() const noexcept;
  // False when RLIMIT_MEMLOCK kept some of the key memory from being locked.
  bool fully_locked() const noexcept;

 private:
  friend struct key_store_probe;  // tests: counts the records an operation touched

  // One issued key, live or remembered. 64 bytes: one cache line.
  struct record {
    guid id;
    public_key pub;
    std::int64_t expiry;  // time_point ticks
    std::uint32_t peer;   // index into peers_; none once dropped
    std::uint32_t slot;   // arena slot while live, else one of the k_* state markers
  };
  // A record's neighbours in its peer's list: low 32 bits of their seqs (as in the index), or
  // the empty marker at the list's ends.
  struct link {
    std::uint32_t prev;
    std::uint32_t next;
  };
  static constexpr std::size_t block_records = 256;  // 18 KiB a block, links included
  struct block {
    record records[block_records];
    link links[block_records];
  };
  struct list {
    std::uint32_t head;
    std::uint32_t tail;
  };
  struct peer_entry {
    peer_id id;
    std::uint32_t live;
    std::uint32_t records;  // live keys and tombstones still in the ring
    list live_keys;         // oldest first
    list tombstones;        // in the order they became tombstones
  };
  struct heap_entry {
    std::int64_t expiry;
    std::uint64_t seq;
  };

  record& at(std::uint64_t seq) const noexcept;
  link& link_at(std::uint64_t seq) const noexcept;
  std::uint64_t seq_of(std::uint32_t bucket_value) const noexcept;
  std::size_t find(const guid& id) const noexcept;  // bucket, or npos
  void index_insert(std::uint32_t value) noexcept;
  void index_erase(std::size_t bucket) noexcept;
  void index_erase(const guid& id) noexcept;
  void rehash(std::size_t buckets);
  void maybe_shrink_index();
  void ensure_room(std::size_t n);
  void push(const record& r) noexcept;
  void pop_tail() noexcept;
  void trim(std::int64_t now) noexcept;
  void list_push_back(list& l, std::uint64_t seq) noexcept;
  void list_erase(list& l, std::uint64_t seq) noexcept;
  void destroy(std::uint64_t seq, std::uint32_t marker) noexcept;
  void rerank(std::uint32_t peer, std::uint32_t live_before) noexcept;
  std::uint32_t peer_slot(peer_id peer);
  void free_peer(std::uint32_t peer) noexcept;
  std::int64_t forget_at(const record& r) const noexcept;

  key_store_limits limits_;
  locked_arena arena_;

  // The ring: records by sequence number, in blocks that are allocated and freed whole.
  std::vector<std::unique_ptr<block>> blocks_;
  std::unique_ptr<block> spare_;  // one freed block kept to avoid churn at block boundaries
  std::uint64_t block_base_;      // seq of blocks_[0][0]
  std::uint64_t tail_;            // oldest record
  std::uint64_t head_;            // next seq
  std::uint64_t expired_to_;      // [tail_, expired_to_) had their expiry processed
  mutable std::uint64_t scan_;    // no live record in [expired_to_, scan_): next_expiry's hint
  // Largest expiry queued in [expired_to_, head_); a record below it goes into the heap too.
  std::int64_t high_water_;
  mutable std::vector<heap_entry> heap_;  // out-of-order expiries (min-heap, stale entries skipped)

  // GUID -> low 32 bits of the record's seq; linear probing, load <= 3/4.
  std::vector<std::uint32_t> index_;
  std::size_t indexed_ = 0;

  std::vector<peer_entry> peers_;
  std::vector<std::uint32_t> free_peers_;
  std::unordered_map<peer_id, std::uint32_t> peer_index_;
  // (live keys, index into peers_) of every peer in peers_: the last one holds the most.
  std::set<std::pair<std::uint32_t, std::uint32_t>> holders_;

  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
  std::uint64_t touched_ = 0;  // records walked by drop_peer, retire_oldest and trim (tests)
};

}  // namespace cryptcom::keys
