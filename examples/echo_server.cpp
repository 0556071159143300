// echo_server: a cryptcom ROUTER (or REP) that sends every message back to its sender.
//
//   echo_server --bind tcp://127.0.0.1:5555 [--flow push|pull] [--count N] [--rep] [--quiet]
//
// Prints "listening on ENDPOINT" once bound (with a tcp port of *, the port chosen), then serves
// until it has echoed --count messages (0, the default: until SIGINT or SIGTERM), and prints a
// summary of the protocol's counters: keys generated, used and destroyed, frames rejected.
#include <csignal>
#include <cstdio>
#include <vector>
#include <zmq.hpp>

#include "args.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "report.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

const char* usage =
    "usage: echo_server --bind ENDPOINT [--flow push|pull] [--count N] [--rep] [--quiet]\n"
    "  --bind ENDPOINT   where to listen, e.g. tcp://127.0.0.1:5555 (tcp port * picks one)\n"
    "  --flow push|pull  flow of the replies (default: the socket type's)\n"
    "  --count N         exit after echoing N messages (default 0: run until interrupted)\n"
    "  --rep             a REP socket instead of a ROUTER (serves one request at a time)\n"
    "  --quiet           do not print each message\n";

}  // namespace

int main(int argc, char** argv) {
  examples::args a(argc, argv, usage);
  const auto endpoint = a.value("--bind");
  const auto how = a.flow();
  const long count = a.number("--count", 0);
  const bool rep = a.flag("--rep");
  const bool quiet = a.flag("--quiet");
  a.done();
  if (!endpoint) a.fail("--bind is required");

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  ::zmq::context_t ctx;
  cryptcom::zmq::socket_options options;
  options.flow = how;
  cryptcom::zmq::socket server(ctx, rep ? ::zmq::socket_type::rep : ::zmq::socket_type::router,
                               options);
  server.set(::zmq::sockopt::rcvtimeo, 200);  // to notice signals
  server.bind(*endpoint);
  std::printf("listening on %s\n", server.get(::zmq::sockopt::last_endpoint).c_str());
  std::fflush(stdout);

  long echoed = 0;
  while (!stop_requested && (count == 0 || echoed < count)) {
    std::vector<::zmq::message_t> parts;
    try {
      if (!recv_multipart(server, std::back_inserter(parts))) continue;
    } catch (const ::zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    if (!quiet) {
      std::printf("echo: %zu part(s), last %s\n", parts.size(),
                  examples::quoted(parts.back().to_string_view()).c_str());
    }
    (void)send_multipart(server, parts);  // ROUTER: the envelope goes back with the message
    ++echoed;
  }
  server.close();  // lingers until the last echo is acknowledged
  std::printf("echo_server: echoed %ld message(s)\n", echoed);
  examples::print_summary("echo_server", server.stats());
  while (auto e = server.poll_event()) {
    std::printf("echo_server event: %s\n", e->detail.c_str());
  }
  return 0;
}
