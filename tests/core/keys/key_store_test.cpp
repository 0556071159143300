#include "keys/key_store.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cryptcom/random.hpp"

namespace cryptcom::keys {

// How many records the store's operations walked so far: the work they did, counted.
struct key_store_probe {
  static std::uint64_t touched(const key_store& store) { return store.touched_; }
};

namespace {

using namespace std::chrono_literals;

const time_point t0 = time_point{} + 1000h;

bool all_zero(const byte* p, std::size_t n) {
  return std::all_of(p, p + n, [](byte x) { return x == 0; });
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Issues real X25519 pairs and remembers where each private key was put, so tests can check
// that the store's slot is wiped when the key is destroyed.
struct issuer {
  std::unique_ptr<random_source> random = make_deterministic_random(42);
  std::map<std::string, const byte*> where;  // GUID hex -> the locked slot
  int fills = 0;

  guid new_guid() { return random->next_guid(); }

  status insert(key_store& store, peer_id peer, const guid& id, time_point expiry) {
    return store.insert(peer, id, expiry, [&](mutable_secret_key_view secret) {
      ++fills;
      public_key pub;
      crypto_box_keypair(pub.bytes.data(), secret.data());
      where[id.hex()] = secret.data();
      return pub;
    });
  }

  guid add(key_store& store, peer_id peer, time_point expiry) {
    const guid id = new_guid();
    const status s = insert(store, peer, id, expiry);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return id;
  }

  bool wiped(const guid& id) { return all_zero(where.at(id.hex()), secret_key_size); }
};

// An open callback that checks the store hands back the private key that matches the public key.
struct opener {
  int calls = 0;
  bool matched = false;
  status result = status::success();

  status operator()(secret_key_view secret, const public_key& pub) {
    ++calls;
    public_key derived;
    matched = crypto_scalarmult_base(derived.bytes.data(), secret.data()) == 0 && derived == pub;
    return result;
  }
};

key_store_limits small_limits() {
  key_store_limits l;
  l.max_total = 16;
  l.max_per_peer = 8;
  l.tombstone_grace = 30s;
  return l;
}

TEST(key_store, inserted_key_is_live_and_opens_with_its_own_private_key) {
  key_store store(small_limits());
  issuer keys;
  const guid id = keys.add(store, 3, t0 + 60s);
  EXPECT_EQ(store.live(), 1u);
  EXPECT_EQ(store.live(3), 1u);
  EXPECT_EQ(store.state(id, t0), key_state::live);
  EXPECT_FALSE(keys.wiped(id));

  opener open;
  peer_id owner = 0;
  const status s = store.open_with(id, t0 + 1s, std::ref(open), &owner);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(open.calls, 1);
  EXPECT_TRUE(open.matched);
  EXPECT_EQ(owner, 3u);
}

TEST(key_store, successful_open_destroys_the_key_and_a_second_open_is_a_replay) {
  key_store store(small_limits());
  issuer keys;
  const guid id = keys.add(store, 5, t0 + 60s);
  opener open;
  ASSERT_TRUE(store.open_with(id, t0, std::ref(open)).ok());
  EXPECT_TRUE(keys.wiped(id));
  EXPECT_EQ(store.live(), 0u);
  EXPECT_EQ(store.live(5), 0u);
  EXPECT_EQ(store.tombstones(), 1u);
  EXPECT_EQ(store.state(id, t0), key_state::used);

  peer_id owner = 0;
  const status again = store.open_with(id, t0 + 1s, std::ref(open), &owner);
  EXPECT_EQ(again.code(), errc::replayed_key);
  EXPECT_EQ(open.calls, 1) << "a used key must not be offered to open again";
  EXPECT_EQ(owner, 5u);
  EXPECT_TRUE(has(again.message(), "peer 5")) << again.message();
  EXPECT_TRUE(has(again.message(), id.short_hex())) << again.message();
}

TEST(key_store, failed_open_keeps_the_key_live_for_the_genuine_message) {
  key_store store(small_limits());
  issuer keys;
  const guid id = keys.add(store, 4, t0 + 60s);
  opener tampered;
  tampered.result = status(errc::authentication_failed, "tag mismatch");
  const status s = store.open_with(id, t0, std::ref(tampered));
  EXPECT_EQ(s.code(), errc::authentication_failed);
  EXPECT_TRUE(has(s.message(), "peer 4")) << s.message();
  EXPECT_TRUE(has(s.message(), id.short_hex())) << s.message();
  EXPECT_TRUE(has(s.message(), "tag mismatch")) << s.message();
  EXPECT_EQ(store.state(id, t0), key_state::live);
  EXPECT_FALSE(keys.wiped(id));
  EXPECT_EQ(store.tombstones(), 0u);

  opener genuine;
  EXPECT_TRUE(store.open_with(id, t0, std::ref(genuine)).ok());
  EXPECT_TRUE(genuine.matched);
  EXPECT_TRUE(keys.wiped(id));
}

TEST(key_store, unknown_guid_is_unknown_key_naming_it) {
  key_store store(small_limits());
  issuer keys;
  keys.add(store, 1, t0 + 60s);
  const guid stranger = keys.new_guid();
  opener open;
  peer_id owner = 77;
  const status s = store.open_with(stranger, t0, std::ref(open), &owner);
  EXPECT_EQ(s.code(), errc::unknown_key);
  EXPECT_TRUE(has(s.message(), stranger.short_hex())) << s.message();
  EXPECT_EQ(open.calls, 0);
  EXPECT_EQ(owner, 77u) << "no owner is known for an unknown key";
  EXPECT_EQ(store.state(stranger, t0), key_state::unknown);
}

TEST(key_store, key_past_its_expiry_is_expired_even_before_expire_runs) {
  key_store store(small_limits());
  issuer keys;
  const guid id = keys.add(store, 2, t0 + 10s);
  EXPECT_EQ(store.state(id, t0 + 10s - 1ns), key_state::live);
  EXPECT_EQ(store.state(id, t0 + 10s), key_state::expired);  // expiry is the first dead instant
  opener open;
  const status s = store.open_with(id, t0 + 10s, std::ref(open));
  EXPECT_EQ(s.code(), errc::expired_key);
  EXPECT_TRUE(has(s.message(), "peer 2")) << s.message();
  EXPECT_TRUE(has(s.message(), id.short_hex())) << s.message();
  EXPECT_EQ(open.calls, 0);
}

TEST(key_store, expire_destroys_due_keys_which_then_read_as_expired) {
  key_store store(small_limits());
  issuer keys;
  const guid soon = keys.add(store, 2, t0 + 10s);
  const guid later = keys.add(store, 2, t0 + 20s);
  EXPECT_EQ(store.expire(t0 + 9s), 0u);
  EXPECT_FALSE(keys.wiped(soon));

  EXPECT_EQ(store.expire(t0 + 10s), 1u);
  EXPECT_TRUE(keys.wiped(soon));
  EXPECT_FALSE(keys.wiped(later));
  EXPECT_EQ(store.live(), 1u);
  EXPECT_EQ(store.tombstones(), 1u);
  EXPECT_EQ(store.state(soon, t0 + 10s), key_state::expired);
  opener open;
  EXPECT_EQ(store.open_with(soon, t0 + 11s, std::ref(open)).code(), errc::expired_key);
  EXPECT_EQ(open.calls, 0);
}

TEST(key_store, tombstones_are_forgotten_after_the_grace_and_then_read_as_unknown) {
  key_store store(small_limits());  // grace 30 s
  issuer keys;
  const guid used = keys.add(store, 1, t0 + 10s);
  const guid expired = keys.add(store, 1, t0 + 10s);
  opener open;
  ASSERT_TRUE(store.open_with(used, t0, std::ref(open)).ok());
  EXPECT_EQ(store.expire(t0 + 10s), 1u);
  EXPECT_EQ(store.tombstones(), 2u);

  const time_point edge = t0 + 10s + 30s;
  EXPECT_EQ(store.state(used, edge - 1ns), key_state::used);
  EXPECT_EQ(store.state(expired, edge - 1ns), key_state::expired);
  // The answer turns at expiry + grace whether or not expire() has run since.
  EXPECT_EQ(store.state(used, edge), key_state::unknown);
  EXPECT_EQ(store.open_with(used, edge, std::ref(open)).code(), errc::unknown_key);
  EXPECT_EQ(store.open_with(expired, edge, std::ref(open)).code(), errc::unknown_key);

  EXPECT_EQ(store.expire(edge), 0u);
  EXPECT_EQ(store.tombstones(), 0u);
  EXPECT_EQ(store.state(used, edge), key_state::unknown);
  EXPECT_EQ(open.calls, 1);
}

TEST(key_store, per_peer_bound_names_the_bound_its_value_and_the_peer) {
  key_store_limits limits = small_limits();
  limits.max_per_peer = 3;
  key_store store(limits);
  issuer keys;
  for (int i = 0; i < 3; ++i) keys.add(store, 9, t0 + 60s);
  const int fills = keys.fills;
  const status s = keys.insert(store, 9, keys.new_guid(), t0 + 60s);
  EXPECT_EQ(s.code(), errc::limit_exceeded);
  EXPECT_TRUE(has(s.message(), "max_keys_per_peer (3)")) << s.message();
  EXPECT_TRUE(has(s.message(), "peer 9")) << s.message();
  EXPECT_EQ(keys.fills, fills) << "fill must not run when the bound refuses the key";
  EXPECT_EQ(store.live(9), 3u);

  EXPECT_TRUE(keys.insert(store, 10, keys.new_guid(), t0 + 60s).ok()) << "other peers unaffected";
}

TEST(key_store, total_bound_names_the_bound_its_value_and_the_peer_and_frees_up_on_use) {
  key_store_limits limits = small_limits();
  limits.max_total = 5;
  limits.max_per_peer = 3;
  key_store store(limits);
  issuer keys;
  std::vector<guid> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(keys.add(store, 1, t0 + 60s));
  for (int i = 0; i < 2; ++i) ids.push_back(keys.add(store, 2, t0 + 60s));
  const status s = keys.insert(store, 3, keys.new_guid(), t0 + 60s);
  EXPECT_EQ(s.code(), errc::limit_exceeded);
  EXPECT_TRUE(has(s.message(), "max_keys_total (5)")) << s.message();
  EXPECT_TRUE(has(s.message(), "peer 3")) << s.message();

  opener open;
  ASSERT_TRUE(store.open_with(ids[0], t0, std::ref(open)).ok());
  EXPECT_TRUE(keys.insert(store, 3, keys.new_guid(), t0 + 60s).ok());
  EXPECT_EQ(store.live(), 5u);
}

TEST(key_store, duplicate_guid_is_refused_also_while_it_is_a_tombstone) {
  key_store store(small_limits());
  issuer keys;
  const guid id = keys.add(store, 1, t0 + 60s);
  status dup = keys.insert(store, 2, id, t0 + 60s);
  EXPECT_EQ(dup.code(), errc::invalid_argument);
  EXPECT_TRUE(has(dup.message(), id.short_hex())) << dup.message();
  EXPECT_EQ(store.live(), 1u);

  opener open;
  ASSERT_TRUE(store.open_with(id, t0, std::ref(open)).ok());
  dup = keys.insert(store, 1, id, t0 + 60s);
  EXPECT_EQ(dup.code(), errc::invalid_argument);
  EXPECT_EQ(store.state(id, t0), key_state::used);
}

TEST(key_store, drop_peer_destroys_its_keys_and_tombstones_and_spares_the_others) {
  key_store store(small_limits());
  issuer keys;
  const guid a1 = keys.add(store, 1, t0 + 60s);
  const guid b1 = keys.add(store, 2, t0 + 60s);
  const guid a2 = keys.add(store, 1, t0 + 60s);
  const guid a3 = keys.add(store, 1, t0 + 60s);
  opener open;
  ASSERT_TRUE(store.open_with(a3, t0, std::ref(open)).ok());

  EXPECT_EQ(store.drop_peer(1), 2u);
  EXPECT_TRUE(keys.wiped(a1));
  EXPECT_TRUE(keys.wiped(a2));
  EXPECT_EQ(store.live(1), 0u);
  EXPECT_EQ(store.live(), 1u);
  EXPECT_EQ(store.tombstones(), 0u);
  for (const guid& g : {a1, a2, a3}) {
    EXPECT_EQ(store.state(g, t0), key_state::unknown);
    EXPECT_EQ(store.open_with(g, t0, std::ref(open)).code(), errc::unknown_key);
  }
  EXPECT_EQ(store.drop_peer(1), 0u);
  EXPECT_EQ(store.drop_peer(99), 0u);

  ASSERT_TRUE(store.open_with(b1, t0, std::ref(open)).ok());
  EXPECT_TRUE(open.matched);
  // The restarted peer gets fresh keys.
  const guid fresh = keys.add(store, 1, t0 + 60s);
  EXPECT_EQ(store.state(fresh, t0), key_state::live);
  EXPECT_EQ(store.live(1), 1u);
}

TEST(key_store, next_expiry_follows_the_earliest_live_key_even_out_of_order) {
  key_store store(small_limits());
  issuer keys;
  EXPECT_FALSE(store.next_expiry().has_value());
  const guid a = keys.add(store, 1, t0 + 60s);
  const guid b = keys.add(store, 1, t0 + 10s);  // earlier than one already queued
  const guid c = keys.add(store, 2, t0 + 30s);
  keys.add(store, 2, t0 + 70s);
  ASSERT_TRUE(store.next_expiry().has_value());
  EXPECT_EQ(*store.next_expiry(), t0 + 10s);

  EXPECT_EQ(store.expire(t0 + 15s), 1u);
  EXPECT_TRUE(keys.wiped(b));
  EXPECT_FALSE(keys.wiped(a));
  EXPECT_FALSE(keys.wiped(c));
  EXPECT_EQ(*store.next_expiry(), t0 + 30s);

  EXPECT_EQ(store.expire(t0 + 35s), 1u);
  EXPECT_TRUE(keys.wiped(c));
  EXPECT_EQ(*store.next_expiry(), t0 + 60s);

  opener open;
  ASSERT_TRUE(store.open_with(a, t0 + 40s, std::ref(open)).ok());
  EXPECT_EQ(*store.next_expiry(), t0 + 70s);
  EXPECT_EQ(store.expire(t0 + 70s), 1u);
  EXPECT_FALSE(store.next_expiry().has_value());
}

TEST(key_store, hundreds_of_keys_across_the_index_wrap_all_open_once) {
  key_store_limits limits;
  limits.max_per_peer = 1000;
  key_store store(limits);
  issuer keys;
  std::vector<guid> ids;
  // The store's sequence numbers cross 2^32 after 255 keys (on purpose, see key_store.cpp).
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 300; ++i) ids.push_back(keys.add(store, 1, t0 + 60s));
    // Use them in a scrambled order.
    for (std::size_t i = 0; i < ids.size(); ++i) std::swap(ids[i], ids[(i * 7919) % ids.size()]);
    opener open;
    for (const guid& g : ids) ASSERT_TRUE(store.open_with(g, t0, std::ref(open)).ok());
    for (const guid& g : ids) EXPECT_EQ(store.state(g, t0), key_state::used);
    EXPECT_EQ(store.live(), 0u);
    EXPECT_EQ(store.expire(t0 + 60s + limits.tombstone_grace), 0u);
    EXPECT_EQ(store.tombstones(), 0u);
    ids.clear();
  }
}

TEST(key_store, retire_oldest_destroys_the_peers_oldest_live_keys_as_expired_tombstones) {
  key_store store(small_limits());
  issuer keys;
  const guid a1 = keys.add(store, 1, t0 + 60s);
  const guid b1 = keys.add(store, 2, t0 + 10s);
  const guid a2 = keys.add(store, 1, t0 + 50s);
  const guid a3 = keys.add(store, 1, t0 + 40s);
  const guid a4 = keys.add(store, 1, t0 + 30s);
  opener open;
  ASSERT_TRUE(store.open_with(a2, t0, std::ref(open)).ok());  // a used key is not retired again

  EXPECT_EQ(store.retire_oldest(1, 2), 2u);
  for (const guid& g : {a1, a3}) {
    EXPECT_TRUE(keys.wiped(g));
    EXPECT_EQ(store.state(g, t0), key_state::expired);
    // The sender that still seals to it is told the key expired, and re-seals.
    EXPECT_EQ(store.open_with(g, t0, std::ref(open)).code(), errc::expired_key);
    EXPECT_EQ(store.owner(g), 1u);
  }
  EXPECT_EQ(store.state(a2, t0), key_state::used);
  EXPECT_EQ(store.state(a4, t0), key_state::live);
  EXPECT_FALSE(keys.wiped(a4));
  EXPECT_EQ(store.live(1), 1u);
  EXPECT_EQ(store.live(), 2u);
  EXPECT_EQ(store.tombstones(), 3u);

  EXPECT_EQ(store.retire_oldest(1, 5), 1u) << "only what the peer holds";
  EXPECT_TRUE(keys.wiped(a4));
  EXPECT_EQ(store.retire_oldest(1, 5), 0u);
  EXPECT_EQ(store.retire_oldest(2, 0), 0u);
  EXPECT_EQ(store.retire_oldest(99, 3), 0u);
  EXPECT_EQ(store.state(b1, t0), key_state::live);
  EXPECT_EQ(store.next_expiry(), t0 + 10s);
  // Retired keys are no longer due to expire; their tombstones go after expiry + grace.
  EXPECT_EQ(store.expire(t0 + 60s), 1u);
  EXPECT_EQ(store.expire(t0 + 60s + small_limits().tombstone_grace), 0u);
  EXPECT_EQ(store.tombstones(), 0u);
  EXPECT_EQ(store.owner(a1), std::nullopt);
}

TEST(key_store, retire_destroys_one_live_key_and_refuses_anything_else_as_unknown_key) {
  key_store store(small_limits());
  issuer keys;
  const guid a = keys.add(store, 1, t0 + 60s);
  const guid b = keys.add(store, 1, t0 + 60s);
  const guid late = keys.add(store, 2, t0 + 1s);
  opener open;
  ASSERT_TRUE(store.open_with(b, t0, std::ref(open)).ok());

  ASSERT_TRUE(store.retire(a).ok());
  EXPECT_TRUE(keys.wiped(a));
  EXPECT_EQ(store.state(a, t0), key_state::expired);
  EXPECT_EQ(store.open_with(a, t0, std::ref(open)).code(), errc::expired_key);
  EXPECT_EQ(store.live(1), 0u);

  const guid never = keys.new_guid();
  for (const guid& g : {a, b, never}) {
    const status s = store.retire(g);
    EXPECT_EQ(s.code(), errc::unknown_key);
    EXPECT_TRUE(has(s.message(), g.short_hex())) << s.message();
  }
  EXPECT_EQ(store.state(b, t0), key_state::used) << "a refused retire changes nothing";

  // Past its expiry but not yet reached by expire(): still holds its secret, which goes now.
  ASSERT_TRUE(store.retire(late).ok());
  EXPECT_TRUE(keys.wiped(late));
  EXPECT_EQ(store.expire(t0 + 2s), 0u);
  EXPECT_EQ(store.live(), 0u);
  EXPECT_EQ(store.next_expiry(), std::nullopt);
}

TEST(key_store, owner_names_the_peer_of_a_live_key_or_tombstone_until_it_is_forgotten) {
  key_store store(small_limits());
  issuer keys;
  const guid a = keys.add(store, 7, t0 + 60s);
  const guid b = keys.add(store, 8, t0 + 60s);
  const guid c = keys.add(store, 8, t0 + 60s);
  opener open;
  ASSERT_TRUE(store.open_with(b, t0, std::ref(open)).ok());
  EXPECT_EQ(store.owner(a), 7u);
  EXPECT_EQ(store.owner(b), 8u);
  EXPECT_EQ(store.owner(c), 8u);
  EXPECT_EQ(store.owner(keys.new_guid()), std::nullopt);
  EXPECT_EQ(store.drop_peer(8), 1u);
  EXPECT_EQ(store.owner(b), std::nullopt);
  EXPECT_EQ(store.owner(c), std::nullopt);
  EXPECT_EQ(store.owner(a), 7u);
}

TEST(key_store, largest_holder_follows_live_counts_through_every_change) {
  key_store_limits limits = small_limits();
  key_store store(limits);
  issuer keys;
  EXPECT_EQ(store.largest_holder(), std::nullopt);
  const guid a1 = keys.add(store, 1, t0 + 60s);
  EXPECT_EQ(store.largest_holder(), 1u);
  const guid b1 = keys.add(store, 2, t0 + 5s);
  const guid b2 = keys.add(store, 2, t0 + 60s);
  EXPECT_EQ(store.largest_holder(), 2u);
  const guid c1 = keys.add(store, 3, t0 + 60s);
  const guid c2 = keys.add(store, 3, t0 + 60s);
  const guid c3 = keys.add(store, 3, t0 + 60s);
  EXPECT_EQ(store.largest_holder(), 3u);
  opener open;
  ASSERT_TRUE(store.open_with(c1, t0, std::ref(open)).ok());  // 3 holds 2, tied with 2
  const auto tied = store.largest_holder();
  EXPECT_TRUE(tied == 2u || tied == 3u);
  ASSERT_TRUE(store.retire(c2).ok());
  EXPECT_EQ(store.largest_holder(), 2u);
  EXPECT_EQ(store.expire(t0 + 5s), 1u);  // b1: 2 now holds 1, like 1 and 3
  EXPECT_EQ(store.retire_oldest(2, 1), 1u);
  EXPECT_EQ(store.drop_peer(3), 1u);
  EXPECT_EQ(store.largest_holder(), 1u);
  ASSERT_TRUE(store.retire(a1).ok());
  EXPECT_EQ(store.largest_holder(), std::nullopt) << "tombstones hold nothing";
  (void)b1;
  (void)b2;
  (void)c3;
}

// Dropping a peer (a restart announced by a new instance id, possibly on every frame of a
// hostile peer) costs that peer's own records, not the ring's.
TEST(key_store, drop_peer_and_retire_oldest_touch_only_the_peers_own_records) {
  key_store_limits limits;
  limits.max_total = 70000;
  limits.max_per_peer = 4096;
  key_store store(limits);
  auto random = make_deterministic_random(5);
  const auto cheap = [](mutable_secret_key_view secret) {
    randombytes_buf(secret.data(), secret.size());
    return public_key{};
  };
  std::vector<guid> mine;
  for (std::size_t i = 0; i < 60000; ++i) {
    // Twenty other peers, and in their midst three keys of peer 99 (one of them used).
    ASSERT_TRUE(store.insert(i % 20, random->next_guid(), t0 + 60s, cheap).ok());
    if (i % 20000 == 10000) {
      mine.push_back(random->next_guid());
      ASSERT_TRUE(store.insert(99, mine.back(), t0 + 60s, cheap).ok());
    }
  }
  ASSERT_EQ(mine.size(), 3u);
  ASSERT_TRUE(store
                  .open_with(mine[1], t0,
                             [](secret_key_view, const public_key&) { return status::success(); })
                  .ok());

  std::uint64_t before = key_store_probe::touched(store);
  EXPECT_EQ(store.drop_peer(99), 2u);
  EXPECT_EQ(key_store_probe::touched(store) - before, 3u) << "its two keys and one tombstone";
  EXPECT_EQ(store.live(), 60000u);
  for (const guid& g : mine) EXPECT_EQ(store.state(g, t0), key_state::unknown);

  // Twenty of peer 7's 3,000 keys, the oldest, ten at a time: the second ten lie behind the
  // first ten's tombstones, which are not walked again.
  before = key_store_probe::touched(store);
  EXPECT_EQ(store.retire_oldest(7, 10), 10u);
  EXPECT_EQ(store.retire_oldest(7, 10), 10u);
  EXPECT_EQ(key_store_probe::touched(store) - before, 20u);
  EXPECT_EQ(store.live(7), 2980u);
  ASSERT_TRUE(store.largest_holder().has_value());
  EXPECT_NE(store.largest_holder(), 7u);

  before = key_store_probe::touched(store);
  EXPECT_EQ(store.drop_peer(7), 2980u);
  EXPECT_EQ(key_store_probe::touched(store) - before, 3000u) << "2,980 keys and 20 tombstones";
  EXPECT_EQ(store.live(), 57000u);
}

// ---- a reference model, driven at random against the store ----

struct model_key {
  guid id;
  peer_id peer;
  time_point expiry;
  bool used = false;
  bool destroyed = false;  // by expire() (still a tombstone) or drop_peer (gone)
  bool dropped = false;
};

TEST(key_store, agrees_with_a_reference_model_over_random_operations) {
  key_store_limits limits;
  limits.max_total = 120;
  limits.max_per_peer = 40;
  limits.tombstone_grace = 20s;
  key_store store(limits);
  issuer keys;
  auto dice = make_deterministic_random(7);
  auto roll = [&](std::uint32_t n) {
    std::array<byte, 4> b{};
    dice->fill(b);
    return (std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 |
            std::uint32_t{b[3]} << 24) %
           n;
  };

  std::vector<model_key> model;     // in issue order
  std::vector<guid> gone;           // forgotten for good (time only moves forward): unknown
  std::size_t gone_tombstones = 0;  // of those, tombstones the store may not have reached yet
  time_point now = t0;
  const auto forgotten = [&](const model_key& k) {
    return k.dropped || k.expiry + limits.tombstone_grace <= now;
  };
  const auto expected_state = [&](const model_key& k) {
    if (forgotten(k)) return key_state::unknown;
    if (k.used) return key_state::used;
    return k.destroyed || k.expiry <= now ? key_state::expired : key_state::live;
  };
  const auto is_live = [](const model_key& k) { return !k.used && !k.destroyed && !k.dropped; };

  for (int step = 0; step < 4000; ++step) {
    const std::uint32_t op = roll(100);
    if (op < 40) {  // insert
      const peer_id peer = roll(5);
      const std::uint32_t kind = roll(10);
      const duration ttl = kind < 7   ? duration(60s)
                           : kind < 9 ? duration(10s)
                                      : duration(std::chrono::seconds(roll(90)));
      std::size_t live_total = 0;
      std::size_t live_peer = 0;
      for (const model_key& k : model) {
        if (!is_live(k)) continue;
        ++live_total;
        if (k.peer == peer) ++live_peer;
      }
      const guid id = keys.new_guid();
      const status s = keys.insert(store, peer, id, now + ttl);
      if (live_total >= limits.max_total || live_peer >= limits.max_per_peer) {
        ASSERT_EQ(s.code(), errc::limit_exceeded) << step;
      } else {
        ASSERT_TRUE(s.ok()) << step << " " << s.to_string();
        model.push_back(model_key{id, peer, now + ttl});
      }
    } else if (op < 70 && !model.empty()) {  // open, sometimes a forged copy
      model_key& k = model[roll(static_cast<std::uint32_t>(model.size()))];
      const guid id = k.id;
      opener open;
      const bool forged = roll(5) == 0;
      if (forged) open.result = status(errc::authentication_failed, "forged");
      peer_id owner = 1000;
      const status s = store.open_with(id, now, std::ref(open), &owner);
      const key_state before = expected_state(k);
      switch (before) {
        case key_state::unknown:
          ASSERT_EQ(s.code(), errc::unknown_key) << step;
          break;
        case key_state::used:
          ASSERT_EQ(s.code(), errc::replayed_key) << step;
          break;
        case key_state::expired:
          ASSERT_EQ(s.code(), errc::expired_key) << step;
          break;
        case key_state::live:
          ASSERT_EQ(open.calls, 1) << step;
          ASSERT_TRUE(open.matched) << step;
          if (forged) {
            ASSERT_EQ(s.code(), errc::authentication_failed) << step;
          } else {
            ASSERT_TRUE(s.ok()) << step;
            ASSERT_TRUE(keys.wiped(id)) << step;
            k.used = true;
          }
          break;
      }
      if (before != key_state::live) {
        ASSERT_EQ(open.calls, 0) << step;
      }
      if (before != key_state::unknown) {
        ASSERT_EQ(owner, k.peer) << step;
      }
    } else if (op < 80) {  // time passes
      now += std::chrono::milliseconds(roll(4000));
    } else if (op < 91) {  // expire
      std::size_t due = 0;
      std::vector<guid> destroyed_now;
      for (model_key& k : model) {
        if (is_live(k) && k.expiry <= now) {
          k.destroyed = true;
          ++due;
          destroyed_now.push_back(k.id);
        }
      }
      ASSERT_EQ(store.expire(now), due) << step;
      for (const guid& g : destroyed_now) ASSERT_TRUE(keys.wiped(g)) << step;
    } else if (op < 94 && !model.empty()) {  // one key retired (it failed to open too often)
      model_key& k = model[roll(static_cast<std::uint32_t>(model.size()))];
      const status s = store.retire(k.id);
      if (is_live(k)) {
        ASSERT_TRUE(s.ok()) << step << " " << s.to_string();
        ASSERT_TRUE(keys.wiped(k.id)) << step;
        k.destroyed = true;
      } else {
        ASSERT_EQ(s.code(), errc::unknown_key) << step;
      }
    } else if (op < 97) {  // a peer's oldest keys retired
      const peer_id peer = roll(5);
      const std::size_t n = roll(4);
      std::vector<guid> retired;
      for (model_key& k : model) {
        if (retired.size() == n) break;
        if (k.peer != peer || !is_live(k)) continue;
        k.destroyed = true;
        retired.push_back(k.id);
      }
      ASSERT_EQ(store.retire_oldest(peer, n), retired.size()) << step;
      for (const guid& g : retired) ASSERT_TRUE(keys.wiped(g)) << step;
    } else {  // a peer restarts
      const peer_id peer = roll(5);
      std::size_t dropped = 0;
      std::vector<guid> wiped;
      for (model_key& k : model) {
        if (k.peer != peer || k.dropped) continue;
        if (is_live(k)) {
          ++dropped;
          wiped.push_back(k.id);
        }
        k.dropped = true;
      }
      ASSERT_EQ(store.drop_peer(peer), dropped) << step;
      for (const guid& g : wiped) ASSERT_TRUE(keys.wiped(g)) << step;
    }

    // Invariants after every step.
    std::size_t live_total = 0;
    std::size_t tombstones_due = 0;
    std::size_t tombstones_kept = 0;
    std::optional<time_point> earliest;
    std::array<std::size_t, 5> per_peer{};
    for (const model_key& k : model) {
      if (is_live(k)) {
        ++live_total;
        ++per_peer[k.peer];
        if (!earliest || k.expiry < *earliest) earliest = k.expiry;
      } else if (!k.dropped && (k.used || k.destroyed)) {
        ++tombstones_kept;
        if (!forgotten(k)) ++tombstones_due;
      }
    }
    ASSERT_EQ(store.live(), live_total) << step;
    for (peer_id p = 0; p < 5; ++p) ASSERT_EQ(store.live(p), per_peer[p]) << step;
    const std::optional<peer_id> largest = store.largest_holder();
    if (live_total == 0) {
      ASSERT_FALSE(largest.has_value()) << step;
    } else {
      ASSERT_TRUE(largest.has_value()) << step;
      ASSERT_LT(*largest, 5u) << step;
      ASSERT_EQ(per_peer[*largest], *std::max_element(per_peer.begin(), per_peer.end())) << step;
    }
    ASSERT_EQ(store.next_expiry(), earliest) << step;
    // Forgetting may lag behind time (never ahead of it), and reads as unknown meanwhile.
    ASSERT_GE(store.tombstones(), tombstones_due) << step;
    ASSERT_LE(store.tombstones(), tombstones_kept + gone_tombstones) << step;
    for (int i = 0; i < 4 && !model.empty(); ++i) {
      const model_key& k = model[roll(static_cast<std::uint32_t>(model.size()))];
      ASSERT_EQ(store.state(k.id, now), expected_state(k)) << step;
      if (k.dropped) {
        ASSERT_EQ(store.owner(k.id), std::nullopt) << step;
      } else if (!forgotten(k)) {
        ASSERT_EQ(store.owner(k.id), k.peer) << step;
      }
    }
    if (!gone.empty()) {
      const guid& g = gone[roll(static_cast<std::uint32_t>(gone.size()))];
      ASSERT_EQ(store.state(g, now), key_state::unknown) << step;
    }
    // Keeps the model's scans short.
    if (step % 64 == 0) {
      const auto first_gone =
          std::stable_partition(model.begin(), model.end(),
                                [&](const model_key& k) { return is_live(k) || !forgotten(k); });
      for (auto it = first_gone; it != model.end(); ++it) {
        gone.push_back(it->id);
        if (!it->dropped) ++gone_tombstones;
      }
      model.erase(first_gone, model.end());
    }
  }
}

// ---- memory ----

double bytes_per_live_key(std::size_t n) {
  key_store store(key_store_limits{});  // the defaults: 65536 total, 4096 per peer
  auto random = make_deterministic_random(n);
  for (std::size_t i = 0; i < n; ++i) {
    const status s = store.insert(i % 64, random->next_guid(),
                                  t0 + 60s + std::chrono::milliseconds(static_cast<long>(i)),
                                  [i](mutable_secret_key_view secret) {
                                    // Memory is the point here, not X25519: any bytes do.
                                    std::memcpy(secret.data(), &i, sizeof(i));
                                    public_key pub;
                                    std::memcpy(pub.bytes.data(), &i, sizeof(i));
                                    return pub;
                                  });
    if (!s.ok()) {
      ADD_FAILURE() << s.to_string();
      break;
    }
  }
  EXPECT_EQ(store.live(), n);
  return static_cast<double>(store.bookkeeping_bytes() + store.locked_bytes()) /
         static_cast<double>(store.live());
}

TEST(key_store, costs_under_128_bytes_per_live_key_at_10k_and_65k_keys) {
  for (const std::size_t n : {std::size_t{10000}, std::size_t{65000}}) {
    const double per_key = bytes_per_live_key(n);
    std::cout << "[ memory   ] " << n << " live keys: " << per_key
              << " bytes per key (locked slot and public key included)\n";
    EXPECT_LT(per_key, 128.0) << n << " keys";
    ::testing::Test::RecordProperty("bytes_per_key_" + std::to_string(n), std::to_string(per_key));
  }
}

TEST(key_store, memory_is_given_back_when_keys_are_forgotten) {
  key_store_limits limits;
  limits.tombstone_grace = 1s;
  key_store store(limits);
  auto random = make_deterministic_random(3);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(store
                    .insert(i % 8, random->next_guid(), t0 + 10s,
                            [](mutable_secret_key_view secret) {
                              randombytes_buf(secret.data(), secret.size());
                              return public_key{};
                            })
                    .ok());
  }
  const std::size_t peak = store.bookkeeping_bytes();
  EXPECT_EQ(store.expire(t0 + 10s), 5000u);
  EXPECT_EQ(store.expire(t0 + 11s), 0u);
  EXPECT_EQ(store.tombstones(), 0u);
  EXPECT_LT(store.bookkeeping_bytes() * 4, peak);
}

TEST(function_ref, calls_the_referenced_callable_without_copying_it) {
  int calls = 0;
  auto count = [&calls](int x) { return calls += x; };
  const function_ref<int(int)> f = count;
  EXPECT_EQ(f(2), 2);
  EXPECT_EQ(f(3), 5);
  EXPECT_EQ(calls, 5);

  struct stateful {
    int seen = 0;
    int operator()(int x) { return seen += x; }
  } object;
  const function_ref<int(int)> g = object;
  g(4);
  EXPECT_EQ(object.seen, 4) << "the object itself was called, not a copy";

  int (*plain)(int) = [](int x) { return x * 10; };
  const function_ref<int(int)> h = plain;
  EXPECT_EQ(h(7), 70);
}

}  // namespace
}  // namespace cryptcom::keys
