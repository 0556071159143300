// socket_kind: how each ZeroMQ socket type a cryptcom socket can have maps onto the wire socket
// under it and the inproc pipe in front of it, and which types are refused (and why).
// Thread-safety: pure functions over constants.
#pragma once

#include <optional>
#include <string>
#include <zmq.hpp>

#include "cryptcom/options.hpp"

namespace cryptcom::zmq::detail {

enum class role : unsigned char {
  req,
  rep,
  dealer,
  router,
  pair,
  push,
  pull,
  pub,
  sub,
  xpub,
  xsub
};

struct socket_kind {
  role what = role::pair;
  ::zmq::socket_type wire;         // the socket the I/O thread puts on the network
  ::zmq::socket_type app_end;      // the pipe end the application holds (REQ/REP keep libzmq's FSM)
  ::zmq::socket_type io_end;       // the pipe end the I/O thread holds
  bool has_direct_peer = false;    // REQ, DEALER, PAIR: the connected server is engine peer 1
  bool routes_by_path = false;     // ROUTER, REP, DEALER: one engine peer per routing path
  bool refuses_when_full = false;  // ROUTER: a peer's full queue refuses the message, not all
  // PUSH, PULL: the wire is a ROUTER that announces each connection (ZMQ_PROBE_ROUTER) and says
  // when a peer is gone (ZMQ_ROUTER_MANDATORY); each connection is one engine peer.
  bool one_peer_per_connection = false;
  // PUB, XPUB, SUB, XSUB (docs/PROTOCOL.md §11.8): addressed three-frame wire messages, one
  // engine peer per address.
  bool pubsub = false;
  bool publishes() const noexcept { return what == role::pub || what == role::xpub; }
  bool subscribes() const noexcept { return what == role::sub || what == role::xsub; }
};

// The kind of a supported type; for any other type throws cryptcom::zmq::error (EINVAL) whose
// message explains why the type is not offered.
socket_kind kind_of(::zmq::socket_type type);

// The flow a message takes when the options leave it open (see socket_options::flow).
// `req_style` is true for a DEALER message whose first part (after its routing path, if any) is
// empty: REQ-style, as a DEALER talking to a REP sends.
flow default_flow(role r, bool req_style);

const char* type_name(::zmq::socket_type type);

}  // namespace cryptcom::zmq::detail
