// io_loop: a cryptcom socket's work on its I/O thread. It owns the wire socket, the protocol
// engine, the key source it draws from, the I/O thread's ends of the inproc pipes, and moves
// messages between them:
//
//   application <-> data pipe <-> [ io_loop: routing table, engine ] <-> wire socket <-> network
//                   doorbell  ->   commands (bind, connect, options, stats, close)
//
// One loop iteration: zmq_poll on the doorbell, the wire socket and the data pipe (each only for
// what it can take now), with the engine's next deadline as timeout; run commands; feed wire
// messages to engine.receive and application messages to engine.send (in bounded batches, so
// neither side starves the other), draining the engine after each one: frames to the wire,
// deliveries to the pipe, events to the shared queue; tick the engine when due and drain again.
//
// Back-pressure: when the engine cannot queue another message for a peer (no keys for a while),
// the loop holds that message and stops reading the pipe until the engine takes it, so the pipe
// fills and the application's send blocks (a ROUTER refuses the one message instead, since one
// slow peer must not stall the others). A side whose output is full is not read, so messages wait
// in the sockets, bounded by the high-water marks the application set, as with ZeroMQ itself:
// while a delivery waits for room in the pipe the wire is not read, and while a frame waits for
// room in the wire socket the pipe is not read. Each message read is pumped at once, so those
// backlogs hold what one message produced (plus control frames made meanwhile, bounded; beyond
// the bound the oldest are discarded, since the engine resends what matters).
//
// Constructed on the application's thread (the sockets then move to an I/O thread, io_thread.hpp,
// whose hand-over mutex is the memory barrier); run_blocking/run_step and everything they call
// run on that one I/O thread only, which may run other sockets' loops between turns; commands
// are executed there too.
// Thread-safety: none beyond that; shared_state is the only thing both threads touch.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "balancer.hpp"
#include "cryptcom/engine.hpp"
#include "cryptcom/key_source.hpp"
#include "cryptcom/random.hpp"
#include "cryptcom/zmq/event.hpp"
#include "cryptcom/zmq/socket_options.hpp"
#include "doorbell.hpp"
#include "owned_socket.hpp"
#include "routing.hpp"
#include "shared_state.hpp"
#include "socket_kind.hpp"
#include "wire_message.hpp"
#include "zap_client.hpp"

namespace cryptcom::zmq::detail {

// poll(2)'s timeout until `t`: rounded up to whole milliseconds, so that the deadline has passed
// when the wait ends, and at least 1: a deadline the engine kept in the past must not make a
// thread spin (the loop is turned after the wait either way).
int poll_timeout_until(time_point t, time_point now) noexcept;

class io_loop {
 public:
  // Makes the wire socket and the engine and binds the I/O end of the data pipe at its inproc
  // endpoint. Throws cryptcom::zmq::error (EINVAL) when the engine rejects the options.
  io_loop(void* context, const socket_kind& kind, const socket_options& options,
          std::shared_ptr<shared_state> shared, const std::string& data_endpoint);
  ~io_loop();
  io_loop(const io_loop&) = delete;
  io_loop& operator=(const io_loop&) = delete;

  const guid& instance() const noexcept { return engine_.instance(); }

  // How an I/O thread runs the loop (io_thread.hpp), until finished(): on close or context
  // termination it reports what is pending and closes its sockets. Neither throws.
  // - run_blocking: one turn that waits in zmq_poll for the loop's sockets, its deadline, or
  //   `extra_fd` becoming readable (the thread's own doorbell), for a thread with one loop.
  // - run_step: one turn that does not wait, for a thread that waits for many loops at once
  //   (watch, next_wake); true when something is still ready, so the thread turns it again.
  //   True when `extra_fd` was readable (or the loop finished).
  bool run_blocking(int extra_fd) noexcept;
  bool run_step(time_point now) noexcept;
  // The descriptors that become readable when this loop may have something to do: its doorbell
  // and its ZeroMQ sockets' ZMQ_FD.
  void watch(std::vector<pollfd>& fds);
  // When the loop must turn at the latest without a descriptor waking it, as of the last step.
  std::optional<time_point> next_wake() const noexcept { return next_wake_; }
  bool finished() const noexcept { return finished_; }

  // ---- turned by the application's thread too (REQ), see socket.cpp ----
  // The loop can be turned by either thread, one at a time: whoever turns it or calls any of the
  // functions below (and run_step, watch, next_wake, finished) holds this mutex. run_blocking is
  // never used for such a loop (its zmq_poll would touch the sockets without the mutex).
  bool turned_by_application() const noexcept;
  std::mutex& turn_mutex() noexcept { return shared_->turn_mutex; }
  // The application's thread finds the loop no more (reap, before destroying it).
  void forget_driver() noexcept { shared_->loop = nullptr; }
  void set_thread_bell(doorbell* bell) noexcept { thread_bell_ = bell; }

  // On the application's thread. One turn inside its send (`sent`: a message is in the pipe) or
  // recv; `fds` gets the descriptors of the loop's ZeroMQ sockets (not its doorbell: commands
  // come from that same thread) for it to wait on. True when something is still ready.
  bool drive(time_point now, bool sent, std::vector<pollfd>& fds);
  // The application's thread waits for the loop's sockets itself (recv) until hand_back: the
  // I/O thread's next waits leave them out (watch), so that the two threads do not both wake
  // for the message and race to open it. It still turns the loop for its doorbell (commands),
  // its deadlines and what was still ready.
  void application_waits() noexcept { application_waits_ = true; }
  // The application's thread returns from its call. The I/O thread is woken (its own doorbell,
  // which makes it look at its loops again without turning them) only when its current wait
  // ends too late for this loop: a deadline came earlier, or it left the sockets out
  // (application_waits) and would not look again within network_recheck. It then also turns the
  // loop when something was still ready or the loop finished (to be reaped). While the
  // application keeps calling, the I/O thread looks again every network_recheck (plan), so in a
  // steady exchange it sleeps through the calls instead of being woken for each.
  void hand_back(time_point now);
  // How long the network side may go unwatched after the application's thread returned from a
  // recv: the bound on the delay this adds to what arrives for a socket nobody is calling.
  static constexpr std::chrono::milliseconds network_recheck{2};

  // On the I/O thread, about to wait (io_thread::turn_all). plan: when it must turn or look at
  // this loop again at the latest without a descriptor waking it (`ready`: at once), as
  // hand_back will compare. take_turn_request: hand_back asked for a turn.
  std::optional<time_point> plan(time_point now, bool ready) noexcept;
  bool take_turn_request() noexcept { return std::exchange(turn_requested_, false); }

  // ---- for commands, on the I/O thread ----
  void bind(const std::string& endpoint);
  void unbind(const std::string& endpoint);
  void connect(const std::string& endpoint);
  void disconnect(const std::string& endpoint);
  void set_wire_option(int option, const void* value, std::size_t size);
  void get_wire_option(int option, void* value, std::size_t* size);
  void set_linger(int milliseconds) { linger_ms_ = milliseconds; }
  int linger() const noexcept { return linger_ms_; }
  socket_stats stats();
  void begin_close();
  // Authenticated mode. The identity options of `options` (engine.auth, zap_domain,
  // zap_timeout) replace ours; the engine is made anew with them (a new instance id). Throws
  // cryptcom::zmq::error (EINVAL) once the socket was bound, connected or sent on. Options the
  // engine refuses (an intermediate state: a server key set before the identity) are kept and
  // refused at the next bind/connect/send, unless a later set makes them whole.
  void configure_auth(const socket_options& options);
  // Who the peer at `route` (its routing frames; empty: the directly connected peer, or on a REP
  // the sender of the request being answered) is.
  identity_info peer_identity(const std::vector<std::string>& route) const;
  // Answers an identity_check event about `route`; ignored for an unknown route.
  void resolve_identity(const std::vector<std::string>& route, const public_key& key,
                        bool accepted);
  // SUB: the application's ZMQ_SUBSCRIBE (on) or ZMQ_UNSUBSCRIBE, sent sealed to every publisher
  // (docs/PROTOCOL.md §11.8).
  void subscribe(const std::string& topic, bool on);

 private:
  struct outgoing {
    std::vector<::zmq::message_t> parts;
    std::size_t payload_begin = 0;
    peer_number peer = 0;
    bool balanced = false;  // the round robin chooses the peer (PUSH; DEALER/REQ, several servers)
    std::optional<flow> how;
    std::uint64_t number = 0;  // the application's message number
  };

  // Runs `body` (one turn); on close, or when it throws, reports and closes (finish).
  void turn(const std::function<void()>& body) noexcept;
  // One turn, as zmq_poll sees it: prepare the items (each socket polled only for what the loop
  // can take now; the doorbell first) and say when the loop must turn at the latest; process what
  // the poll found.
  std::optional<time_point> prepare(std::vector<::zmq::pollitem_t>& items, time_point now);
  // When the loop must turn at the latest (prepare's answer, without the items).
  std::optional<time_point> deadline(time_point now) const;
  // drive's turn where the loop is simple enough (one wire socket, no ZAP, not closing): see
  // io_loop.cpp.
  bool lean_drive_possible() const noexcept;
  bool lean_step(time_point now, bool sent) noexcept;
  void process(std::span<const ::zmq::pollitem_t> items, time_point now);
  void run_commands();
  // The engine's timers and the idle paths' check, when due.
  void run_due(time_point now);
  // watch() without the doorbell and the pipe: the network side's sockets.
  void watch_network(std::vector<pollfd>& fds);
  void after_wire_setup();

  bool wire_readable() const;
  bool app_readable() const;
  bool read_wire_one(time_point now);
  bool read_app_one(time_point now);
  bool submit(outgoing& m, time_point now);  // false: held (the engine's queue is full)
  // What the engine did with a message offered to m.peer: queued it, had no room (returned only
  // when `may_hold`; otherwise the message is refused), or refused it (reported).
  enum class taken : unsigned char { queued, full, refused };
  taken submit_to(outgoing& m, time_point now, bool may_hold);
  // PUSH: the key-aware round robin chooses the peer; false: no peer can take it now (held).
  bool place(outgoing& m, time_point now);
  // PUSH/PULL: a new connection announced itself (ZMQ_PROBE_ROUTER's empty message).
  void on_connection(std::span<const std::string_view> path, time_point now);
  // A client or worker of a key-blind broker (§11.7): a presence or gone notice arrived.
  // ---- PUB, SUB, XPUB, XSUB (§11.8; io_loop_pubsub.cpp) ----
  static constexpr std::size_t pubsub_address_size = 16;
  void setup_pubsub();
  // A wire message of a publish/subscribe socket: false when it was handled here (a wire
  // subscription) or is not for us; true when it is [sender address, frame], to be read as any.
  bool accept_pubsub(std::vector<::zmq::message_t>& frames, time_point now);
  void on_wire_subscription(bool on, std::string_view address, time_point now);
  void add_publisher(peer_number peer, time_point now);
  void send_subscription_set(peer_number publisher, time_point now);
  void change_topic(bool on, std::string_view topic, time_point now);
  void from_xsub_end(outgoing& m, time_point now);
  void publish(outgoing& m, time_point now);
  void on_subscription_set(delivery&& d);
  void untell_topic(const std::string& topic);
  void tell_xpub_end(bool on, const std::string& topic);
  bool subscribed_to(delivery& d);  // false: wiped and counted
  void forget_pubsub(peer_number peer);
  struct subscriber_state {
    std::vector<std::string> topics;  // distinct, sorted
    std::uint64_t seq = 0;            // of the set they came in
    bool dropping = false;            // its copies are being dropped (reported once)
  };
  std::string address_;                                            // ours, 16 bytes
  std::unordered_map<peer_number, subscriber_state> subscribers_;  // a publisher's
  std::map<std::string, std::size_t> topic_counts_;                // XPUB: subscribers per topic
  std::map<std::string, std::size_t> topics_;  // a subscriber's, with how often each was set
  std::uint64_t topics_seq_ = 1;
  std::optional<time_point> sets_due_;  // when the changed set goes to the publishers
  static constexpr std::chrono::milliseconds subscription_set_delay{2};
  void send_due_sets(time_point now);
  std::set<peer_number> publishers_;  // a subscriber's

  void on_broker_notice(std::span<const std::string_view> path, const ::zmq::message_t& notice,
                        time_point now);
  // A worker the broker said is gone (or void): out of the rotation, forgotten; of its
  // unacknowledged messages, those under `unforwarded` keys never reached it.
  void drop_worker(peer_number peer, std::span<const guid> unforwarded, time_point now);
  // Takes back from the engine the messages to `peer` that certainly never reached it (under
  // `unsent` keys, or never sealed) and queues them for the round robin (replaced_).
  void reseal_elsewhere(peer_number peer, std::span<const guid> unsent, time_point now);
  void place_replaced(time_point now);
  // PUSH/PULL: a wire send found the peer's connection gone (ZMQ_ROUTER_MANDATORY); false: the
  // wire socket is full.
  bool wire_send(std::vector<::zmq::message_t>& frames);
  // Forgets the peers whose connections went: their unacknowledged messages are reported.
  void drop_gone(time_point now);

  // A DEALER or REQ connected to several servers: each connect() after the first gets a wire
  // socket of its own (a DEALER connected to that one endpoint), whose server is one more direct
  // peer, so that cryptcom, not libzmq's round robin, chooses the server each message is sealed
  // for (docs/PROTOCOL.md §11.6).
  struct server_link {
    owned_socket socket;
    std::string endpoint;
    peer_number peer = 0;
    std::deque<std::vector<::zmq::message_t>> backlog;  // waiting for room in the socket
  };
  bool serves_several() const noexcept {
    return kind_.what == role::dealer || kind_.what == role::req;
  }
  void add_server(const std::string& endpoint);
  void remove_server(server_link& link, time_point now);
  bool read_server_one(server_link& link, time_point now);
  void send_to_server(server_link& link, std::vector<::zmq::message_t>&& frames);
  bool flush_server_backlogs();
  server_link* server_of(peer_number peer);
  void refuse(const outgoing& m, errc reason, const std::string& why);
  void pump(time_point now);
  // `opened_in`: the frame a delivery from receive_in_place views (see append_parts).
  void deliver(delivery&& d, in_place_frame* opened_in = nullptr);
  void send_to_app(std::vector<::zmq::message_t>&& parts);
  void send_to_wire(std::vector<::zmq::message_t>&& frames);
  bool flush_wire_backlog();
  bool flush_app_backlog();
  void forget_idle_peers(time_point now);
  // Evicts what the bounds ask for before a new path is added; false: no room (every known path
  // is owed a reply or holds a message).
  bool make_room(std::span<const std::string_view> path, bool established, time_point now);
  void evict(const routing_table::victim& v, time_point now);
  bool close_complete(time_point now);
  void finish(const std::string& why) noexcept;

  // Bind, connect or a first message: the identity options are fixed from here on.
  void start();
  std::optional<peer_number> peer_at(const std::vector<std::string>& route) const;
  // ZAP: puts an identity_check to the handler; applies its verdicts.
  void ask_zap(const cryptcom::event& e, std::vector<zap_client::verdict>& refused);
  void apply_verdicts(std::vector<zap_client::verdict>&& verdicts, time_point now);
  void forget(peer_number peer);  // the transport's per-peer state of a peer that goes

  std::vector<std::string> route_of(peer_number peer) const;
  std::uint64_t number_of(message_id engine_id) const;
  void note_number(message_id engine_id, std::uint64_t number);
  void emit(event e);

  void* context_;
  socket_kind kind_;
  socket_options options_;
  std::shared_ptr<shared_state> shared_;
  std::shared_ptr<key_pool> pool_;
  std::unique_ptr<random_source> random_;
  engine engine_;
  // Large frames' buffers back from libzmq, for engine_.recycle (pump).
  std::shared_ptr<frame_returns> frame_returns_ = std::make_shared<frame_returns>();

  owned_socket wire_;
  owned_socket data_;  // I/O end of the data pipe

  routing_table routes_;
  // PUSH: the connected PULLs; DEALER/REQ connected to several servers: the servers.
  balancer balancer_;
  std::vector<peer_number> gone_;  // PUSH/PULL: peers whose connection went, to forget
  std::vector<std::unique_ptr<server_link>> servers_;      // DEALER/REQ: the 2nd connect on
  std::vector<std::pair<int, std::string>> wire_options_;  // set so far, for a new server_link
  std::optional<std::string> wire_endpoint_;               // DEALER/REQ: wire_'s connect
  std::deque<std::vector<::zmq::message_t>> wire_backlog_;
  std::deque<std::vector<::zmq::message_t>> app_backlog_;
  std::optional<outgoing> held_;
  // Messages taken back from a server or worker that went, never having reached it: placed
  // again, in order, before anything newer from the application.
  std::deque<outgoing> replaced_;

  // REQ: the pipe envelope of the request in flight, and whether a reply is awaited.
  std::vector<::zmq::message_t> req_envelope_;
  bool req_outstanding_ = false;
  // REP: the peers of the requests handed to the application, oldest first.
  std::deque<peer_number> rep_pending_;

  // Application message numbers: the engine numbers only the messages it accepted, we number
  // all; (first engine id, offset) pairs where the difference changes.
  std::uint64_t app_count_ = 0;
  std::vector<std::pair<message_id, std::uint64_t>> offsets_;

  // Authenticated mode: why the identity options cannot run (set by configure_auth), whether
  // they are fixed, the ZAP client, and per peer the User-Id ZAP gave its key and why ZAP refused
  // it (added to the engine's peer_refused event).
  std::optional<std::string> auth_error_;
  bool started_ = false;
  std::optional<zap_client> zap_;
  struct zap_user {
    public_key key;
    std::string user_id;
  };
  std::unordered_map<peer_number, zap_user> zap_users_;
  std::unordered_map<peer_number, std::string> zap_notes_;
  // The peer of the last wire message and its libzmq Peer-Address (tcp), for ZAP requests.
  peer_number last_wire_peer_ = 0;
  std::string last_wire_address_;

  transport_counters counters_;
  int linger_ms_;
  // REQ and REP: the next message's agreement is to be done ahead at the end of this pump
  // (engine::prepare_seal): a REQ's next request once one left, a REP's reply to the oldest
  // request handed to the application once one is handed over or a reply left.
  bool prepare_seal_due_ = false;
  bool prefetched_ = false;
  bool closing_ = false;
  bool app_drained_ = false;
  bool done_ = false;
  bool finished_ = false;
  // The last turn's poll items (kept to spare an allocation per turn), where the further servers
  // start in them, whether the ZAP socket is among them, and the deadline the turn left.
  std::vector<::zmq::pollitem_t> items_;
  std::size_t first_server_item_ = 0;
  bool zap_polled_ = false;
  std::optional<time_point> next_wake_;
  // Turned by the application's thread: its last turn's answer, whether the turn it is in is its
  // own, and the I/O thread's planned wait (plan).
  bool ready_after_drive_ = false;
  bool driving_ = false;
  bool application_waits_ = false;
  bool network_watched_ = true;  // by the I/O thread's current wait
  bool turn_requested_ = false;
  bool driven_since_plan_ = false;
  doorbell* thread_bell_ = nullptr;  // the I/O thread's own (it outlives the loop)
  std::optional<time_point> planned_wake_;
  std::optional<time_point> close_deadline_;
  time_point acks_flushed_at_{};
  time_point next_close_check_{};
  time_point next_idle_check_{};
  std::chrono::milliseconds idle_timeout_{0};
};

}  // namespace cryptcom::zmq::detail
