// cryptcom::zmq::socket_options: how a cryptcom socket is configured, beyond the plain ZeroMQ
// options that socket::set() passes through. A plain struct with in-class defaults, LevelDB's
// Options style: set what you need, leave the rest. Read once, at construction.
// Thread-safety: a plain value.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "cryptcom/key_source.hpp"
#include "cryptcom/options.hpp"

namespace cryptcom::zmq {

struct socket_options {
  // The protocol engine's options: key TTL and expiry margin, key pool target and low watermark,
  // key bounds and grant rate, maximum message size and part count, queue bounds, AEAD,
  // retransmission, acknowledgement and delivery timeouts. See cryptcom/options.hpp for each
  // field's meaning and default. `engine.default_flow` is ignored: `flow` below decides.
  //
  // There is deliberately no separate "send timeout for a key": a message that finds no key is
  // queued by the engine and goes out as soon as keys arrive; one that waits longer than
  // `engine.delivery_timeout` (default 30 s) is reported undeliverable through poll_event().
  // send() itself blocks only when that queue is full (`engine.max_queued_per_peer`, default
  // 1000) and the socket's ZeroMQ-style pipe behind it too; ZMQ_SNDTIMEO and send_flags::dontwait
  // bound that wait exactly as they bound a full zmq::socket_t.
  cryptcom::options engine;

  // The flow of messages this socket sends (see cryptcom/options.hpp: push or pull).
  // Default: unset, which means: pull for REQ (every request expects a reply, which is then
  // sealed to a key the request carried, so the replier needs no key pool of ours); for a DEALER,
  // pull for a message whose first part (after its routing frames, if any) is empty (REQ-style,
  // talking to a REP) and push otherwise; push for REP, ROUTER and PAIR.
  std::optional<cryptcom::flow> flow;

  // Where one-time key pairs come from. Default: nullptr: the sockets of one context that leave
  // `key_pool_options` at its defaults share one pool (one background generator thread, made with
  // the context's first such socket, gone with its last), as they share their I/O threads; a
  // socket with other `key_pool_options` makes its own. Pass one pool to many sockets of a
  // process to share its threads and its locked memory, as LevelDB shares a block cache.
  std::shared_ptr<cryptcom::key_pool> key_pool;
  // Used only when `key_pool` is null. Default: capacity 1024, low watermark 768, 1 thread.
  cryptcom::key_pool_options key_pool_options;

  // REQ, DEALER and PAIR: ask the peer for keys as soon as bind() or connect() is called, so the
  // first send does not wait a round trip. Turn off for a DEALER that is a worker behind a broker
  // (its "direct peer" is the broker, which does not answer). Default: true.
  bool prefetch_keys = true;

  // A client (DEALER or REQ) or a worker (DEALER) of a key-blind cryptcom::zmq::broker
  // (docs/PROTOCOL.md §11.7; README, "Worker pools behind a broker"): connect to the broker only.
  // A client then seals each message to a key of one of the workers the broker announced,
  // chosen by the key-aware round robin; a worker receives each request as [client routing id,
  // parts...] and answers with that routing id in front, as a DEALER behind a ROUTER broker.
  // Neither asks the broker itself for keys. Default: false.
  bool through_broker = false;

  // How long close() (and the destructor) keeps the socket working so that messages already sent
  // are sealed, delivered and acknowledged; what is still pending then is reported undeliverable
  // through poll_event(), which stays readable after close(). ZMQ_LINGER set through set()
  // replaces it (-1: wait without bound). Default: 1000 ms (libzmq's own default is unbounded,
  // which would make closing a socket whose peer is gone hang).
  std::chrono::milliseconds linger{1000};

  // Events kept for poll_event(); beyond it the oldest are dropped and counted. Default: 10000.
  std::size_t max_events = 10000;

  // Routing paths (peers) a socket keeps at once. A new path beyond it evicts a known one: the
  // oldest path that never completed an exchange (see below) of the connection holding the most
  // of those, else the least recently active path, so a flood of forged routing envelopes can
  // neither grow memory without bound nor lock new peers out. An evicted peer's keys are
  // destroyed and its pending messages reported; if it comes back, its next frame is refused as
  // sealed to an unknown key and it asks for new keys (one round trip). Each eviction is counted
  // (stats().transport.peers_evicted) and reported (event_kind::peer_evicted, naming the bound).
  // A path is refused (event_kind::message_dropped) only while every known path is owed a reply.
  // Default: 65536.
  std::size_t max_peers = 65536;
  // Paths of one connection that have not completed an exchange (no message from them was
  // delivered, and the application has not sent to them) kept at once; a new one beyond it
  // evicts that connection's oldest. On a ROUTER or REP the connection is the one the message
  // came on (the first routing frame, which libzmq sets); the frames after it are the peer's
  // claim, legitimately many behind a broker, but free to forge. On a DEALER, REQ or PAIR all
  // paths share the socket's one connection. 0: no bound of its own (max_peers still applies).
  // Default: 1024: as many clients behind one broker as connect within one key exchange's round
  // trip; beyond it they still get through, each at the cost of one more round trip, while one
  // connection's forged paths hold at most ~3.6 MB (about 3.5 KB each with the key granted).
  std::size_t max_unestablished_per_connection = 1024;
  // A peer (other than the directly connected peer of a DEALER, REQ or PAIR) that sent nothing
  // and was sent nothing for this long is forgotten and the keys held for it are destroyed; if it
  // comes back, it asks for new keys like a new peer. Never less than `engine.key_ttl` (so the
  // keys it holds for us have expired on its side) nor twice `engine.delivery_timeout` (so what
  // was pending for it has been given up, and reported, first). Zero: never.
  // Default: 10 minutes.
  std::chrono::milliseconds peer_idle_timeout{std::chrono::minutes(10)};

  // Authenticated mode (`engine.auth`: our identity, the server's key, the policy and allow-list;
  // cryptcom/zmq/sockopt.hpp sets the same through set()). When set, a server (a socket with an
  // identity and no peer key) asks the ZAP handler (ZeroMQ RFC 27) bound at
  // inproc://zeromq.zap.01 in the socket's context about every new client identity, as libzmq asks
  // it for CURVE, and the handler alone decides: the engine runs `peer_policy::ask` whatever
  // `engine.auth.policy` says, and the allow-list is not consulted. A request carries this domain,
  // the client's address (tcp: its IP) when known, its routing id, mechanism "CURVE" and the
  // client's 32-byte public key; a status code of 200 accepts it, anything else refuses it, and
  // so does no answer within `zap_timeout`. The handler's User-Id is kept per peer
  // (socket::peer_identity). Requests waiting for an answer are bounded by
  // `engine.auth.max_pending_checks`; beyond it a client is refused at once. While ZAP is on,
  // identity_check events are answered by the transport and not reported. Unset: the application
  // answers them (poll_event(), socket::resolve_identity()). Default: unset.
  std::optional<std::string> zap_domain;
  std::chrono::milliseconds zap_timeout{1000};
};

}  // namespace cryptcom::zmq
