// peer_auth: what authenticated mode (docs/PROTOCOL.md §12) keeps per peer: the established
// session, the responder's pending ones, the initiator's outstanding handshake.
//
// A session's two MAC keys live in a slot of the engine's locked arena, which the session owns
// (released, and so zeroed, when the session goes).
// Thread-safety: none; part of one engine.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "cryptcom/types.hpp"
#include "keys/locked_arena.hpp"

namespace cryptcom::engine_detail {

// Owns one slot of a locked arena; move-only.
class locked_slot {
 public:
  locked_slot() = default;
  locked_slot(keys::locked_arena& arena, keys::locked_arena::slot s) : arena_(&arena), slot_(s) {}
  ~locked_slot() { reset(); }
  locked_slot(const locked_slot&) = delete;
  locked_slot& operator=(const locked_slot&) = delete;
  locked_slot(locked_slot&& o) noexcept
      : arena_(std::exchange(o.arena_, nullptr)), slot_(o.slot_) {}
  locked_slot& operator=(locked_slot&& o) noexcept {
    if (this != &o) {
      reset();
      arena_ = std::exchange(o.arena_, nullptr);
      slot_ = o.slot_;
    }
    return *this;
  }
  void reset() noexcept {
    if (arena_ != nullptr) arena_->release(slot_);
    arena_ = nullptr;
  }
  explicit operator bool() const noexcept { return arena_ != nullptr; }
  std::span<byte> bytes() noexcept { return arena_->bytes(slot_); }
  std::span<const byte> bytes() const noexcept { return arena_->bytes(slot_); }

 private:
  keys::locked_arena* arena_ = nullptr;
  keys::locked_arena::slot slot_ = keys::locked_arena::no_slot;
};

// One session with a peer: the identities, instances and nonces it binds, and its MAC keys
// (the first 32 bytes of the slot for the frames we send, the next 32 for those we receive).
struct auth_session {
  public_key peer_static;
  guid peer_instance;
  guid initiator_nonce;
  guid responder_nonce;
  locked_slot keys;
  std::uint64_t next_seq = 1;      // of the next frame we send
  std::uint64_t highest_seen = 0;  // of the frames we accepted
  bool approved = true;            // responder, policy ask: false until resolve_identity()

  std::span<const byte, 32> send_key() const { return keys.bytes().first<32>(); }
  std::span<const byte, 32> receive_key() const { return keys.bytes().subspan<32, 32>(); }
};

struct peer_auth {
  std::optional<auth_session> session;  // established
  // Initiator: the session a renewal replaced (same instances), still accepted until a frame
  // under the new one arrives, since the responder answers under it until it has seen that.
  std::optional<auth_session> previous;
  // Responder: sessions answered with an accept (or awaiting the application's verdict) and not
  // yet confirmed by a frame of the initiator's, newest last.
  std::vector<auth_session> pending;
  // Initiator: the nonce of our latest initiate and when it went out.
  std::optional<guid> initiate_nonce;
  std::optional<time_point> initiate_at;
  bool wants_session = false;                  // a hello_request asked for a new handshake
  std::optional<time_point> refused_at;        // the responder refused our identity then; the next
                                               // initiate waits key_request_retry
  bool confirm_due = false;                    // a frame must go at once under a new session
  std::optional<time_point> hello_request_at;  // the last hello_request we sent this peer
};

}  // namespace cryptcom::engine_detail
