// dropin: the same small application twice, first on plain cppzmq, then on cryptcom. The
// application (hello_world below) is one template; the two runs differ only in the socket type
// and its options, which is the whole change an existing ZeroMQ application makes:
//
//   zmq::socket_t         socket(ctx, zmq::socket_type::req);
//   cryptcom::zmq::socket socket(ctx, zmq::socket_type::req, options);   // options optional
//
// Both runs put a wiretap (a plain ZeroMQ forwarder) between client and server and print what it
// saw: the words themselves with plain ZeroMQ, one-time-key ciphertext with cryptcom.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "cryptcom/zmq/socket.hpp"
#include "report.hpp"

namespace {

// A forwarder between client and server that keeps a copy of everything.
struct wiretap {
  explicit wiretap(::zmq::context_t& ctx)
      : front(ctx, ::zmq::socket_type::router),
        back(ctx, ::zmq::socket_type::dealer),
        cap(ctx, ::zmq::socket_type::pair),
        sink(ctx, ::zmq::socket_type::pair),
        ctl(ctx, ::zmq::socket_type::pair),
        ctl_client(ctx, ::zmq::socket_type::pair) {
    static int n = 0;
    const std::string id = std::to_string(++n);
    front.bind("tcp://127.0.0.1:*");
    sink.bind("inproc://dropin-tap-" + id);
    cap.connect("inproc://dropin-tap-" + id);
    ctl.bind("inproc://dropin-ctl-" + id);
    ctl_client.connect("inproc://dropin-ctl-" + id);
  }
  void start(const std::string& server) {
    back.connect(server);
    proxy =
        std::thread([this] { ::zmq::proxy_steerable(::zmq::socket_ref(front), back, cap, ctl); });
  }
  std::vector<std::string> stop() {
    (void)ctl_client.send(::zmq::str_buffer("TERMINATE"));
    proxy.join();
    // The capture repeats each message frame by frame; its last frame is the payload (routing
    // id first; with plain ZeroMQ also the REQ/REP delimiter, which cryptcom seals).
    std::vector<std::string> seen;
    std::vector<::zmq::message_t> parts;
    while (::zmq::recv_multipart(sink, std::back_inserter(parts), ::zmq::recv_flags::dontwait)) {
      seen.push_back(parts.back().to_string());
      parts.clear();
    }
    return seen;
  }
  std::string endpoint() { return front.get(::zmq::sockopt::last_endpoint); }

  ::zmq::socket_t front, back, cap, sink, ctl, ctl_client;
  std::thread proxy;
};

// ---- The application: written once against cppzmq's API --------------------------------------
template <class Socket, class MakeSocket>
void hello_world(::zmq::context_t& ctx, MakeSocket make_socket, wiretap& tap) {
  Socket server = make_socket(ctx, ::zmq::socket_type::rep);
  server.bind("tcp://127.0.0.1:*");
  tap.start(server.get(::zmq::sockopt::last_endpoint));

  Socket client = make_socket(ctx, ::zmq::socket_type::req);
  client.connect(tap.endpoint());
  for (const char* word : {"Hello", "World", "attack at dawn"}) {
    client.send(::zmq::buffer(std::string(word)), ::zmq::send_flags::none);
    ::zmq::message_t request;
    (void)server.recv(request, ::zmq::recv_flags::none);
    server.send(::zmq::buffer("got " + request.to_string()), ::zmq::send_flags::none);
    ::zmq::message_t reply;
    (void)client.recv(reply, ::zmq::recv_flags::none);
    std::printf("  client sent %-18s and got back %s\n", examples::quoted(word).c_str(),
                examples::quoted(reply.to_string_view()).c_str());
  }
}
// -----------------------------------------------------------------------------------------------

void show(const std::vector<std::string>& seen) {
  bool plaintext = false;
  for (const auto& f : seen) plaintext |= f.find("attack at dawn") != std::string::npos;
  std::printf("  the wiretap saw %zu messages, the first ones:\n", seen.size());
  for (std::size_t i = 0; i < seen.size() && i < 6; ++i) {
    std::printf("    %-44s %s\n", examples::quoted(seen[i], 24).c_str(),
                examples::hex_preview(seen[i], 8, 4).c_str());
  }
  std::printf("  \"attack at dawn\" readable on the wire: %s\n\n", plaintext ? "YES" : "no");
}

}  // namespace

int main() {
  ::zmq::context_t ctx;
  std::printf("1. plain cppzmq (zmq::socket_t)\n");
  {
    wiretap tap(ctx);
    hello_world<::zmq::socket_t>(
        ctx, [](::zmq::context_t& c, ::zmq::socket_type t) { return ::zmq::socket_t(c, t); }, tap);
    show(tap.stop());
  }
  std::printf("2. cryptcom (cryptcom::zmq::socket)\n");
  {
    wiretap tap(ctx);
    cryptcom::zmq::socket_options options;  // the defaults; shown to say where options go
    hello_world<cryptcom::zmq::socket>(
        ctx,
        [&](::zmq::context_t& c, ::zmq::socket_type t) {
          return cryptcom::zmq::socket(c, t, options);
        },
        tap);
    show(tap.stop());
  }
  return 0;
}
