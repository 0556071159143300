// raw_peer: one plain ZeroMQ socket (no cryptcom underneath) through which a hostile peer talks to
// a cryptcom endpoint: a DEALER that connects to a server, or a ROUTER a cryptcom client connects
// to.
//
// Wire shape: every message is [routing frames..., cryptcom frame]. The attacker never sends an
// empty delimiter frame, and reads the cryptcom frame as the LAST frame of each message, so it
// speaks to a receiver that ignores empty envelope frames as well as to one that keeps them.
// A DEALER's routing frames are forged: the server's ROUTER prepends the connection's routing id,
// so the server sees the path [connection id, forged frames...], a new peer per distinct prefix,
// and its answers come back to this socket with the forged frames in front.
//
// Thread-safety: none; a ZeroMQ socket is used by one thread at a time (create the raw_peer in the
// thread that uses it, or hand it over at thread start).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "attacker/forge.hpp"

namespace cryptcom::hostile {

// A message from the wire: its envelope and its cryptcom frame.
struct wire_message {
  std::vector<std::string> envelope;  // every frame before the last, empty frames included
  bytes frame;                        // the last frame
};

class raw_peer {
 public:
  // A DEALER connected to `endpoint`. `routing_id`: the id the server's ROUTER will see (empty:
  // libzmq picks one).
  static raw_peer dealer(::zmq::context_t& context, const std::string& endpoint,
                         const std::string& routing_id = {});
  // A ROUTER bound to `endpoint` ("tcp://127.0.0.1:*" picks a port; endpoint() tells which).
  static raw_peer router(::zmq::context_t& context, const std::string& endpoint);

  raw_peer(raw_peer&&) noexcept = default;
  raw_peer& operator=(raw_peer&&) noexcept = default;

  // Sends [path..., frame]. Waits up to `timeout` for room (the peer's queues full); false if
  // the message could not be sent in that time. Empty path frames are refused (std::logic_error):
  // the attacker's envelope has none.
  bool send(std::span<const std::string> path, byte_view frame,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));
  bool send(byte_view frame, std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) {
    return send({}, frame, timeout);
  }
  // The next message, or nothing within `timeout`.
  std::optional<wire_message> receive(std::chrono::milliseconds timeout);
  // Reads and discards whatever has arrived; returns how many messages that was.
  std::size_t drain();

  // What this peer put on the wire: messages, and bytes of cryptcom frames (envelopes not
  // counted, as the transport's own wire_bytes counters do not count them).
  std::uint64_t messages_sent() const noexcept { return messages_sent_; }
  std::uint64_t bytes_sent() const noexcept { return bytes_sent_; }

  // The endpoint actually bound or connected to.
  std::string endpoint() const;
  ::zmq::socket_t& socket() noexcept { return socket_; }

 private:
  explicit raw_peer(::zmq::socket_t s) : socket_(std::move(s)) {}
  ::zmq::socket_t socket_;
  int send_timeout_ms_ = -2;  // the ZMQ_SNDTIMEO last set (-2: none yet)
  std::uint64_t messages_sent_ = 0;
  std::uint64_t bytes_sent_ = 0;
};

}  // namespace cryptcom::hostile
