// lbbroker: a pool of workers behind a broker that cannot read (docs/PROTOCOL.md §11.7; README,
// "Worker pools behind a broker"), as the ZeroMQ guide's load-balancing broker:
//
//   clients (cryptcom REQ / DEALER) -> cryptcom::zmq::broker -> workers (cryptcom DEALER)
//
// Each client seals every request to a one-time key of the worker that will open it, chosen among
// the workers the broker announced; the broker routes the frame by the key id it names, after
// checking that this worker issued that key to this client. It sees routing ids and frame
// headers, never a message: `all` captures everything it received and looks for the plaintext.
//
//   lbbroker all [--clients M] [--workers N] [--requests R]
//       everything in one process: the broker, N workers (default 3), M clients (default 4, half
//       REQ, half DEALER) sending R requests each (default 10); prints what each client got, by
//       which worker, the broker's counters, and whether its capture holds any plaintext
//   lbbroker broker [--frontend EP] [--backend EP] [--seconds S]
//       the broker alone (default tcp://127.0.0.1:5570 and :5571), until SIGINT/SIGTERM or S s
//   lbbroker worker [--backend EP] [--name NAME] [--seconds S]
//       one worker: answers every request with "re:" + the request and its name
//   lbbroker client [--frontend EP] [--requests R] [--name NAME] [--req] [--workers N]
//       one client (DEALER, or REQ with --req): once it holds keys of N workers (default 1, at
//       most 5 s), R requests, then prints what came back
//
// Exit status of `all` and `client`: 0 when every request was answered once, with the answer to
// that request (and, for `all`, nothing of any request or reply in the broker's capture); 1
// otherwise. `broker` and `worker` exit 0 when stopped.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "args.hpp"
#include "cryptcom/zmq/broker.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "report.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

// Short timers, so that a request the pool loses is reported within seconds: keys asked for again
// after 250 ms, a request sent again after 500 ms without acknowledgement, given up after 3 s.
cryptcom::zmq::socket_options pool_options() {
  cryptcom::zmq::socket_options o;
  o.through_broker = true;
  o.engine.key_request_retry = 250ms;
  o.engine.retransmit_after = 500ms;
  o.engine.delivery_timeout = 3s;
  o.linger = 500ms;
  return o;
}

// Until SIGINT/SIGTERM, `stop` or `seconds` (0: no limit) have passed.
bool keep_going(const std::atomic<bool>& stop, clock_type::time_point until) {
  return stop_requested == 0 && !stop && clock_type::now() < until;
}
clock_type::time_point deadline_after(long seconds) {
  return seconds == 0 ? clock_type::time_point::max()
                      : clock_type::now() + std::chrono::seconds(seconds);
}

// A worker: every request [client id, parts...] is answered [client id, "re:" + each part (an
// empty part, a REQ's delimiter, stays empty), "by:" + name]. Returns how many it answered.
std::size_t serve(::zmq::context_t& ctx, const std::string& backend, const std::string& name,
                  const std::atomic<bool>& stop, clock_type::time_point until) {
  cryptcom::zmq::socket worker(ctx, ::zmq::socket_type::dealer, pool_options());
  worker.set(::zmq::sockopt::routing_id, name);  // how the broker's events name it
  worker.set(::zmq::sockopt::rcvtimeo, 100);     // to notice the end
  worker.connect(backend);
  std::size_t answered = 0;
  while (keep_going(stop, until)) {
    std::vector<::zmq::message_t> request;
    if (!cryptcom::zmq::recv_multipart(worker, std::back_inserter(request))) continue;
    if (request.size() < 2) continue;  // always [client id, parts...]
    std::vector<std::string> reply{request[0].to_string()};
    for (std::size_t i = 1; i < request.size(); ++i) {
      reply.push_back(request[i].size() == 0 ? std::string() : "re:" + request[i].to_string());
    }
    reply.push_back("by:" + name);
    if (cryptcom::zmq::send_multipart(worker, reply)) ++answered;
  }
  return answered;
}

// What a client got back.
struct tally {
  std::string name;
  bool req = false;
  std::size_t sent = 0;
  std::size_t answered = 0;
  std::size_t wrong = 0;     // an answer to no request of this client's
  std::size_t twice = 0;     // a request answered again
  std::size_t reported = 0;  // reported undeliverable (poll_event)
  std::map<std::string, std::size_t> by_worker;
  std::string first_reply;  // the first answer that came, and the worker that gave it
  std::string first_by;
  std::vector<std::string> requests;

  bool all_answered_once() const {
    return answered == sent && wrong == 0 && twice == 0 && reported == 0;
  }
};

// Waits (at most 5 s) until the client holds keys of `workers` workers: the broker announces each
// worker to it, it asks each for keys, and from then on it spreads its requests over them (a
// request is sealed to one worker's key when it is sent, so requests sent before a worker's keys
// came all go to the others).
void wait_for_workers(cryptcom::zmq::socket& client, long workers) {
  const auto until = clock_type::now() + 5s;
  while (clock_type::now() < until && stop_requested == 0) {
    long keyed = 0;
    for (const auto& [peer, counters] : client.stats().engine.per_peer) {
      keyed += counters.keys_received > 0 ? 1 : 0;
    }
    if (keyed >= workers) return;
    std::this_thread::sleep_for(10ms);
  }
}

// A client: once it holds keys of `workers` workers, sends `count` requests (a DEALER all at
// once, a REQ one after the other) and collects the answers and the reports of what was given up,
// for at most 10 s.
tally ask(::zmq::context_t& ctx, const std::string& frontend, const std::string& name, bool req,
          long count, long workers) {
  tally t;
  t.name = name;
  t.req = req;
  cryptcom::zmq::socket client(ctx, req ? ::zmq::socket_type::req : ::zmq::socket_type::dealer,
                               pool_options());
  client.set(::zmq::sockopt::rcvtimeo, 100);
  client.connect(frontend);
  wait_for_workers(client, workers);
  std::unordered_map<std::string, std::size_t> index_of;
  std::vector<int> answers(static_cast<std::size_t>(count), 0);
  for (long i = 0; i < count; ++i) {
    t.requests.push_back("order " + std::to_string(i + 1) + " of " + name + ": 3 x part 7731-B");
    index_of[t.requests.back()] = static_cast<std::size_t>(i);
  }
  auto take = [&](const std::vector<::zmq::message_t>& reply) {
    const std::string text = reply.empty() ? std::string() : reply[0].to_string();
    const auto it = text.rfind("re:", 0) == 0 ? index_of.find(text.substr(3)) : index_of.end();
    if (reply.size() != 2 || it == index_of.end()) {
      ++t.wrong;
      return;
    }
    if (answers[it->second]++ > 0) ++t.twice;
    ++t.answered;
    const std::string by = reply[1].to_string().substr(3);
    ++t.by_worker[by];
    if (t.first_reply.empty()) {
      t.first_reply = text;
      t.first_by = by;
    }
  };
  auto reports = [&] {
    while (auto e = client.poll_event()) {
      if (e->kind == cryptcom::zmq::event_kind::message_undeliverable) ++t.reported;
    }
  };
  const auto until = clock_type::now() + 10s;
  auto settled = [&] { return t.answered + t.reported >= t.sent; };
  for (const auto& r : t.requests) {
    if (!client.send(::zmq::buffer(r), ::zmq::send_flags::none)) break;
    ++t.sent;
    // A REQ waits for its answer (or the report that there will be none) before the next.
    while (req && !settled() && clock_type::now() < until && stop_requested == 0) {
      std::vector<::zmq::message_t> reply;
      if (cryptcom::zmq::recv_multipart(client, std::back_inserter(reply))) take(reply);
      reports();
    }
    if (req && !settled()) break;
  }
  while (!settled() && clock_type::now() < until && stop_requested == 0) {
    std::vector<::zmq::message_t> reply;
    if (cryptcom::zmq::recv_multipart(client, std::back_inserter(reply))) take(reply);
    reports();
  }
  client.close();
  reports();
  return t;
}

void print_tally(const tally& t) {
  std::printf("%s (%s): %zu of %zu answered", t.name.c_str(), t.req ? "REQ" : "DEALER", t.answered,
              t.sent);
  const char* sep = " by ";
  for (const auto& [w, n] : t.by_worker) {
    std::printf("%s%s %zu", sep, w.c_str(), n);
    sep = ", ";
  }
  if (t.reported > 0) std::printf("; %zu reported undeliverable", t.reported);
  if (t.wrong > 0) std::printf("; %zu WRONG answers", t.wrong);
  if (t.twice > 0) std::printf("; %zu answered TWICE", t.twice);
  std::printf("\n");
  if (!t.first_reply.empty()) {
    std::printf("  first answer: %s from %s\n", examples::quoted(t.first_reply, 60).c_str(),
                t.first_by.c_str());
  }
}

void print_broker_stats(const cryptcom::zmq::broker_stats& s) {
  auto n = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "broker: clients %llu, workers %llu (joined %llu, gone %llu), key ids held %llu | frames "
      "to workers %llu, to clients %llu, data frames routed %llu | refused: unknown key %llu, "
      "forged issuer %llu, unknown worker %llu, unknown client %llu, malformed %llu, full %llu, "
      "over limit %llu | gone notices %llu\n",
      n(s.clients), n(s.workers), n(s.workers_joined), n(s.workers_gone), n(s.keys),
      n(s.frames_to_workers), n(s.frames_to_clients), n(s.data_frames_routed),
      n(s.refused_unknown_key), n(s.refused_forged_issuer), n(s.refused_unknown_worker),
      n(s.refused_unknown_client), n(s.refused_malformed), n(s.refused_full),
      n(s.refused_over_limit), n(s.gone_notices_sent));
}

// Runs the broker until `stop`, SIGINT/SIGTERM or `until`; prints its events as they come.
void run_broker(cryptcom::zmq::broker& b, const std::atomic<bool>& stop,
                clock_type::time_point until) {
  b.on_event([](const cryptcom::zmq::broker_event& e) {
    std::printf("broker event (%s): %s\n", e.side.c_str(), e.what.c_str());
  });
  std::thread watcher([&] {
    while (keep_going(stop, until)) std::this_thread::sleep_for(50ms);
    b.stop();
  });
  b.run();
  watcher.join();
}

int all(examples::args& a) {
  const long clients = a.number("--clients", 4);
  const long workers = a.number("--workers", 3);
  const long requests = a.number("--requests", 10);
  a.done();
  if (clients == 0 || workers == 0) a.fail("--clients and --workers need at least 1");
  std::printf("== %ld clients -> key-blind broker -> %ld workers, %ld requests each ==\n\n",
              clients, workers, requests);

  ::zmq::context_t ctx;
  cryptcom::zmq::broker b(ctx);
  b.bind_frontend("tcp://127.0.0.1:*");
  b.bind_backend("tcp://127.0.0.1:*");
  // The capture: everything the broker receives, to look for plaintext in afterwards.
  ::zmq::socket_t capture_out(ctx, ::zmq::socket_type::push),
      capture_in(ctx, ::zmq::socket_type::pull);
  for (auto* s : {&capture_out, &capture_in}) {
    s->set(::zmq::sockopt::sndhwm, 0);
    s->set(::zmq::sockopt::rcvhwm, 0);
    s->set(::zmq::sockopt::linger, 0);
  }
  capture_in.bind("inproc://lbbroker-capture");
  capture_out.connect("inproc://lbbroker-capture");
  b.capture(::zmq::socket_ref(capture_out));
  std::printf("broker: clients connect to %s, workers to %s\n", b.frontend_endpoint().c_str(),
              b.backend_endpoint().c_str());

  std::atomic<bool> stop{false}, broker_done{false};
  std::thread broker_thread([&] { run_broker(b, stop, clock_type::time_point::max()); });
  std::vector<std::string> captured;
  std::size_t captured_messages = 0;
  std::thread collector([&] {
    capture_in.set(::zmq::sockopt::rcvtimeo, 50);
    for (;;) {
      const bool last = broker_done;  // after the broker stopped, read what it sent to the end
      std::vector<::zmq::message_t> parts;
      while (::zmq::recv_multipart(capture_in, std::back_inserter(parts))) {
        ++captured_messages;
        for (const auto& p : parts) captured.push_back(p.to_string());
        parts.clear();
      }
      if (last) break;
    }
  });

  std::vector<std::size_t> served(static_cast<std::size_t>(workers), 0);
  std::vector<std::thread> worker_threads;
  for (long w = 0; w < workers; ++w) {
    worker_threads.emplace_back([&, w] {
      served[static_cast<std::size_t>(w)] =
          serve(ctx, b.backend_endpoint(), "worker-" + std::to_string(w + 1), stop,
                clock_type::time_point::max());
    });
  }
  std::vector<tally> tallies(static_cast<std::size_t>(clients));
  std::vector<std::thread> client_threads;
  const auto start = clock_type::now();
  for (long c = 0; c < clients; ++c) {
    client_threads.emplace_back([&, c] {
      tallies[static_cast<std::size_t>(c)] =
          ask(ctx, b.frontend_endpoint(), "client-" + std::to_string(c + 1), c % 2 == 0, requests,
              workers);
    });
  }
  for (auto& t : client_threads) t.join();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const auto stats = b.stats();
  stop = true;
  for (auto& t : worker_threads) t.join();
  broker_thread.join();
  broker_done = true;
  collector.join();

  std::printf("\nwhat each client got (%.2f s):\n", seconds);
  std::size_t sent = 0, answered = 0, reported = 0, wrong = 0, twice = 0;
  std::vector<std::string> secrets;
  for (const auto& t : tallies) {
    print_tally(t);
    sent += t.sent;
    answered += t.answered;
    reported += t.reported;
    wrong += t.wrong;
    twice += t.twice;
    for (const auto& r : t.requests) {
      secrets.push_back(r);
      secrets.push_back("re:" + r);
    }
  }
  std::printf("\nwhat each worker answered:");
  for (long w = 0; w < workers; ++w) {
    std::printf(" worker-%ld %zu", w + 1, served[static_cast<std::size_t>(w)]);
  }
  std::printf("\n");
  print_broker_stats(stats);

  std::size_t leaks = 0;
  for (const auto& frame : captured) {
    for (const auto& s : secrets) leaks += frame.find(s) != std::string::npos ? 1 : 0;
  }
  std::printf(
      "the broker received %zu messages (%zu frames); plaintext of any request or reply "
      "in them: %s\n",
      captured_messages, captured.size(), leaks == 0 ? "none" : "FOUND");
  const std::size_t lost = sent - std::min(sent, answered + reported);
  std::printf(
      "\nresult: %zu of %zu answered, %zu reported undeliverable, %zu lost without a report, %zu "
      "wrong, %zu answered twice, %zu plaintext in the capture\n",
      answered, sent, reported, lost, wrong, twice, leaks);
  const bool ok = sent == static_cast<std::size_t>(clients * requests) && answered == sent &&
                  wrong == 0 && twice == 0 && leaks == 0;
  return ok ? 0 : 1;
}

int broker_mode(examples::args& a) {
  const std::string frontend = a.text("--frontend", "tcp://127.0.0.1:5570");
  const std::string backend = a.text("--backend", "tcp://127.0.0.1:5571");
  const long seconds = a.number("--seconds", 0);
  a.done();
  ::zmq::context_t ctx;
  cryptcom::zmq::broker b(ctx);
  b.bind_frontend(frontend);
  b.bind_backend(backend);
  std::printf("broker: clients connect to %s, workers to %s\n", b.frontend_endpoint().c_str(),
              b.backend_endpoint().c_str());
  std::fflush(stdout);
  const std::atomic<bool> never{false};
  run_broker(b, never, deadline_after(seconds));
  print_broker_stats(b.stats());
  return 0;
}

int worker_mode(examples::args& a) {
  const std::string backend = a.text("--backend", "tcp://127.0.0.1:5571");
  const std::string name = a.text("--name", "worker-" + std::to_string(::getpid()));
  const long seconds = a.number("--seconds", 0);
  a.done();
  ::zmq::context_t ctx;
  const std::atomic<bool> never{false};
  const std::size_t n = serve(ctx, backend, name, never, deadline_after(seconds));
  std::printf("%s answered %zu requests\n", name.c_str(), n);
  return 0;
}

int client_mode(examples::args& a) {
  const std::string frontend = a.text("--frontend", "tcp://127.0.0.1:5570");
  const std::string name = a.text("--name", "client-" + std::to_string(::getpid()));
  const long requests = a.number("--requests", 10);
  const bool req = a.flag("--req");
  const long workers = a.number("--workers", 1);
  a.done();
  ::zmq::context_t ctx;
  const tally t = ask(ctx, frontend, name, req, requests, workers);
  print_tally(t);
  std::printf(
      "\nresult: %zu of %zu answered, %zu reported undeliverable, %zu wrong, %zu answered "
      "twice\n",
      t.answered, t.sent, t.reported, t.wrong, t.twice);
  return t.all_answered_once() && t.sent == static_cast<std::size_t>(requests) ? 0 : 1;
}

}  // namespace

constexpr const char* usage =
    "usage: lbbroker all [--clients M] [--workers N] [--requests R]\n"
    "       lbbroker broker [--frontend EP] [--backend EP] [--seconds S]\n"
    "       lbbroker worker [--backend EP] [--name NAME] [--seconds S]\n"
    "       lbbroker client [--frontend EP] [--requests R] [--name NAME] [--req] [--workers N]\n"
    "  all     the broker, N workers (3) and M clients (4) in one process, R requests (10) each\n"
    "  broker  the key-blind broker (frontend tcp://127.0.0.1:5570, backend :5571)\n"
    "  worker  a worker behind it: answers \"re:\" + the request, and its name\n"
    "  client  a client in front of it (DEALER; --req: REQ): R requests, prints the answers;\n"
    "          --workers N: first wait (up to 5 s) until it holds keys of N workers (1)\n"
    "  --seconds S  stop after S seconds (default: at SIGINT or SIGTERM)\n";

int main(int argc, char** argv) {
  // The mode comes first; the options after it are the mode's (args reads argv from index 1).
  if (argc < 2 || argv[1][0] == '-') {
    examples::args a(argc, argv, usage);  // --help prints the usage
    a.fail("a mode first: all, broker, worker or client");
  }
  const std::string mode = argv[1];
  examples::args a(argc - 1, argv + 1, usage);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // The processes may be started as one shell pipeline whose reader goes first: a last line of
  // output that finds no reader is lost, not fatal.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    if (mode == "all") return all(a);
    if (mode == "broker") return broker_mode(a);
    if (mode == "worker") return worker_mode(a);
    if (mode == "client") return client_mode(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  a.fail("unknown mode '" + mode + "'");
}
