// cryptcom::zmq::sockopt: cryptcom's own socket options for socket::set()/get(), in cppzmq's
// style (zmq::sockopt::...), for authenticated mode (docs/PROTOCOL.md §12; README, "Authenticated
// mode"). They fill what socket_options::engine.auth and socket_options::zap_domain hold, for
// programs that configure sockets after making them, as cppzmq programs do with CURVE:
//
//   cryptcom::zmq::socket client(ctx, zmq::socket_type::dealer);
//   client.set(cryptcom::zmq::sockopt::identity_secret_key, my_secret_z85);   // our identity
//   client.set(cryptcom::zmq::sockopt::server_key, server_public_z85);        // the server's
//   client.connect("tcp://server:5555");
//
//   cryptcom::zmq::socket server(ctx, zmq::socket_type::router);
//   server.set(cryptcom::zmq::sockopt::identity_secret_key, server_secret_z85);
//   server.set(cryptcom::zmq::sockopt::allow_key, client_public_z85);   // once per client, or:
//   server.set(cryptcom::zmq::sockopt::accept_any_identity, true);      // or:
//   server.set(cryptcom::zmq::sockopt::zap, true);  // ask the ZAP handler at
//   inproc://zeromq.zap.01 server.bind("tcp://*:5555");
//
// Keys are 32 bytes, given as 40 characters of Z85 (zmq_curve_keypair(), `cryptcom keygen`) or as
// the 32 raw bytes, as ZeroMQ's ZMQ_CURVE_* options take them; read back, a 41-byte buffer gets
// Z85 with its terminator, a 32-byte buffer the raw bytes (get() with a std::string: Z85).
// These options are set before the socket's first bind(), connect() or send(); later, or with a
// value that is not a key, set() throws cryptcom::zmq::error (EINVAL) saying why. The numbers are
// the C API's (cryptcom.h, CRYPTCOM_*), which continue its construction options' 10001-10033.
//
// ZeroMQ's own ZMQ_CURVE_* options are not these: they keep their meaning, CURVE on each
// connection underneath (hop by hop), and may be combined with cryptcom's end-to-end identities.
// Thread-safety: constants.
#pragma once

#include <zmq.hpp>

namespace cryptcom::zmq::sockopt {

// The option numbers (cryptcom.h's CRYPTCOM_* values).
enum option_id : int {
  identity_secret_key_id = 10034,
  identity_public_key_id = 10035,
  server_key_id = 10036,
  allow_key_id = 10037,
  accept_any_identity_id = 10038,
  identity_policy_id = 10039,
  zap_id = 10040,
  zap_domain_id = 10041,
  zap_timeout_id = 10042,
  through_broker_id = 10043,
};

// Our identity's secret key (Z85 or 32 bytes): authenticated mode on. The public key is computed
// from it. Write-only: get() refuses it. The value is copied into locked memory at once; what the
// caller passed is the caller's to wipe.
inline constexpr ::zmq::sockopt::array_option<identity_secret_key_id, 2> identity_secret_key{};
// Set: a check that the secret key (set before or after) belongs to this public key; a mismatch
// is EINVAL. Get: our identity's public key (empty when there is none).
inline constexpr ::zmq::sockopt::array_option<identity_public_key_id, 2> identity_public_key{};
// The server's public key: this socket is then the initiator of every handshake (a client), as
// with ZMQ_CURVE_SERVERKEY. Needs identity_secret_key too. Get: the key, empty when unset.
inline constexpr ::zmq::sockopt::array_option<server_key_id, 2> server_key{};
// A server's allow-list: each set() adds one client public key (an empty value clears the list).
// With the default policy (allow-list) only these clients are accepted; an empty list accepts
// nobody. Write-only.
inline constexpr ::zmq::sockopt::array_option<allow_key_id, 2> allow_key{};
// A server accepts every client that proves it holds the secret key of the identity it claims
// (policy any); false: back to the allow-list.
inline constexpr ::zmq::sockopt::integral_option<accept_any_identity_id, int, true>
    accept_any_identity{};
// The policy by number: 0 any, 1 allow-list (the default), 2 ask (each new identity is an
// identity_check event, answered with socket::resolve_identity()); cryptcom::peer_policy's values.
inline constexpr ::zmq::sockopt::integral_option<identity_policy_id, int> identity_policy{};
// Ask the ZAP handler (ZeroMQ RFC 27, bound at inproc://zeromq.zap.01 in the socket's context, as
// czmq's zauth and pyzmq's authenticators bind it) about every new client identity, with
// mechanism "CURVE" and the client's public key as credentials. The handler then decides alone
// (the allow-list and accept_any_identity are not consulted); an answer other than 200, or none
// within zap_timeout, refuses the client. Domain: empty unless zap_domain is set.
inline constexpr ::zmq::sockopt::integral_option<zap_id, int, true> zap{};
// ZAP on, with this domain in the requests (a ZeroMQ ZAP domain, as ZMQ_ZAP_DOMAIN).
inline constexpr ::zmq::sockopt::array_option<zap_domain_id, 1> zap_domain{};
// Milliseconds a ZAP request may wait for its answer before the client is refused. Default 1000.
inline constexpr ::zmq::sockopt::integral_option<zap_timeout_id, int> zap_timeout{};
// A client or worker of a key-blind cryptcom::zmq::broker: socket_options::through_broker.
// Set before the first bind(), connect() or send().
inline constexpr ::zmq::sockopt::integral_option<through_broker_id, int, true> through_broker{};

}  // namespace cryptcom::zmq::sockopt
