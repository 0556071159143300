// zap_client: the I/O thread's side of ZeroMQ's authentication protocol (ZAP, ZeroMQ RFC 27), to
// put a client's identity to the ZAP handler bound at inproc://zeromq.zap.01 (czmq's zauth,
// pyzmq's authenticators, or the application's own REP), as libzmq does for CURVE.
//
// One DEALER connected to the handler, made on first use, carries every request without waiting
// for the one before (a REQ would allow one at a time): request ids tell the answers apart. A
// request is
//   ["", "1.0", request id, domain, address, routing id, "CURVE", client public key (32 bytes)]
// and its answer ["", "1.0", request id, status code, status text, user id, metadata]; 200
// accepts, anything else refuses. Nothing blocks the I/O loop: sends are non-blocking (a full
// pipe to a missing or stuck handler refuses at once), answers are read when zmq_poll says the
// socket is readable, and a request not answered by its deadline is given up (the caller
// refuses the identity). Requests in flight are bounded; an answer to a request given up, one
// that does not parse, or one to an id never sent is ignored.
// Thread-safety: none; owned by the I/O thread (made there, on first use).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cryptcom/types.hpp"
#include "owned_socket.hpp"
#include "routing.hpp"

namespace cryptcom::zmq::detail {

inline constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";

class zap_client {
 public:
  struct verdict {
    peer_number peer = 0;
    public_key key;
    bool accepted = false;
    std::string user_id;
    std::string why;  // for a refusal: the status, or that no answer came
  };

  zap_client(void* context, std::string domain, std::chrono::milliseconds timeout,
             std::size_t max_in_flight);

  // Sends a request about `key` for `peer`. nullopt: it is on its way; a verdict (a refusal):
  // it could not be sent (too many in flight, the handler's pipe full), to be acted on at once.
  std::optional<verdict> ask(peer_number peer, const public_key& key, const std::string& address,
                             const std::string& routing_id, time_point now);

  // The socket to poll for answers; null before the first request.
  void* handle() noexcept { return socket_.handle(); }
  bool waiting() const noexcept { return !in_flight_.empty(); }
  // The earliest deadline of a request in flight.
  std::optional<time_point> next_deadline() const;

  // Verdicts for the answers that arrived (without waiting) and for the requests whose deadline
  // has passed.
  std::vector<verdict> collect(time_point now);

 private:
  struct request {
    peer_number peer = 0;
    public_key key;
    time_point deadline{};
  };

  void read_answers(std::vector<verdict>& out);

  void* context_;
  std::string domain_;
  std::chrono::milliseconds timeout_;
  std::size_t max_in_flight_;
  owned_socket socket_;
  std::uint64_t next_id_ = 1;
  // By id: ids grow with time and every request has the same timeout, so the first entry has
  // the earliest deadline.
  std::map<std::uint64_t, request> in_flight_;
};

}  // namespace cryptcom::zmq::detail
