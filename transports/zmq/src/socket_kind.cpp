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
    case st::pub:
    case st::sub:
    case st::xpub:
    case st::xsub:
    case st::push:
    case st::pull:
      throw error(EINVAL,
                  std::string("cryptcom::zmq::socket: ") + type_name(type) +
                      " sockets are not supported. Every cryptcom message is sealed to a one-time "
                      "key that the receiver generates and sends back to the sender beforehand, "
                      "and one-way patterns (PUB/SUB, XPUB/XSUB, PUSH/PULL) have no way back for "
                      "those keys. Use DEALER/ROUTER (one ROUTER serving many DEALERs fans out and "
                      "in like PUB/SUB and PUSH/PULL do) or keep plain ZeroMQ for those links.");
    default:
      throw error(EINVAL, std::string("cryptcom::zmq::socket: ") + type_name(type) +
                              " socket type is not supported; use REQ, REP, DEALER, ROUTER or "
                              "PAIR");
  }
}

flow default_flow(role r, bool req_style) {
  if (r == role::req) return flow::pull;
  if (r == role::dealer && req_style) return flow::pull;
  return flow::push;
}

}  // namespace cryptcom::zmq::detail
