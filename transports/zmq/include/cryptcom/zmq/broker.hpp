// cryptcom::zmq::broker: a load-balancing broker that cannot read. Clients (cryptcom DEALER or
// REQ sockets) connect to its frontend, workers (cryptcom DEALER sockets) to its backend, both
// with socket_options::through_broker set; each client seals every request to a one-time key of
// the worker that will open it, and the broker routes each frame to that worker by the key id
// it names, after checking that this worker issued that key to this client. It sees routing ids
// and the cleartext frame headers (key ids, offers, acknowledgements), never a message.
//
//   zmq::context_t ctx;
//   cryptcom::zmq::broker broker(ctx);
//   broker.bind_frontend("tcp://*:5555");   // clients connect here
//   broker.bind_backend("tcp://*:5556");    // workers connect here
//   std::thread t([&] { broker.run(); });   // until stop(), or the context is shut down
//   ...
//   broker.stop();
//   t.join();
//
// The protocol (docs/PROTOCOL.md §11.7): the broker announces every worker to every client, each
// client keeps a pool of keys of each worker and chooses the worker of each request itself by
// the key-aware round robin of §11.6 (a message sealed to one worker's key can be opened by that
// worker alone, so no one can choose after it is sealed; a busy worker opens and grants more
// slowly and is passed over, which is what the guide's least-recently-used broker achieves). A
// worker that goes away is announced gone to every client, with the keys of its whose messages
// the broker never forwarded, so those messages are sealed again to another worker.
// Thread-safety: run() on one thread; stop() and stats() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

namespace cryptcom::zmq {

struct broker_options {
  // How often each worker is probed (an empty frame): a worker whose connection is gone fails
  // the probe (ZMQ_ROUTER_MANDATORY) and is announced gone to the clients. Default: 100 ms.
  std::chrono::milliseconds probe_interval{100};
  // Clients and workers the broker keeps; a new one beyond it is refused (not announced).
  std::size_t max_clients = 65536;
  std::size_t max_workers = 1024;
  // Key ids issued by workers that the broker remembers (for routing and for the gone notice);
  // a new one beyond it is not recorded, and a frame sealed to it is refused as unknown.
  std::size_t max_keys = 1u << 20;
  // How long a key id is remembered past the time to live its offer named (the client stops
  // sealing to it a margin before, and retransmits under it for a while after). Default: 60 s.
  std::chrono::milliseconds key_grace{60000};
};

struct broker_stats {
  std::uint64_t clients = 0;  // now
  std::uint64_t workers = 0;  // now
  std::uint64_t keys = 0;     // key ids remembered now
  std::uint64_t workers_joined = 0;
  std::uint64_t workers_gone = 0;
  std::uint64_t clients_joined = 0;
  std::uint64_t clients_gone = 0;
  std::uint64_t frames_to_workers = 0;  // forwarded client -> worker
  std::uint64_t frames_to_clients = 0;  // forwarded worker -> client
  std::uint64_t data_frames_routed = 0;
  // Refused, by reason (each also an event):
  std::uint64_t refused_unknown_key = 0;     // a data frame naming a key no worker issued to it
  std::uint64_t refused_forged_issuer = 0;   // named a worker that did not issue the key, or an
                                             // offer reusing a key id another worker issued
  std::uint64_t refused_unknown_worker = 0;  // addressed to no worker the broker knows
  std::uint64_t refused_unknown_client = 0;  // a worker's frame for no client the broker knows
  std::uint64_t refused_malformed = 0;   // not a cryptcom frame, or an envelope of the wrong shape
  std::uint64_t refused_full = 0;        // the receiver's pipe was full (ZMQ_SNDHWM): dropped
  std::uint64_t refused_over_limit = 0;  // max_clients, max_workers or max_keys reached
  std::uint64_t gone_notices_sent = 0;
};

// Something the broker refused or noticed, for the application's log. `side` is "client" or
// "worker"; `routing_id` the sender's routing id at the broker (bytes, may be binary).
struct broker_event {
  std::string side;
  std::string routing_id;
  std::string what;  // a sentence naming the peer, the key id (hex) and the reason
};

class broker {
 public:
  explicit broker(::zmq::context_t& context, broker_options options = {});
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  void bind_frontend(const std::string& endpoint);
  void bind_backend(const std::string& endpoint);
  // The endpoints actually bound (tcp://...:0 resolved), for tests; empty before bind.
  std::string frontend_endpoint() const;
  std::string backend_endpoint() const;

  // Like zmq_proxy's capture socket: every message the broker receives on either side is also
  // sent, frames as received (routing id first), to this socket (a PUB, PUSH, PAIR or DEALER the
  // caller made and bound or connected), without blocking; what it cannot take is not sent.
  // Set before run(); the socket is then used on run()'s thread only.
  void capture(::zmq::socket_ref socket);

  // Called on run()'s thread for each refusal and each worker that comes or goes. Set before
  // run(). Default: none (the counters still count).
  void on_event(std::function<void(const broker_event&)> callback);

  // Routes until stop() is called or the context is shut down (then returns normally).
  void run();
  void stop() noexcept;
  broker_stats stats() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace cryptcom::zmq
