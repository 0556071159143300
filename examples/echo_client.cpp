// echo_client: sends messages to echo_server through a cryptcom REQ socket (or a DEALER) and
// checks every echo.
//
//   echo_client --connect tcp://127.0.0.1:5555 [--flow push|pull] [--count N] [--size BYTES]
//               [--message TEXT] [--timeout MS] [--dealer] [--identity FILE --server-key KEY]
//
// With --identity and --server-key it runs authenticated mode: it talks only to the server
// holding that key, which sees this client's identity.
// Exits 0 when every message came back intact, 1 on a mismatch, 2 when an echo did not come
// within --timeout (lost), 64 on bad arguments.
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <zmq.hpp>

#include "args.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "identity_args.hpp"
#include "report.hpp"

namespace {

const char* usage =
    "usage: echo_client --connect ENDPOINT [--flow push|pull] [--count N] [--size BYTES]\n"
    "                   [--message TEXT] [--timeout MS] [--dealer]\n"
    "                   [--identity FILE --server-key KEY]\n"
    "  --connect ENDPOINT  the echo_server, e.g. tcp://127.0.0.1:5555\n"
    "  --flow push|pull    flow of the requests (default: pull, as for any REQ)\n"
    "  --count N           messages to send (default 10)\n"
    "  --size BYTES        message size (default: the text's; random bytes without --message)\n"
    "  --message TEXT      the text (default \"hello\"); message N is \"#N TEXT\", repeated or\n"
    "                      cut to --size when given\n"
    "  --timeout MS        how long to wait for each echo (default 10000)\n"
    "  --dealer            a DEALER socket instead of a REQ (for a ROUTER server; one message\n"
    "                      at a time, pushed unless --flow says otherwise)\n"
    "  --identity FILE     authenticated mode: our identity, a secret certificate (cryptcom\n"
    "                      keygen)\n"
    "  --server-key KEY    the server's public key (Z85), as its --identity certificate has it\n";

// Message i: the text (or random bytes) of the requested size, with its number in front so
// that every message differs and a swapped echo would be caught.
std::string make_message(long i, const std::optional<std::string>& text, std::optional<long> size) {
  std::string m = "#" + std::to_string(i) + " ";
  if (text) {
    m += *text;
  } else if (!size) {
    m += "hello";
  }
  if (size) {
    const auto n = static_cast<std::size_t>(*size);
    if (text && !text->empty()) {
      while (m.size() < n) m += *text;
    } else if (m.size() < n) {
      std::string r(n - m.size(), '\0');
      randombytes_buf(r.data(), r.size());
      m += r;
    }
    m.resize(n);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  examples::args a(argc, argv, usage);
  const auto endpoint = a.value("--connect");
  const auto how = a.flow();
  const long count = a.number("--count", 10);
  const long size_arg = a.number("--size", -1);
  const auto text = a.value("--message");
  const long timeout = a.number("--timeout", 10000);
  const bool dealer = a.flag("--dealer");
  cryptcom::zmq::socket_options options;
  examples::identity_arguments(a, false, options.engine.auth);
  a.done();
  if (!endpoint) a.fail("--connect is required");
  std::optional<long> size;
  if (size_arg >= 0) size = size_arg;
  if (sodium_init() < 0) return 70;

  ::zmq::context_t ctx;
  options.flow = how;
  cryptcom::zmq::socket client(ctx, dealer ? ::zmq::socket_type::dealer : ::zmq::socket_type::req,
                               options);
  client.set(::zmq::sockopt::rcvtimeo, static_cast<int>(timeout));
  client.connect(*endpoint);

  long good = 0, bad = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 1; i <= count; ++i) {
    const std::string m = make_message(i, text, size);
    (void)client.send(::zmq::buffer(m));
    ::zmq::message_t echo;
    if (!client.recv(echo)) {
      std::fprintf(stderr, "echo_client: no echo for message %ld within %ld ms: lost\n", i,
                   timeout);
      examples::print_summary("echo_client", client.stats(), stderr);
      // Why, when the socket knows (the server refused our identity, or runs the other mode).
      while (auto e = client.poll_event()) {
        std::fprintf(stderr, "echo_client event: %s\n", e->detail.c_str());
      }
      return 2;
    }
    if (echo.to_string_view() != m) {
      std::fprintf(stderr, "echo_client: message %ld came back different: sent %s got %s\n", i,
                   examples::quoted(m).c_str(), examples::quoted(echo.to_string_view()).c_str());
      ++bad;
    } else {
      ++good;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  client.close();
  std::printf("echo_client: %ld of %ld echoes intact, %ld mismatched, in %.3f s\n", good, count,
              bad, seconds);
  examples::print_summary("echo_client", client.stats());
  return bad == 0 ? 0 : 1;
}
