// cryptcom::engine: the whole one-time-key protocol for any number of peers, sans-I/O.
//
// The engine performs no I/O, starts no threads and reads no clock. Frames and the current time
// go in; frames to transmit, plaintexts to deliver and events come out, polled:
//
//   engine.send(peer, parts, now)      the application wants to send a message (copied, or
//                                      held with its owner: message_parts)
//   engine.receive(peer, frame, now)   a frame arrived from the wire
//   engine.receive_in_place(...)       the same, opened where it lies in the caller's buffer
//   engine.tick(now)                   time passed: expire keys, retransmit, give up, ack
//   engine.withdraw(peer, keys, now)   take back messages that never reached a peer, to send
//                                      them to another one
//   engine.poll_transmit()             frames to put on the wire
//   engine.poll_delivery()             messages for the application
//   engine.poll_event()                rejections, undeliverable messages, peer restarts
//   engine.poll_timeout()              when tick() must be called next at the latest
//
// After any input call, drain the poll_* queues. Peers are named by the caller with a peer_id
// (a ZeroMQ ROUTER maps routing ids to peer_ids); the engine keeps per-peer state for each.
//
// Protocol in brief (docs/PROTOCOL.md has the details):
//  push  A asks B for keys (a control frame with `wanted`); B generates one-time pairs, keeps the
//        private halves in its key store and offers the public halves with GUIDs and TTLs. A seals
//        each message to one offered key and names its GUID; B opens it and destroys the key.
//  pull  A also attaches a one-time public key of its own (reply key) to its request; B seals the
//        reply to it; A opens the reply and destroys the key.
// Keys are pooled and requested at a low watermark; offers, requests, acknowledgements and
// rejections ride on data frames going the other way, so steady traffic needs no extra frames.
// A data frame whose key is unknown or expired is rejected back; the sender re-seals the message
// under a new key. Delivery is exactly once per receiver instance: a data frame whose key was
// already used is not delivered again (a copy from the key's own peer is acknowledged again, so a
// lost acknowledgement costs nothing).
//
// Ownership: views passed in are borrowed for the duration of the call, except the parts given
// to send(message_parts), which the engine reads until it lets go of their owner. Everything
// returned by poll_* and withdraw() is owned by the caller, except the bytes a delivery from
// receive_in_place() views: those stay in the caller's frame buffer.
// Thread-safety: none. One engine is driven by one thread at a time. The key_source and
// random_source passed in must outlive the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "cryptcom/key_source.hpp"
#include "cryptcom/options.hpp"
#include "cryptcom/plaintext_buffer.hpp"
#include "cryptcom/random.hpp"
#include "cryptcom/stats.hpp"
#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom {

namespace engine_detail {
struct engine_probe;  // tests: counts the work an engine did
}

using peer_id = std::uint64_t;
// Numbers the messages an engine accepted for sending: 1, 2, 3, ...
using message_id = std::uint64_t;

// A frame for the wire, addressed to a peer.
struct transmit {
  peer_id peer = 0;
  std::vector<byte> frame;
  bool carries_data = false;  // false: a control frame the middleware added
};

// A message for the application. `parts` are views into `payload`, valid as long as this object
// (moving it keeps them valid). A delivery made by receive_in_place() has an empty `payload`: its
// parts view into the caller's frame buffer instead, valid as long as that buffer.
struct delivery {
  peer_id peer = 0;
  std::vector<byte> payload;  // empty only for a delivery opened in place
  std::vector<byte_view> parts;
  bool expects_reply = false;  // the sender attached a reply key (pull)
};

enum class event_kind : std::uint8_t {
  frame_rejected,         // we refused a frame from `peer` (reason, key_id when known)
  message_undeliverable,  // we gave up on message `message` to `peer` (reason)
  message_rejected,       // `peer` refused one of our frames (key_id, reason); we re-seal
  peer_restarted,         // `peer` announced a new instance; its old keys were dropped
  // Authenticated mode (docs/PROTOCOL.md §12); `peer_key` names the identity.
  peer_authenticated,  // a session with `peer` was established; `peer_key` is its identity
  peer_refused,        // an identity was refused: by us (reason access_denied, rate_limited), or
                       // we were refused by `peer` (access_denied); or the peer runs the other
                       // mode (authentication_required, `peer_key` zero)
  identity_check,      // policy ask: accept `peer_key` for `peer`? Answer with resolve_identity()
};

struct event {
  event_kind kind = event_kind::frame_rejected;
  peer_id peer = 0;
  guid key_id;             // zero when not known
  message_id message = 0;  // zero when not about one of our messages
  errc reason = errc::ok;
  std::string detail;   // a readable sentence naming peer, GUID and reason; never secrets
  public_key peer_key;  // authenticated mode: the identity concerned; zero when none
};

struct send_options {
  std::optional<flow> use_flow;  // default: options::default_flow
};

// A message handed to engine::send() rather than lent: `parts` view bytes that `owner` keeps
// alive, and that nobody changes, for as long as the engine holds a reference to `owner` (until
// the message is acknowledged, given up, withdrawn, or the engine goes). The engine seals
// straight from these bytes into each frame, again for each retransmission or re-seal, instead
// of keeping a copy; it never writes them and does not wipe them: they stay the caller's to
// manage (README, "Secrets in memory"). Shared: one owner may back several sends (a publisher
// seals one message to each subscriber). A failed send() keeps no reference.
struct message_parts {
  std::shared_ptr<const void> owner;
  std::vector<byte_view> parts;
};

// A message taken back from a peer by engine::withdraw(), for the caller to send to another
// peer. `parts` view bytes `owner` keeps alive, valid as long as this object holds it (moving it
// keeps them valid): the owner given to send(message_parts), or, for a message send() copied,
// the engine's copy, zeroed when the last reference to it goes. A copy of this object shares
// the owner.
struct withdrawn_message {
  message_id id = 0;                  // what send() returned for it; gone from the engine now
  std::shared_ptr<const void> owner;  // keeps the bytes of `parts` alive
  std::vector<byte_view> parts;       // the application's parts, as send() was given them
  flow how = flow::push;              // the flow it was sent with: send_options{.use_flow = how}
  guid key_id;  // the peer's key it was last sealed to; zero if it was never sent
};
static_assert(std::is_nothrow_move_constructible_v<withdrawn_message>);

class engine {
 public:
  // Fails (through `valid()`/`construction_status()`) when options are inconsistent or the AEAD
  // is unavailable. `now` starts the clock of rate limits and timers.
  engine(const options& opts, key_source& keys, random_source& random, time_point now);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  engine(engine&&) noexcept;
  engine& operator=(engine&&) noexcept;

  // ok() unless the options were rejected; every other call is then invalid_argument.
  status construction_status() const;

  // This endpoint's instance id, fresh per engine.
  const guid& instance() const noexcept;

  // Declares a peer we will talk to, so keys can be asked for before the first send.
  // Idempotent. Peers are also created implicitly by send() and receive(). In authenticated
  // mode a responder without a session with the peer sends it a hello_request (at most one a
  // second), so that the initiator starts the handshake (PROTOCOL.md §12.4).
  void connect(peer_id peer, time_point now);
  // Sets the flow used for messages to `peer` that do not name one (overrides
  // options::default_flow for that peer).
  void set_flow(peer_id peer, flow how, time_point now);
  // How many of the peer's keys to keep at hand, in place of options::pool_target (it still grows
  // when messages wait for keys). For a peer we seldom send to: a subscriber seals only its
  // subscription sets to a publisher (PROTOCOL.md §11.8). What we grant the peer is unchanged.
  void set_pool_target(peer_id peer, std::size_t keys, time_point now);
  // Puts `peer` in `group` (a transport names its connection: peers behind one connection, e.g.
  // routing paths a broker or a forger claims, share a group). Peers of one group share one
  // budget of keys granted before they have used any (options::unproven_grant_rate). By default
  // a peer is a group of its own.
  void set_group(peer_id peer, std::uint64_t group, time_point now);
  // Forgets a peer: its keys are destroyed, its queued and unacknowledged messages are reported
  // undeliverable.
  void disconnect(peer_id peer, time_point now);

  // Takes back, to be sent to another peer, the messages to `peer` that certainly never reached
  // it: a client of several servers (PROTOCOL.md §11.6), or of workers behind a key-blind broker
  // (§11.7), whose peer went away must not report undeliverable what it can re-seal to another
  // peer, and must not re-seal what the gone peer may have opened (that could deliver it twice).
  // `keys` are key ids of `peer` under which the caller knows that no frame of ours reached it
  // (§11.7: the broker's gone notice lists the keys under which it forwarded nothing). Withdrawn:
  //  - each message not acknowledged whose latest transmission is sealed to one of `keys`;
  //  - each message never transmitted (queued for a key), whatever `keys` say; also one queued
  //    again while its latest key is listed (authenticated mode, waiting for a session).
  // A message whose reply key (pull) already opened a reply from `peer` stays: the peer read it.
  // Each is removed without a message_undeliverable event (a later acknowledgement or rejection
  // of its key from `peer` is ignored, as for any message no longer held); a data frame of it
  // still waiting in poll_transmit() is dropped with what rode on it (call this once the peer is
  // gone, or after draining poll_transmit()); its key is spent afresh: not sealed to again, even
  // if offered again, for retransmit_after from now (as a key we seal to is, from sealing); its
  // reply key, if any, is destroyed (zeroed; a reply sealed to it is refused as expired_key).
  // Counted as messages_withdrawn.
  // Messages under keys not listed stay as they were: typically the caller then calls
  // disconnect(peer), which reports them undeliverable. Messages that were sent and then queued
  // again for a new key after the peer refused theirs stay too (which keys their copies went
  // under is not kept). An unknown peer, or keys it was never sent under, withdraw nothing.
  // Returns them in the order send() accepted them; re-send each with
  // send(other, m.parts, now, send_options{m.how}), which gives it a new message_id. Works alike
  // in authenticated mode (PROTOCOL.md §12); whether a gone notice is to be trusted there is the
  // caller's decision.
  std::vector<withdrawn_message> withdraw(peer_id peer, std::span<const guid> keys, time_point now);

  // Queues a message (the parts are copied, into a buffer of the engine's that is zeroed when
  // the message goes). It goes out sealed at once if a key is available, else when keys arrive.
  // Errors: message_too_large, limit_exceeded (queue bound), invalid_argument.
  result<message_id> send(peer_id peer, std::span<const byte_view> parts, time_point now,
                          const send_options& how = {});
  // The same, without the copy: the engine keeps a reference to `message.owner` instead (see
  // message_parts), which saves a buffer, a pass over the bytes and a wipe per message.
  result<message_id> send(peer_id peer, message_parts message, time_point now,
                          const send_options& how = {});

  // A frame arrived from `peer`. Problems with the frame are counted, reported as events (and,
  // for data frames, answered with a rejection) and returned; the engine stays usable either way.
  status receive(peer_id peer, byte_view frame, time_point now);
  // The same, for a frame in a buffer the caller owns alone and lets the engine write to: a data
  // frame is opened where it lies (the plaintext overwrites its ciphertext), which saves
  // allocating, filling and later wiping a second buffer of the message's size. Its delivery has
  // an empty `payload` and `parts` that view into `frame`, so the caller must poll it (and be
  // done with its parts) before it reuses or frees the buffer, and must wipe the buffer then,
  // since it holds plaintext. Only a data frame that opens is decrypted into the buffer; after
  // any failure nothing is delivered and the buffer holds no plaintext (it may have been partly
  // zeroed). Never pass a buffer someone else still reads: it may hold plaintext afterwards.
  // Errors as receive().
  status receive_in_place(peer_id peer, mutable_byte_view frame, time_point now);

  // Runs the timers that are due at `now` (expiring keys, retransmitting, giving up, sending
  // acknowledgements and key requests). Visits only the peers whose deadline has passed.
  void tick(time_point now);
  // Does ahead, for the next message to `peer`, the part of sealing that needs no message: its
  // ephemeral key and the X25519 agreement with the peer key that message will take (the oldest
  // reply key the peer gave, else its oldest offered key). The caller calls it when it knows
  // whom it sends to next and has time to spare, e.g. right after a data frame left (a REQ's
  // next request) or a request was handed to the application (a REP's reply): sealing that
  // message then costs the key schedule and the AEAD only. What it computes is that message's
  // own secret, kept in locked memory for one seal at most: a seal to `peer` under another key,
  // a restart or disconnect of `peer`, or a prepare_seal for another peer wipes it. Nothing goes
  // out and the peer sees no difference. Does nothing for an unknown peer or one we hold no key
  // of. Counted, when a seal uses it, as seals_prepared.
  void prepare_seal(peer_id peer, time_point now);
  // When tick() must be called next at the latest; nullopt: no timer is set. O(1).
  std::optional<time_point> poll_timeout() const;

  std::optional<transmit> poll_transmit();
  // Optional: gives back the buffer of a frame poll_transmit() returned, once the caller is done
  // with it (its content is no longer needed), so that a later large data frame is written into
  // it: its memory is reused rather than allocated and faulted in per message. The engine keeps
  // up to 256 buffers of 64 KiB or more (16 MiB in all) and frees the rest.
  void recycle(std::vector<byte>&& frame_buffer);
  std::optional<delivery> poll_delivery();
  std::optional<event> poll_event();

  // The largest wire frame receive() accepts (a transport can refuse bigger ones before reading
  // them: ZeroMQ's ZMQ_MAXMSGSIZE).
  std::size_t max_frame_size() const noexcept;

  // Authenticated mode: the identity of `peer` once a session with it is established (an
  // initiator's configured peer key, a responder's authenticated initiator); nullopt before,
  // and always in base mode.
  std::optional<public_key> peer_identity(peer_id peer) const;
  // Answers an identity_check event: whether `key` may talk to us as `peer`. An answer for a
  // check that is no longer pending (the peer went away, or another handshake replaced it) is
  // ignored.
  void resolve_identity(peer_id peer, const public_key& key, bool accepted, time_point now);

  // Usable peer keys we hold for `peer` (keys it offered us, not yet used or expired).
  std::size_t usable_keys(peer_id peer) const;
  stats_snapshot stats() const;

 private:
  friend struct engine_detail::engine_probe;
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cryptcom
