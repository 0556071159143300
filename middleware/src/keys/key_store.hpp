// key_store: the private halves of the one-time keys this endpoint issued, by GUID.
//
// Each key belongs to one peer (the one it was offered to, or the one whose reply it will
// decrypt) and has an absolute expiry. A key is used at most once: open_with() destroys it after
// the first successful open, and leaves it in place when the open fails (a tampered copy must not
// burn the key that the genuine message needs). After use or expiry the GUID is remembered as a
// tombstone until `expiry + tombstone_grace`, so a replay is told apart from an unknown GUID.
// Private keys live in a locked_arena; everything else (GUID, public key, expiry) is public.
// Thread-safety: none; owned by one engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::keys {

using peer_id = std::uint64_t;

struct key_store_limits {
  std::size_t max_total = 65536;   // live keys across all peers
  std::size_t max_per_peer = 4096; // live keys for one peer
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
  // errc::limit_exceeded naming the bound (per peer or total) before calling `fill`.
  // The GUID is chosen by the caller (random); a duplicate is errc::invalid_argument.
  status insert(peer_id peer, const guid& id, time_point expiry,
                const std::function<public_key(mutable_secret_key_view)>& fill);

  // Looks the key up. When live and not expired at `now`, calls open(secret, public) once;
  // if open returns ok the key is destroyed (slot zeroed) and becomes a `used` tombstone.
  // If open fails the key stays live and its status is returned.
  // Errors: unknown_key, expired_key, replayed_key (tombstone), or open's error. `peer_out`
  // receives the owner of the key when it is known (also for tombstones).
  status open_with(const guid& id, time_point now,
                   const std::function<status(secret_key_view, const public_key&)>& open,
                   peer_id* peer_out = nullptr);

  key_state state(const guid& id, time_point now) const;

  // Destroys every key whose expiry is <= now (they become `expired` tombstones) and forgets
  // tombstones older than their expiry + grace. Returns the number of keys destroyed.
  std::size_t expire(time_point now);
  // Destroys every live key of `peer` now (the peer restarted or left); tombstones go too.
  std::size_t drop_peer(peer_id peer);

  std::size_t live() const noexcept;
  std::size_t live(peer_id peer) const noexcept;
  std::size_t tombstones() const noexcept;
  // Earliest expiry among live keys, for the engine's poll_timeout().
  std::optional<time_point> next_expiry() const;
  // Bytes of locked memory in use / reserved, and bookkeeping bytes, for the stats.
  std::size_t locked_bytes() const noexcept;
  std::size_t bookkeeping_bytes() const noexcept;
};

}  // namespace cryptcom::keys
