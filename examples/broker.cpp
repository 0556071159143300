// broker: end-to-end encryption through a broker, in one program, and what a compromised broker
// can and cannot do about it.
//
//   client (cryptcom DEALER) -> broker (ROUTER/DEALER) -> worker (cryptcom REP)
//
// The honest broker is ordinary ZeroMQ (zmq_proxy with a capture): it routes by the envelope and
// forwards the rest untouched. It has no key and sees only one-time-key ciphertext; its capture
// shows it. (CurveZMQ secures each hop, so a CURVE broker decrypts and re-encrypts: it reads
// everything.)
//
// With --malicious the broker is examples/rogue_broker.hpp: it replaces the keys the worker offers
// with its own, acknowledges a request itself instead of passing it on, and replays frames. In
// base mode that works: it reads what was sealed to its keys and makes a request vanish without a
// report, since base mode authenticates no one. In authenticated mode (--identity and
// --server-identity) every one of those frames fails its MAC at the endpoint and is dropped and
// counted; the broker reads nothing, and every request is answered once.
//
//   broker [--count N] [--message TEXT] [--identity FILE --server-identity FILE] [--malicious]
//
// Exit status 1 when a request or reply was delivered twice, or when what the mode promises did
// not hold: with the honest broker, plaintext in its capture or a request without its answer;
// with the malicious broker in authenticated mode, anything read by the broker or a request
// neither answered nor reported undeliverable. The malicious broker in base mode exits 0 whatever
// it achieved: base mode promises nothing against it (README, "Authenticated mode").
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "args.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "identity_args.hpp"
#include "report.hpp"
#include "rogue_broker.hpp"

namespace {

using namespace std::chrono_literals;

// The honest broker: plain zmq_proxy, as it would run on a machine you do not trust with the
// content, with a capture of everything it forwards.
class honest_broker {
 public:
  explicit honest_broker(::zmq::context_t& ctx)
      : frontend_(ctx, ::zmq::socket_type::router),
        backend_(ctx, ::zmq::socket_type::dealer),
        capture_(ctx, ::zmq::socket_type::pair),
        tap_(ctx, ::zmq::socket_type::pair),
        control_(ctx, ::zmq::socket_type::pair),
        control_client_(ctx, ::zmq::socket_type::pair) {
    frontend_.bind("tcp://127.0.0.1:*");
    backend_.bind("tcp://127.0.0.1:*");
    tap_.bind("inproc://broker-capture");
    capture_.connect("inproc://broker-capture");
    control_.bind("inproc://broker-control");
    control_client_.connect("inproc://broker-control");
    tap_.set(::zmq::sockopt::rcvtimeo, 50);
    proxy_ = std::thread([this] {
      ::zmq::proxy_steerable(::zmq::socket_ref(frontend_), backend_, capture_, control_);
    });
    collector_ = std::thread([this] {
      // The capture repeats each message frame by frame: routing frames first, then the
      // engine's frame. All of them are kept: the plaintext must be in none.
      while (!stop_) {
        std::vector<::zmq::message_t> parts;
        while (::zmq::recv_multipart(tap_, std::back_inserter(parts))) {
          for (const auto& p : parts) captured_.push_back(p.to_string());
          payloads_.push_back(parts.back().to_string());
          parts.clear();
        }
      }
    });
  }
  ~honest_broker() { stop(); }

  std::string front() const { return frontend_.get(::zmq::sockopt::last_endpoint); }
  std::string back() const { return backend_.get(::zmq::sockopt::last_endpoint); }

  void stop() {
    if (stop_.exchange(true)) return;
    (void)control_client_.send(::zmq::str_buffer("TERMINATE"));
    proxy_.join();
    collector_.join();
  }

  // After stop(): how many of `secrets` show in any captured frame; prints the first frames.
  std::size_t leaks(const std::vector<std::string>& secrets) const {
    std::size_t n = 0;
    for (const auto& frame : captured_) {
      for (const auto& s : secrets) n += frame.find(s) != std::string::npos ? 1 : 0;
    }
    std::printf("the broker forwarded %zu messages (%zu frames); the first ones:\n",
                payloads_.size(), captured_.size());
    for (std::size_t i = 0; i < payloads_.size() && i < 6; ++i) {
      std::printf("  %s\n", examples::hex_preview(payloads_[i]).c_str());
    }
    return n;
  }

 private:
  ::zmq::socket_t frontend_, backend_, capture_, tap_, control_, control_client_;
  std::thread proxy_, collector_;
  std::atomic<bool> stop_{false};
  std::vector<std::string> captured_;  // every frame
  std::vector<std::string> payloads_;  // the last frame of each message
};

const char* kind_name(cryptcom::zmq::event_kind k) {
  using cryptcom::zmq::event_kind;
  switch (k) {
    case event_kind::frame_rejected:
      return "frame_rejected";
    case event_kind::message_undeliverable:
      return "message_undeliverable";
    case event_kind::message_rejected:
      return "message_rejected";
    case event_kind::peer_restarted:
      return "peer_restarted";
    case event_kind::message_refused:
      return "message_refused";
    case event_kind::message_dropped:
      return "message_dropped";
    case event_kind::transport_error:
      return "transport_error";
    case event_kind::peer_evicted:
      return "peer_evicted";
    case event_kind::peer_authenticated:
      return "peer_authenticated";
    case event_kind::peer_refused:
      return "peer_refused";
    case event_kind::identity_check:
      return "identity_check";
  }
  return "?";
}

void print_events(const char* who, const std::vector<cryptcom::zmq::event>& events) {
  std::printf("%s events:%s\n", who, events.empty() ? " none" : "");
  for (const auto& e : events) {
    std::printf("  %s (%s)%s%s: %s\n", kind_name(e.kind),
                std::string(cryptcom::to_string(e.reason)).c_str(),
                e.message != 0 ? ", message #" : "",
                e.message != 0 ? std::to_string(e.message).c_str() : "", e.detail.c_str());
  }
}

void drain_events(cryptcom::zmq::socket& s, std::vector<cryptcom::zmq::event>& into) {
  while (auto e = s.poll_event()) into.push_back(std::move(*e));
}

}  // namespace

int main(int argc, char** argv) {
  examples::args a(
      argc, argv,
      "usage: broker [--count N] [--message TEXT] [--identity FILE --server-identity FILE]\n"
      "              [--malicious]\n"
      "  --count N               requests from the client (default 5)\n"
      "  --message TEXT          the request text (default: a made-up bank transfer)\n"
      "  --identity FILE         authenticated mode: the client's secret certificate\n"
      "  --server-identity FILE  ...and the worker's (both from cryptcom keygen)\n"
      "  --malicious             a compromised broker: forges key offers and acknowledgements\n"
      "                          and replays frames (see what it reads in each mode)\n");
  const long count = a.number("--count", 5);
  const std::string text =
      a.text("--message", "transfer 250 EUR to IBAN DE89 3704 0044 0532 0130 00");
  const bool malicious = a.flag("--malicious");
  cryptcom::zmq::socket_options client_options;
  examples::identity_arguments(a, false, client_options.engine.auth);
  const auto server_identity = a.value("--server-identity");
  a.done();
  if (client_options.engine.auth.self.has_value() != server_identity.has_value()) {
    a.fail("--identity and --server-identity go together");
  }
  cryptcom::zmq::socket_options worker_options;
  if (server_identity) {
    auto sid = cryptcom::identity::load(*server_identity);
    if (!sid.ok()) a.fail("--server-identity: " + sid.error().to_string());
    client_options.engine.auth.peer_key = sid->public_value();
    worker_options.engine.auth.allowed = {client_options.engine.auth.self->public_value()};
    worker_options.engine.auth.self = std::move(sid).value();
  }
  const bool authenticated = server_identity.has_value();
  // Shorter timers than the defaults so that the run takes seconds: keys asked for again after
  // 250 ms, a request without acknowledgement sent again after 500 ms, given up after 3 s.
  for (auto* o : {&client_options, &worker_options}) {
    o->engine.key_request_retry = 250ms;
    o->engine.retransmit_after = 500ms;
    o->engine.delivery_timeout = 3s;
  }
  std::printf("== %s broker, %s mode ==\n\n", malicious ? "malicious" : "honest",
              authenticated ? "authenticated" : "base");

  ::zmq::context_t ctx;
  std::atomic<bool> stop{false};
  std::optional<honest_broker> honest;
  std::optional<examples::rogue_broker> rogue;
  std::thread rogue_thread;
  std::string front, back;
  if (malicious) {
    rogue.emplace(ctx, examples::rogue_broker::attacks{});
    front = rogue->front();
    back = rogue->back();
    rogue_thread = std::thread([&] { rogue->run(stop); });
  } else {
    honest.emplace(ctx);
    front = honest->front();
    back = honest->back();
  }

  // The worker: a cryptcom REP behind the broker. It counts what it was given, to show that
  // nothing is delivered twice.
  std::mutex worker_mutex;
  std::map<std::string, int> worker_got;
  cryptcom::zmq::socket worker(ctx, ::zmq::socket_type::rep, worker_options);
  worker.set(::zmq::sockopt::rcvtimeo, 100);
  worker.connect(back);
  std::thread worker_thread([&] {
    while (!stop) {
      ::zmq::message_t request;
      if (!worker.recv(request)) continue;
      {
        std::lock_guard lock(worker_mutex);
        ++worker_got[request.to_string()];
      }
      const std::string answer = "done: " + request.to_string();
      (void)worker.send(::zmq::buffer(answer));
    }
  });

  // The client: a cryptcom DEALER in front of the broker, sending REQ-style requests (an empty
  // first part) all at once, then collecting the replies and the reports of what was lost.
  cryptcom::zmq::socket client(ctx, ::zmq::socket_type::dealer, client_options);
  client.connect(front);
  std::vector<std::string> requests, secrets;
  for (long i = 1; i <= count; ++i) {
    requests.push_back(text + " #" + std::to_string(i));
    secrets.push_back(requests.back());
    secrets.push_back("done: " + requests.back());
    std::printf("client  -> %s\n", examples::quoted(requests.back(), 60).c_str());
    (void)client.send(::zmq::str_buffer(""), ::zmq::send_flags::sndmore);
    (void)client.send(::zmq::buffer(requests.back()), ::zmq::send_flags::none);
  }
  std::map<std::string, int> replies;             // by reply text
  std::map<std::uint64_t, std::string> reported;  // undeliverable, by message number
  std::vector<cryptcom::zmq::event> client_events, worker_events;
  auto accounted = [&] {
    std::size_t n = 0;
    for (long i = 1; i <= count; ++i) {
      const auto& r = requests[static_cast<std::size_t>(i - 1)];
      n += (replies.contains("done: " + r) || reported.contains(static_cast<std::uint64_t>(i)));
    }
    return n == requests.size();
  };
  // Bounded: a request is answered, or reported within the delivery timeout (3 s). One the
  // broker made vanish in base mode is neither: the wait ends 3.5 s after the last news, and
  // after 10 s in any case.
  const auto start = std::chrono::steady_clock::now();
  auto last_news = start;
  while (!accounted() && std::chrono::steady_clock::now() - last_news < 3500ms &&
         std::chrono::steady_clock::now() - start < 10s) {
    ::zmq::pollitem_t item{client.handle(), 0, ZMQ_POLLIN, 0};
    ::zmq::poll(&item, 1, 100ms);
    std::vector<::zmq::message_t> parts;
    while (::zmq::recv_multipart(client, std::back_inserter(parts), ::zmq::recv_flags::dontwait)) {
      const std::string reply = parts.back().to_string();
      ++replies[reply];
      std::printf("client <-  %s\n", examples::quoted(reply, 66).c_str());
      parts.clear();
      last_news = std::chrono::steady_clock::now();
    }
    const std::size_t before = client_events.size();
    drain_events(client, client_events);
    if (client_events.size() > before) last_news = std::chrono::steady_clock::now();
    for (std::size_t i = before; i < client_events.size(); ++i) {
      const auto& e = client_events[i];
      if (e.kind == cryptcom::zmq::event_kind::message_undeliverable) {
        reported[e.message] = std::string(cryptcom::to_string(e.reason));
      }
    }
  }

  stop = true;
  worker_thread.join();
  if (rogue_thread.joinable()) rogue_thread.join();
  if (honest) honest->stop();
  client.close();
  worker.close();
  drain_events(client, client_events);
  drain_events(worker, worker_events);

  // What the broker could read.
  std::printf("\n");
  std::size_t read = 0;
  if (honest) {
    read = honest->leaks(secrets);
    std::printf("plaintext of any request or reply in the broker's capture: %s\n",
                read == 0 ? "none" : "FOUND");
  } else {
    std::printf("what the broker did:\n");
    for (const auto& line : rogue->log()) std::printf("  %s\n", line.c_str());
    read = rogue->read().size();
    std::printf("the broker read %zu of the client's requests in plaintext%s\n", read,
                read > 0 ? " (base mode authenticates no one: it offered its own keys)" : "");
  }

  // What the endpoints saw.
  std::printf("\nwhat the endpoints reported:\n");
  std::size_t answered = 0, twice = 0, lost = 0;
  for (long i = 1; i <= count; ++i) {
    const auto n = static_cast<std::uint64_t>(i);
    const auto& r = requests[static_cast<std::size_t>(i - 1)];
    const int got = worker_got.contains(r) ? worker_got[r] : 0;
    const int back_n = replies.contains("done: " + r) ? replies["done: " + r] : 0;
    answered += back_n > 0 ? 1 : 0;
    twice += (got > 1 || back_n > 1) ? 1 : 0;
    std::string what = back_n == 1 ? "answered once" : back_n > 1 ? "answered TWICE" : "";
    if (back_n == 0 && reported.contains(n)) {
      what = "reported undeliverable to the client (" + reported[n] + ")";
    } else if (back_n == 0) {
      ++lost;
      what = got == 0 ? "LOST without a report: the worker never got it, the client holds an "
                        "acknowledgement for it"
                      : "no reply and no report";
    }
    std::printf("  request #%ld: the worker got it %d time(s); %s\n", i, got, what.c_str());
  }
  print_events("client", client_events);
  print_events("worker", worker_events);
  for (const auto& [who, s] : {std::pair{"client", client.stats()}, {"worker", worker.stats()}}) {
    examples::print_summary(who, s);
    examples::print_refusals(who, s);
  }

  if (malicious && !authenticated) {
    std::printf(
        "\nbase mode authenticates no one: the client took the broker's keys and its "
        "acknowledgement\nfor the worker's, so the broker read what was sealed to its keys and "
        "made a request vanish\nunreported; its replays found their one-time keys used and "
        "delivered nothing. Authenticated\nmode (--identity, --server-identity) stops the first "
        "two.\n");
  } else if (malicious) {
    std::printf(
        "\nauthenticated mode: the broker's changed offers and its acknowledgement failed their "
        "MACs and\nwere dropped (client: %llu frames unauthenticated), so nothing was sealed to "
        "its keys and the\nrequest it kept was sent again; its replays repeated sequence numbers "
        "and were dropped.\n",
        static_cast<unsigned long long>(client.stats().engine.total.frames_unauthenticated));
  }
  std::printf(
      "\nresult: the broker read %zu plaintext request(s); %zu of %zu answered, %zu "
      "reported undeliverable, %zu lost without a report, %zu delivered twice\n",
      read, answered, requests.size(), reported.size(), lost, twice);
  bool kept = twice == 0;
  if (!malicious) kept = kept && read == 0 && answered == requests.size();
  if (malicious && authenticated) kept = kept && read == 0 && lost == 0;
  return kept ? 0 : 1;
}
