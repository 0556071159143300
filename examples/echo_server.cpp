// echo_server: a cryptcom ROUTER (or REP) that sends every message back to its sender.
//
//   echo_server --bind tcp://127.0.0.1:5555 [--flow push|pull] [--count N] [--rep] [--quiet]
//               [--identity FILE [--allow KEY]... [--allow-any]]
//
// With --identity it runs authenticated mode: only the clients --allow names (or any with
// --allow-any) are served, and each echo line names the sender's public key.
// Prints "listening on ENDPOINT" once bound (with a tcp port of *, the port chosen), then serves
// until it has echoed --count messages (0, the default: until SIGINT or SIGTERM), and prints a
// summary of the protocol's counters: keys generated, used and destroyed, frames rejected.
#include <csignal>
#include <cstdio>
#include <vector>
#include <zmq.hpp>

#include "args.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "identity_args.hpp"
#include "report.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

const char* usage =
    "usage: echo_server --bind ENDPOINT [--flow push|pull] [--count N] [--rep] [--quiet]\n"
    "                   [--identity FILE [--allow KEY]... [--allow-any]]\n"
    "  --bind ENDPOINT   where to listen, e.g. tcp://127.0.0.1:5555 (tcp port * picks one)\n"
    "  --flow push|pull  flow of the replies (default: the socket type's)\n"
    "  --count N         exit after echoing N messages (default 0: run until interrupted)\n"
    "  --rep             a REP socket instead of a ROUTER (serves one request at a time)\n"
    "  --quiet           do not print each message\n"
    "  --identity FILE   authenticated mode: our identity, a secret certificate (cryptcom keygen)\n"
    "  --allow KEY       a client public key (Z85) to serve; repeatable\n"
    "  --allow-any       serve every client that proves its identity\n";

}  // namespace

int main(int argc, char** argv) {
  examples::args a(argc, argv, usage);
  const auto endpoint = a.value("--bind");
  const auto how = a.flow();
  const long count = a.number("--count", 0);
  const bool rep = a.flag("--rep");
  const bool quiet = a.flag("--quiet");
  cryptcom::zmq::socket_options options;
  examples::identity_arguments(a, true, options.engine.auth);
  a.done();
  if (!endpoint) a.fail("--bind is required");

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  ::zmq::context_t ctx;
  options.flow = how;
  cryptcom::zmq::socket server(ctx, rep ? ::zmq::socket_type::rep : ::zmq::socket_type::router,
                               options);
  server.set(::zmq::sockopt::rcvtimeo, 200);  // to notice signals
  server.bind(*endpoint);
  std::printf("listening on %s\n", server.get(::zmq::sockopt::last_endpoint).c_str());
  if (options.engine.auth.self) {
    std::printf("identity %s\n", options.engine.auth.self->public_z85().c_str());
  }
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
      std::string from;
      if (options.engine.auth.self) {
        // A ROUTER's first part is the sender's routing id; a REP names the request it answers.
        std::vector<std::string> route;
        if (!rep) route.push_back(parts.front().to_string());
        const auto who = server.peer_identity(route);
        if (who.key) from = " from " + cryptcom::to_z85(*who.key);
      }
      std::printf("echo: %zu part(s), last %s%s\n", parts.size(),
                  examples::quoted(parts.back().to_string_view()).c_str(), from.c_str());
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
