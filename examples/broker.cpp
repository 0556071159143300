// broker: end-to-end encryption through a broker, in one program.
//
//   client (cryptcom REQ) -> zmq_proxy (plain ROUTER/DEALER, capture on) -> worker (cryptcom REP)
//
// The broker is ordinary ZeroMQ: it routes by the envelope and forwards the rest untouched. It
// has no key and sees only one-time-key ciphertext; its capture socket shows it. (CurveZMQ
// secures each hop, so a CURVE broker decrypts and re-encrypts: it reads everything.)
//
//   broker [--count N] [--message TEXT]
// Exits 1 if any plaintext is found in the captured traffic or an answer is wrong.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "args.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "report.hpp"

int main(int argc, char** argv) {
  examples::args a(argc, argv,
                   "usage: broker [--count N] [--message TEXT]\n"
                   "  --count N        requests from the client (default 5)\n"
                   "  --message TEXT   the request text (default: a made-up bank transfer)\n");
  const long count = a.number("--count", 5);
  const std::string text =
      a.text("--message", "transfer 250 EUR to IBAN DE89 3704 0044 0532 0130 00");
  a.done();

  ::zmq::context_t ctx;

  // The broker: plain ZeroMQ, as it would run on a machine you do not trust with the content.
  ::zmq::socket_t frontend(ctx, ::zmq::socket_type::router);
  ::zmq::socket_t backend(ctx, ::zmq::socket_type::dealer);
  ::zmq::socket_t capture(ctx, ::zmq::socket_type::pair);
  ::zmq::socket_t tap(ctx, ::zmq::socket_type::pair);
  ::zmq::socket_t control(ctx, ::zmq::socket_type::pair);
  ::zmq::socket_t control_client(ctx, ::zmq::socket_type::pair);
  frontend.bind("tcp://127.0.0.1:*");
  backend.bind("tcp://127.0.0.1:*");
  tap.bind("inproc://broker-capture");
  capture.connect("inproc://broker-capture");
  control.bind("inproc://broker-control");
  control_client.connect("inproc://broker-control");
  const std::string front = frontend.get(::zmq::sockopt::last_endpoint);
  const std::string back = backend.get(::zmq::sockopt::last_endpoint);
  std::thread proxy(
      [&] { ::zmq::proxy_steerable(::zmq::socket_ref(frontend), backend, capture, control); });
  std::vector<std::string> captured;  // every frame
  std::vector<std::string> payloads;  // the last frame of each message
  std::atomic<bool> stop{false};
  std::thread collector([&] {
    tap.set(::zmq::sockopt::rcvtimeo, 50);
    // The capture repeats each message frame by frame: routing frames first, then the engine's
    // frame. All of them are kept: the plaintext must be in none.
    while (!stop) {
      std::vector<::zmq::message_t> parts;
      while (::zmq::recv_multipart(tap, std::back_inserter(parts))) {
        for (const auto& p : parts) captured.push_back(p.to_string());
        payloads.push_back(parts.back().to_string());
        parts.clear();
      }
    }
  });

  // The worker: a cryptcom REP behind the broker.
  cryptcom::zmq::socket worker(ctx, ::zmq::socket_type::rep);
  worker.set(::zmq::sockopt::rcvtimeo, 100);
  worker.connect(back);
  std::thread worker_thread([&] {
    while (!stop) {
      ::zmq::message_t request;
      if (!worker.recv(request)) continue;
      const std::string answer = "done: " + request.to_string();
      (void)worker.send(::zmq::buffer(answer));
    }
  });

  // The client: a cryptcom REQ in front of the broker.
  cryptcom::zmq::socket client(ctx, ::zmq::socket_type::req);
  client.set(::zmq::sockopt::rcvtimeo, 10000);
  client.connect(front);
  std::vector<std::string> secrets;
  int failures = 0;
  for (long i = 1; i <= count; ++i) {
    const std::string request = text + " #" + std::to_string(i);
    secrets.push_back(request);
    secrets.push_back("done: " + request);
    (void)client.send(::zmq::buffer(request));
    ::zmq::message_t reply;
    if (!client.recv(reply)) {
      std::printf("no reply to request %ld\n", i);
      ++failures;
      break;
    }
    const bool ok = reply.to_string() == "done: " + request;
    failures += ok ? 0 : 1;
    std::printf("client  -> %s\nclient <-  %s%s\n", examples::quoted(request, 60).c_str(),
                examples::quoted(reply.to_string_view(), 60).c_str(), ok ? "" : "  WRONG");
  }

  stop = true;
  worker_thread.join();
  (void)control_client.send(::zmq::str_buffer("TERMINATE"));
  proxy.join();
  collector.join();

  std::size_t leaks = 0;
  for (const auto& frame : captured) {
    for (const auto& s : secrets) leaks += frame.find(s) != std::string::npos ? 1 : 0;
  }
  std::printf("\nthe broker forwarded %zu messages (%zu frames); the first ones:\n",
              payloads.size(), captured.size());
  for (std::size_t i = 0; i < payloads.size() && i < 6; ++i) {
    std::printf("  %s\n", examples::hex_preview(payloads[i]).c_str());
  }
  std::printf("plaintext of any request or reply in the broker's capture: %s\n",
              leaks == 0 ? "none" : "FOUND");
  client.close();
  worker.close();
  examples::print_summary("client", client.stats());
  examples::print_summary("worker", worker.stats());
  return (leaks == 0 && failures == 0) ? 0 : 1;
}
