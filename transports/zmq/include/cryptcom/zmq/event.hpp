// cryptcom::zmq::event and cryptcom::zmq::socket_stats: what a cryptcom socket reports besides
// the application's messages. Events are what the engine noticed (frames refused, messages given
// up, peers restarted) plus what the transport itself had to drop; stats are the engine's
// counters with the transport's own. Both are plain values, copied out of the socket.
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cryptcom/key_source.hpp"
#include "cryptcom/stats.hpp"
#include "cryptcom/status.hpp"
#include "cryptcom/types.hpp"

namespace cryptcom::zmq {

enum class event_kind : std::uint8_t {
  // A frame from the peer was refused (malformed, unknown, expired or replayed key, does not
  // authenticate). Counted in stats().engine.total.rejected_*; the sender was told when it can
  // re-seal.
  frame_rejected,
  // One of our messages was given up (no key or no acknowledgement in time, peer restarted or
  // forgotten, socket closed first). `message` names it. It may or may not have been processed.
  message_undeliverable,
  // The peer refused one of our frames; the engine re-seals the message under a new key. For
  // information: the message is not lost.
  message_rejected,
  // The peer announced a new instance (it restarted); the keys of its old instance were dropped.
  peer_restarted,
  // One of our messages was not accepted at all (above a limit, no routing id, queue of a ROUTER
  // peer full): it never left. `message` names it.
  message_refused,
  // A message from the wire could not be handed to the application: a reply reached a REQ that
  // had no request outstanding, or a wire message came from a new path while every one of the
  // max_peers known paths was owed a reply.
  message_dropped,
  // The I/O thread stopped on an error (detail), e.g. the context was terminated.
  transport_error,
  // A routing path was evicted to make room for a new one: `route` names it, `detail` the bound
  // (socket_options::max_unestablished_per_connection or max_peers), `reason` limit_exceeded.
  // Its keys were destroyed; its pending messages, if any, are reported undeliverable.
  peer_evicted,
  // Authenticated mode (see cryptcom/engine.hpp for the three): a session with the peer was
  // established (`peer_key` is its identity); an identity was refused, by us or by the peer, or
  // the peer runs the other mode (`reason`); an identity awaits the application's verdict.
  peer_authenticated,
  peer_refused,
  identity_check,
};

struct event {
  event_kind kind = event_kind::frame_rejected;
  // The peer's routing path as the application sees it: a ROUTER's routing id frame(s), the
  // envelope frames a DEALER worker behind a broker sees; empty for the directly connected peer
  // of a DEALER, REQ or PAIR. Binary frames.
  std::vector<std::string> route;
  // Which of our messages this is about: the n-th message sent on this socket is n (counted from
  // 1, in the order the application sent them). 0: not about one of our messages.
  std::uint64_t message = 0;
  cryptcom::errc reason = cryptcom::errc::ok;
  cryptcom::guid key_id;          // the one-time key concerned, zero when none
  std::string detail;             // a readable sentence; never contains key material or plaintext
  cryptcom::public_key peer_key;  // authenticated mode: the identity concerned; zero when none
};

// Who a peer is, in authenticated mode (socket::peer_identity).
struct identity_info {
  // The peer's authenticated public key: a client's, as its handshake proved it, on a server; the
  // configured server key on a client. Unset before a session is established, and in base mode.
  std::optional<cryptcom::public_key> key;
  // The User-Id the ZAP handler returned when it accepted this key; empty without ZAP.
  std::string user_id;
};

// The transport's own counters.
struct transport_counters {
  std::uint64_t messages_sent = 0;      // application messages taken from the application
  std::uint64_t messages_received = 0;  // application messages handed to the application
  std::uint64_t messages_refused = 0;   // see event_kind::message_refused
  std::uint64_t messages_dropped = 0;   // see event_kind::message_dropped
  std::uint64_t wire_messages_sent = 0;
  std::uint64_t wire_messages_received = 0;
  std::uint64_t wire_bytes_sent = 0;  // engine frames only, routing envelopes not counted
  std::uint64_t wire_bytes_received = 0;
  std::uint64_t wire_send_waits = 0;          // a wire message waited because the socket was full
  std::uint64_t wire_messages_discarded = 0;  // wire backlog overflow; the engine resends
  std::uint64_t peers_forgotten = 0;          // idle beyond socket_options::peer_idle_timeout
  std::uint64_t peers_evicted = 0;            // see event_kind::peer_evicted
  std::uint64_t events_dropped = 0;           // beyond socket_options::max_events
  std::uint64_t broker_notices = 0;           // through_broker: presence and gone notices received
  std::uint64_t workers_joined = 0;           // through_broker: workers the broker announced
  std::uint64_t workers_gone = 0;             // through_broker: workers the broker said are gone
  // Messages sealed again to another server or worker because theirs went away before any frame
  // of them reached it (several servers: still in the socket; through_broker: the gone notice).
  std::uint64_t messages_resealed = 0;
  // PUB/XPUB: wire messages addressed to another publisher (a subscriber's XSUB sends its
  // upstream messages to every publisher it reaches), ignored.
  std::uint64_t pubsub_not_for_us = 0;
  // REQ: application messages sealed inside the application's send, and opened inside its
  // recv, on its own thread; the I/O thread sealed and opened the others (and all of them for
  // the other kinds).
  std::uint64_t sealed_in_calls = 0;
  std::uint64_t opened_in_calls = 0;
  std::size_t peers = 0;                // routing paths known now
  std::size_t peers_unestablished = 0;  // of which have not completed an exchange
};

struct socket_stats {
  cryptcom::stats_snapshot engine;    // per_peer is keyed by the engine's peer ids
  cryptcom::key_pool_stats key_pool;  // the socket's pool (shared pools: all their sockets)
  transport_counters transport;
  // The routing path of each engine peer id, to read engine.per_peer with.
  std::map<std::uint64_t, std::vector<std::string>> routes;
};

}  // namespace cryptcom::zmq
