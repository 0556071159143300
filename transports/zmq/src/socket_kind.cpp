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
    case st::pub:
    case st::sub:
    case st::xpub:
    case st::xsub:
      throw error(EINVAL,
                  std::string("cryptcom::zmq::socket: ") + type_name(type) +
                      " sockets are not supported. Every cryptcom message is sealed to a one-time "
                      "key that the receiver generates and sends back to the sender beforehand; "
                      "PUB/SUB is one-way and fans one message out to many subscribers, which "
                      "cannot all open a key only one of them made, and it has no way back for "
                      "those keys. Use DEALER/ROUTER or PUSH/PULL (one ROUTER serving many "
                      "DEALERs fans out and in) or keep plain ZeroMQ for those links.");
    default:
      throw error(EINVAL, std::string("cryptcom::zmq::socket: ") + type_name(type) +
                              " socket type is not supported; use REQ, REP, DEALER, ROUTER, "
                              "PAIR, PUSH or PULL");
  }
}

flow default_flow(role r, bool req_style) {
  if (r == role::req) return flow::pull;
  if (r == role::dealer && req_style) return flow::pull;
  return flow::push;
}

}  // namespace cryptcom::zmq::detail
