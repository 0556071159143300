// The type mapping; see socket_kind.hpp.
#include "socket_kind.hpp"

#include <cerrno>
#include <string>

#include "cryptcom/zmq/error.hpp"

namespace cryptcom::zmq::detail {

using st = ::zmq::socket_type;

const char* type_name(st type) {
  switch (type) {
    case st::req:
      return "REQ";
    case st::rep:
      return "REP";
    case st::dealer:
      return "DEALER";
    case st::router:
      return "ROUTER";
    case st::pub:
      return "PUB";
    case st::sub:
      return "SUB";
    case st::xpub:
      return "XPUB";
    case st::xsub:
      return "XSUB";
    case st::push:
      return "PUSH";
    case st::pull:
      return "PULL";
    case st::pair:
      return "PAIR";
    case st::stream:
      return "STREAM";
    default:
      return "this";
  }
}

socket_kind kind_of(st type) {
  switch (type) {
    case st::req:
      return {role::req, st::dealer, st::req, st::router, true, false, false};
    case st::rep:
      return {role::rep, st::router, st::rep, st::dealer, false, true, false};
    case st::dealer:
      return {role::dealer, st::dealer, st::pair, st::pair, true, true, false};
    case st::router:
      return {role::router, st::router, st::pair, st::pair, false, true, true};
    case st::pair:
      return {role::pair, st::pair, st::pair, st::pair, true, false, false};
    // The application's pipe ends are a real PUSH and PULL, so libzmq itself refuses a PULL's
    // send and a PUSH's recv (ENOTSUP). The wire is a ROUTER on both sides: the key offers and
    // acknowledgements travel back, and the PUSH chooses which PULL each message goes to (it
    // must: a message is sealed to a key of the PULL that will open it).
    case st::push:
      return {role::push, st::router, st::push, st::pull, false, true, false, true};
    case st::pull:
      return {role::pull, st::router, st::pull, st::push, false, true, false, true};
    // Publish/subscribe (§11.8): an XPUB and an XSUB on the wire, so that subscribers' keys,
    // acknowledgements and sealed subscriptions travel back as upstream messages. The pipe ends
    // keep libzmq's own semantics where they can: an XSUB end takes subscription messages and
    // filters by them. A PUB's and an XPUB's end is a PAIR: the I/O thread hands an XPUB
    // subscription messages, and socket::send drops (and counts) what a full pipe cannot take,
    // as libzmq's PUB drops and never blocks. A SUB's end is a PAIR too, so that a full pipe
    // (an application that does not read) holds the wire back, and the publisher, seeing its
    // copies unacknowledged, drops and counts them (§11.8), instead of a silent drop here.
    case st::pub:
      return {role::pub, st::xpub, st::pair, st::pair, false, true, false, false, true};
    case st::sub:
      return {role::sub, st::xsub, st::pair, st::pair, false, true, false, false, true};
    case st::xpub:
      return {role::xpub, st::xpub, st::pair, st::pair, false, true, false, false, true};
    case st::xsub:
      return {role::xsub, st::xsub, st::xsub, st::xpub, false, true, false, false, true};
    default:
      throw error(EINVAL, std::string("cryptcom::zmq::socket: ") + type_name(type) +
                              " socket type is not supported; use REQ, REP, DEALER, ROUTER, "
                              "PAIR, PUSH, PULL, PUB, SUB, XPUB or XSUB");
  }
}

flow default_flow(role r, bool req_style) {
  if (r == role::req) return flow::pull;
  if (r == role::dealer && req_style) return flow::pull;
  return flow::push;
}

}  // namespace cryptcom::zmq::detail
