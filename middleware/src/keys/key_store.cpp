#include "keys/key_store.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

namespace cryptcom::keys {
namespace {

constexpr std::size_t k_arena_chunk = 1024;  // key slots per locked chunk (about 36 KiB)
constexpr std::size_t k_min_buckets = 16;
constexpr std::size_t npos = static_cast<std::size_t>(-1);
constexpr std::uint32_t k_empty = UINT32_MAX;  // an index bucket with no record
constexpr std::uint32_t k_no_peer = UINT32_MAX;

// Record states other than live (live records hold their arena slot, always below these).
constexpr std::uint32_t k_used = UINT32_MAX;
constexpr std::uint32_t k_expired = UINT32_MAX - 1;
constexpr std::uint32_t k_dropped = UINT32_MAX - 2;  // forgotten; freed when it reaches the tail

// Sequence numbers start just below a multiple of 2^32 so that the wrap of the index's 32-bit
// values (and the filler record it needs, see push) happens in every run longer than 255 keys,
// not once in four billion.
constexpr std::uint64_t k_first_seq = (std::uint64_t{1} << 32) - 256;

constexpr std::int64_t k_min_time = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k_max_time = std::numeric_limits<std::int64_t>::max();

std::int64_t ticks(time_point t) noexcept { return t.time_since_epoch().count(); }
time_point from_ticks(std::int64_t t) noexcept { return time_point(duration(t)); }

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  if (b > 0 && a > k_max_time - b) return k_max_time;
  if (b < 0 && a < k_min_time - b) return k_min_time;
  return a + b;
}

bool is_live(std::uint32_t slot) noexcept { return slot < k_dropped; }

// Our GUIDs are random, but a mix keeps patterned GUIDs (tests, a weak source) from clustering.
std::size_t hash(const guid& id) noexcept {
  std::uint64_t h = 0;
  std::memcpy(&h, id.bytes.data(), sizeof(h));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

std::string who(peer_id peer, const guid& id) {
  return "peer " + std::to_string(peer) + ", key " + id.short_hex() + ": ";
}

std::string unknown_message(const guid& id) {
  return "key " + id.short_hex() + ": not issued by this endpoint, or already forgotten";
}

// std::push_heap builds a max-heap; ordering by "expires later" makes it a min-heap of expiries.
struct expires_later {
  template <class entry>
  bool operator()(const entry& a, const entry& b) const noexcept {
    return a.expiry > b.expiry;
  }
};

}  // namespace

key_store::key_store(const key_store_limits& limits)
    : limits_(limits),
      arena_(secret_key_size, k_arena_chunk, limits.max_total),
      block_base_(k_first_seq),
      tail_(k_first_seq),
      head_(k_first_seq),
      expired_to_(k_first_seq),
      scan_(k_first_seq),
      high_water_(k_min_time) {
  static_assert(sizeof(record) == 64, "a record is meant to fill one cache line");
  if (limits_.tombstone_grace < duration::zero()) limits_.tombstone_grace = duration::zero();
}

// The arena zeroes every slot as it is freed.
key_store::~key_store() = default;

// ---- the ring ----

key_store::record& key_store::at(std::uint64_t seq) const noexcept {
  assert(seq >= tail_ && seq < head_);
  const std::uint64_t off = seq - block_base_;
  return blocks_[off / block_records]->records[off % block_records];
}

key_store::link& key_store::link_at(std::uint64_t seq) const noexcept {
  assert(seq >= tail_ && seq < head_);
  const std::uint64_t off = seq - block_base_;
  return blocks_[off / block_records]->links[off % block_records];
}

std::uint64_t key_store::seq_of(std::uint32_t value) const noexcept {
  // Indexed records lie in [tail_, head_), less than 2^32 apart.
  return tail_ + static_cast<std::uint32_t>(value - static_cast<std::uint32_t>(tail_));
}

// Makes sure the next `n` records have a place, so that push() does not allocate.
void key_store::ensure_room(std::size_t n) {
  while (head_ + n - block_base_ > blocks_.size() * block_records) {
    blocks_.reserve(blocks_.size() + 1);
    blocks_.push_back(spare_ ? std::move(spare_) : std::make_unique<block>());
  }
}

void key_store::push(const record& r) noexcept {
  if (static_cast<std::uint32_t>(head_) == k_empty) {
    // This seq's index value would read as an empty bucket: give it to a record that is never
    // indexed and is freed as soon as it reaches the tail.
    const std::uint64_t off = head_ - block_base_;
    blocks_[off / block_records]->records[off % block_records] =
        record{{}, {}, k_min_time, k_no_peer, k_dropped};
    ++head_;
  }
  const std::uint64_t off = head_ - block_base_;
  blocks_[off / block_records]->records[off % block_records] = r;
  ++head_;
}

void key_store::pop_tail() noexcept {
  ++touched_;
  record& r = at(tail_);
  if (r.peer != k_no_peer) {
    // Live keys stop trim() and dropped records belong to no peer: this is a tombstone.
    assert(!is_live(r.slot));
    peer_entry& p = peers_[r.peer];
    list_erase(p.tombstones, tail_);
    if (--p.records == 0) free_peer(r.peer);
  }
  ++tail_;
  expired_to_ = std::max(expired_to_, tail_);
  if (tail_ - block_base_ == block_records) {
    if (!spare_) spare_ = std::move(blocks_.front());
    blocks_.erase(blocks_.begin());
    block_base_ += block_records;
  }
}

// ---- a peer's lists ----

void key_store::list_push_back(list& l, std::uint64_t seq) noexcept {
  const auto v = static_cast<std::uint32_t>(seq);
  link_at(seq) = link{l.tail, k_empty};
  if (l.tail == k_empty) {
    l.head = v;
  } else {
    link_at(seq_of(l.tail)).next = v;
  }
  l.tail = v;
}

void key_store::list_erase(list& l, std::uint64_t seq) noexcept {
  const link n = link_at(seq);
  if (n.prev == k_empty) {
    l.head = n.next;
  } else {
    link_at(seq_of(n.prev)).next = n.next;
  }
  if (n.next == k_empty) {
    l.tail = n.prev;
  } else {
    link_at(seq_of(n.next)).prev = n.prev;
  }
}

std::int64_t key_store::forget_at(const record& r) const noexcept {
  return saturating_add(r.expiry, limits_.tombstone_grace.count());
}

// Frees records from the tail while they are dropped or (expiry processed and) past their
// grace. now == k_min_time frees dropped records only.
void key_store::trim(std::int64_t now) noexcept {
  while (tail_ < head_) {
    record& r = at(tail_);
    if (r.slot == k_dropped) {
      pop_tail();
    } else if (tail_ < expired_to_ && forget_at(r) <= now) {
      assert(!is_live(r.slot));
      index_erase(r.id);
      --tombstones_;
      pop_tail();
    } else {
      break;
    }
  }
}

// ---- the index ----

std::size_t key_store::find(const guid& id) const noexcept {
  if (index_.empty()) return npos;
  const std::size_t mask = index_.size() - 1;
  for (std::size_t b = hash(id) & mask;; b = (b + 1) & mask) {
    const std::uint32_t v = index_[b];
    if (v == k_empty) return npos;
    if (at(seq_of(v)).id == id) return b;
  }
}

void key_store::index_insert(std::uint32_t value) noexcept {
  const std::size_t mask = index_.size() - 1;
  std::size_t b = hash(at(seq_of(value)).id) & mask;
  while (index_[b] != k_empty) b = (b + 1) & mask;
  index_[b] = value;
  ++indexed_;
}

// Backward-shift deletion: linear probing stays tombstone-free, so lookups of unknown GUIDs
// (which an attacker chooses) stop at the first empty bucket.
void key_store::index_erase(std::size_t hole) noexcept {
  const std::size_t mask = index_.size() - 1;
  for (std::size_t j = (hole + 1) & mask; index_[j] != k_empty; j = (j + 1) & mask) {
    const std::size_t home = hash(at(seq_of(index_[j])).id) & mask;
    // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = k_empty;
  --indexed_;
}

void key_store::index_erase(const guid& id) noexcept {
  const std::size_t b = find(id);
  assert(b != npos);
  if (b != npos) index_erase(b);
}

void key_store::rehash(std::size_t buckets) {
  std::vector<std::uint32_t> old(buckets, k_empty);
  old.swap(index_);
  indexed_ = 0;
  for (const std::uint32_t v : old) {
    if (v != k_empty) index_insert(v);
  }
}

void key_store::maybe_shrink_index() {
  if (index_.size() <= k_min_buckets || indexed_ * 8 >= index_.size()) return;
  std::size_t buckets = k_min_buckets;
  while (indexed_ * 2 > buckets) buckets *= 2;
  rehash(buckets);
}

// ---- peers ----

std::uint32_t key_store::peer_slot(peer_id peer) {
  auto it = peer_index_.find(peer);
  if (it != peer_index_.end()) return it->second;
  const peer_entry fresh{peer, 0, 0, {k_empty, k_empty}, {k_empty, k_empty}};
  std::uint32_t pi;
  if (!free_peers_.empty()) {
    pi = free_peers_.back();
    free_peers_.pop_back();
    peers_[pi] = fresh;
  } else {
    pi = static_cast<std::uint32_t>(peers_.size());
    peers_.push_back(fresh);
    free_peers_.reserve(peers_.capacity());
  }
  try {
    peer_index_.emplace(peer, pi);
    try {
      holders_.emplace(0, pi);
    } catch (...) {
      peer_index_.erase(peer);
      throw;
    }
  } catch (...) {
    free_peers_.push_back(pi);
    throw;
  }
  return pi;
}

// Forgets a peer that has no record left in the ring.
void key_store::free_peer(std::uint32_t pi) noexcept {
  peer_entry& p = peers_[pi];
  assert(p.live == 0 && p.records == 0);
  peer_index_.erase(p.id);
  holders_.erase({0, pi});
  free_peers_.push_back(pi);  // reserved in peer_slot(): no allocation
}

// Moves the peer to its place in holders_ after its live count changed from `live_before`.
void key_store::rerank(std::uint32_t pi, std::uint32_t live_before) noexcept {
  const std::uint32_t now_live = peers_[pi].live;
  if (now_live == live_before) return;
  // Reuses the node: no allocation, so nothing here can fail.
  auto node = holders_.extract({live_before, pi});
  assert(!node.empty());
  node.value().first = now_live;
  holders_.insert(std::move(node));
}

// ---- keys ----

// Destroys the live key at `seq`, which becomes a tombstone (`marker`: k_used or k_expired).
// The caller reranks its peer.
void key_store::destroy(std::uint64_t seq, std::uint32_t marker) noexcept {
  record& r = at(seq);
  assert(is_live(r.slot) && (marker == k_used || marker == k_expired));
  arena_.release(r.slot);  // zeroes the private key
  r.slot = marker;
  --live_;
  ++tombstones_;
  peer_entry& p = peers_[r.peer];
  --p.live;
  list_erase(p.live_keys, seq);
  list_push_back(p.tombstones, seq);
}

status key_store::insert(peer_id peer, const guid& id, time_point expiry,
                         function_ref<public_key(mutable_secret_key_view)> fill) {
  if (find(id) != npos) {
    return status(errc::invalid_argument, who(peer, id) + "GUID already in use");
  }
  if (live_ >= limits_.max_total) {
    return status(errc::limit_exceeded, "peer " + std::to_string(peer) + ": max_keys_total (" +
                                            std::to_string(limits_.max_total) +
                                            ") live keys reached");
  }
  if (live(peer) >= limits_.max_per_peer) {
    return status(errc::limit_exceeded, "peer " + std::to_string(peer) + ": max_keys_per_peer (" +
                                            std::to_string(limits_.max_per_peer) +
                                            ") live keys reached");
  }

  // Everything that can throw happens before the secret exists.
  if ((indexed_ + 1) * 4 > index_.size() * 3) rehash(std::max(k_min_buckets, index_.size() * 2));
  ensure_room(2);  // the key, and a filler record if this seq needs one (see push)
  heap_.reserve(heap_.size() + 1);
  const std::uint32_t pi = peer_slot(peer);

  auto slot = arena_.allocate();
  if (!slot.ok()) {
    if (peers_[pi].records == 0) free_peer(pi);
    return status(slot.error().code(), who(peer, id) + slot.error().message());
  }
  const std::span<byte> secret = arena_.bytes(*slot);
  public_key pub;
  try {
    pub = fill(mutable_secret_key_view(secret.data(), secret_key_size));
  } catch (...) {
    arena_.release(*slot);
    if (peers_[pi].records == 0) free_peer(pi);
    throw;
  }

  const std::int64_t t = ticks(expiry);
  push(record{id, pub, t, pi, *slot});
  const std::uint64_t seq = head_ - 1;
  index_insert(static_cast<std::uint32_t>(seq));
  if (t < high_water_) {
    heap_.push_back(heap_entry{t, seq});
    std::push_heap(heap_.begin(), heap_.end(), expires_later{});
  } else {
    high_water_ = t;
  }
  ++live_;
  peer_entry& p = peers_[pi];
  ++p.live;
  ++p.records;
  list_push_back(p.live_keys, seq);
  rerank(pi, p.live - 1);
  return status::success();
}

status key_store::open_with(const guid& id, time_point now,
                            function_ref<status(secret_key_view, const public_key&)> open,
                            peer_id* peer_out) {
  const std::size_t b = find(id);
  if (b == npos) return status(errc::unknown_key, unknown_message(id));
  const std::uint64_t seq = seq_of(index_[b]);
  record& r = at(seq);
  const peer_id owner = peers_[r.peer].id;
  if (peer_out != nullptr) *peer_out = owner;
  const std::int64_t t = ticks(now);

  // Time decides, not whether expire() has run yet (see the header).
  if (forget_at(r) <= t) return status(errc::unknown_key, unknown_message(id));
  if (r.slot == k_used) {
    return status(errc::replayed_key, who(owner, id) + "already used once (replay)");
  }
  if (r.slot == k_expired || r.expiry <= t) {
    return status(errc::expired_key, who(owner, id) + "time to live ran out");
  }

  const std::span<const byte> secret = arena_.bytes(r.slot);
  status opened = open(secret_key_view(secret.data(), secret_key_size), r.pub);
  if (!opened.ok()) return status(opened.code(), who(owner, id) + opened.message());
  const std::uint32_t pi = r.peer;
  destroy(seq, k_used);
  rerank(pi, peers_[pi].live + 1);
  return status::success();
}

key_state key_store::state(const guid& id, time_point now) const {
  const std::size_t b = find(id);
  if (b == npos) return key_state::unknown;
  const record& r = at(seq_of(index_[b]));
  const std::int64_t t = ticks(now);
  if (forget_at(r) <= t) return key_state::unknown;
  if (r.slot == k_used) return key_state::used;
  return is_live(r.slot) && r.expiry > t ? key_state::live : key_state::expired;
}

std::size_t key_store::expire(time_point now) {
  return expire(now, [](peer_id) {});
}

std::size_t key_store::expire(time_point now, function_ref<void(peer_id)> on_expired) {
  const std::int64_t t = ticks(now);
  std::size_t destroyed = 0;
  // Out-of-order keys first; entries for records already gone or no longer live are skipped.
  while (!heap_.empty() && heap_.front().expiry <= t) {
    const heap_entry e = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), expires_later{});
    heap_.pop_back();
    if (e.seq < tail_) continue;
    record& r = at(e.seq);
    if (is_live(r.slot)) {
      on_expired(peers_[r.peer].id);
      const std::uint32_t pi = r.peer;
      destroy(e.seq, k_expired);
      rerank(pi, peers_[pi].live + 1);
      ++destroyed;
    }
  }
  // In-order keys: every record past the first one not yet due is either later still or in the
  // heap (it was queued below high_water_).
  while (expired_to_ < head_) {
    record& r = at(expired_to_);
    if (r.expiry > t) break;
    if (is_live(r.slot)) {
      on_expired(peers_[r.peer].id);
      const std::uint32_t pi = r.peer;
      destroy(expired_to_, k_expired);
      rerank(pi, peers_[pi].live + 1);
      ++destroyed;
    }
    ++expired_to_;
  }
  if (expired_to_ == head_) high_water_ = k_min_time;
  trim(t);
  maybe_shrink_index();
  return destroyed;
}

std::size_t key_store::drop_peer(peer_id peer) {
  const auto it = peer_index_.find(peer);
  if (it == peer_index_.end()) return 0;
  const std::uint32_t pi = it->second;
  peer_entry& p = peers_[pi];
  const std::size_t destroyed = p.live;
  // The records stay in the ring until they reach its front, belonging to no peer.
  const auto forget = [&](std::uint32_t v) {
    while (v != k_empty) {
      ++touched_;
      const std::uint64_t seq = seq_of(v);
      record& r = at(seq);
      v = link_at(seq).next;
      if (is_live(r.slot)) {
        arena_.release(r.slot);  // zeroes the private key
        --live_;
      } else {
        --tombstones_;
      }
      index_erase(r.id);
      r.slot = k_dropped;
      r.peer = k_no_peer;
    }
  };
  forget(p.live_keys.head);
  forget(p.tombstones.head);
  const std::uint32_t live_before = p.live;
  p.live = 0;
  p.records = 0;
  p.live_keys = p.tombstones = list{k_empty, k_empty};
  rerank(pi, live_before);
  free_peer(pi);
  trim(k_min_time);
  maybe_shrink_index();
  return destroyed;
}

std::size_t key_store::retire_oldest(peer_id peer, std::size_t n) {
  const auto it = peer_index_.find(peer);
  if (it == peer_index_.end()) return 0;
  const std::uint32_t pi = it->second;
  const std::uint32_t live_before = peers_[pi].live;
  std::size_t destroyed = 0;
  for (; destroyed < n && peers_[pi].live_keys.head != k_empty; ++destroyed) {
    ++touched_;
    destroy(seq_of(peers_[pi].live_keys.head), k_expired);
  }
  rerank(pi, live_before);
  return destroyed;
}

status key_store::retire(const guid& id) {
  const std::size_t b = find(id);
  const std::uint64_t seq = b == npos ? 0 : seq_of(index_[b]);
  if (b == npos || !is_live(at(seq).slot)) {
    return status(errc::unknown_key, "key " + id.short_hex() + ": no live key to retire");
  }
  const std::uint32_t pi = at(seq).peer;
  destroy(seq, k_expired);
  rerank(pi, peers_[pi].live + 1);
  return status::success();
}

std::optional<peer_id> key_store::owner(const guid& id) const {
  const std::size_t b = find(id);
  if (b == npos) return std::nullopt;
  return peers_[at(seq_of(index_[b])).peer].id;
}

std::optional<peer_id> key_store::largest_holder() const {
  if (holders_.empty() || holders_.rbegin()->first == 0) return std::nullopt;
  return peers_[holders_.rbegin()->second].id;
}

std::size_t key_store::live() const noexcept { return live_; }

std::size_t key_store::live(peer_id peer) const noexcept {
  const auto it = peer_index_.find(peer);
  return it == peer_index_.end() ? 0 : peers_[it->second].live;
}

std::size_t key_store::tombstones() const noexcept { return tombstones_; }

std::optional<time_point> key_store::next_expiry() const {
  if (live_ == 0) return std::nullopt;
  // The first live record in the ring has the earliest expiry among the in-order records; a
  // heap record is earlier than every in-order record queued after it, so the heap's earliest
  // live entry and this one together give the minimum.
  while (!heap_.empty() && (heap_.front().seq < tail_ || !is_live(at(heap_.front().seq).slot))) {
    std::pop_heap(heap_.begin(), heap_.end(), expires_later{});
    heap_.pop_back();
  }
  scan_ = std::max(scan_, expired_to_);
  while (scan_ < head_ && !is_live(at(scan_).slot)) ++scan_;
  std::int64_t best = k_max_time;
  if (scan_ < head_) best = at(scan_).expiry;
  if (!heap_.empty()) best = std::min(best, heap_.front().expiry);
  return from_ticks(best);
}

std::size_t key_store::locked_bytes() const noexcept { return arena_.locked_bytes(); }

std::size_t key_store::bookkeeping_bytes() const noexcept {
  // unordered_map: a node holds the next pointer and the pair; malloc rounds it to 32 bytes.
  constexpr std::size_t map_node = 32;
  // std::set: a node holds three pointers, the colour and the pair; malloc rounds it to 48 bytes.
  constexpr std::size_t set_node = 48;
  return sizeof(*this) + (blocks_.size() + (spare_ ? 1 : 0)) * sizeof(block) +
         blocks_.capacity() * sizeof(blocks_[0]) + heap_.capacity() * sizeof(heap_entry) +
         index_.capacity() * sizeof(std::uint32_t) + peers_.capacity() * sizeof(peer_entry) +
         free_peers_.capacity() * sizeof(std::uint32_t) + peer_index_.size() * map_node +
         peer_index_.bucket_count() * sizeof(void*) + holders_.size() * set_node +
         arena_.bookkeeping_bytes();
}

bool key_store::fully_locked() const noexcept { return arena_.fully_locked(); }

}  // namespace cryptcom::keys
