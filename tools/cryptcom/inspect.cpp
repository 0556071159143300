// `cryptcom inspect`: reads captured ZeroMQ traffic (a zmq_proxy capture socket, or a capture
// file) and prints what a wiretap may know of it (see wiretap_view.hpp).
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "args.hpp"
#include "capture.hpp"
#include "commands.hpp"
#include "wiretap_view.hpp"

namespace cryptcom::tool {

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

const char* usage =
    "usage: cryptcom inspect (--capture ENDPOINT | --file PATH) [--socket sub|pull|pair|dealer]\n"
    "                        [--bind] [--write PATH] [--count N] [--timeout MS] [--json]\n"
    "                        [--all-ids]\n"
    "Prints what a wiretap on cryptcom traffic may know: per ZeroMQ message its routing envelope\n"
    "(the frames before the last, as sizes and hex) and its cryptcom frame (the last): kind,\n"
    "size, key ids, key requests, offers, acknowledgements, rejections, instance ids. Payloads\n"
    "stay sealed: this tool holds no key and never tries to open them.\n"
    "  --capture ENDPOINT  read a zmq_proxy capture socket, e.g. tcp://127.0.0.1:5560\n"
    "  --socket TYPE       the socket that reads it: sub (default, for a PUB capture socket),\n"
    "                      pull (PUSH), pair (PAIR) or dealer (DEALER)\n"
    "  --bind              bind to ENDPOINT instead of connecting to it\n"
    "  --file PATH         read a capture file (written by --write)\n"
    "  --write PATH        also store every message read in a capture file\n"
    "  --count N           stop after N messages (default 0: no limit)\n"
    "  --timeout MS        stop after MS ms without a message (default 0: wait until interrupted)\n"
    "  --json              one JSON object per message, then {\"summary\": ...} (JSON Lines)\n"
    "  --all-ids           list every offered and acknowledged key id, not the first few\n";

::zmq::socket_type reader_type(examples::args& a, const std::string& name) {
  if (name == "sub") return ::zmq::socket_type::sub;
  if (name == "pull") return ::zmq::socket_type::pull;
  if (name == "pair") return ::zmq::socket_type::pair;
  if (name == "dealer") return ::zmq::socket_type::dealer;
  a.fail("--socket is sub, pull, pair or dealer, got '" + name + "'");
}

// Where messages come from: a capture socket or a file.
class source {
 public:
  virtual ~source() = default;
  // The next message; nothing at the end (file end, --timeout, signal).
  virtual std::optional<captured_message> next() = 0;
};

class socket_source : public source {
 public:
  socket_source(const std::string& endpoint, ::zmq::socket_type type, bool bind, long timeout_ms)
      : socket_(context_, type), timeout_ms_(timeout_ms) {
    if (type == ::zmq::socket_type::sub) socket_.set(::zmq::sockopt::subscribe, "");
    socket_.set(::zmq::sockopt::rcvtimeo, poll_ms);
    socket_.set(::zmq::sockopt::linger, 0);
    if (bind) {
      socket_.bind(endpoint);
    } else {
      socket_.connect(endpoint);
    }
  }

  std::optional<captured_message> next() override {
    long waited = 0;
    while (!stop_requested) {
      std::vector<::zmq::message_t> frames;
      std::optional<std::size_t> got;
      try {
        got = ::zmq::recv_multipart(socket_, std::back_inserter(frames));
      } catch (const ::zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if (!got) {
        waited += poll_ms;
        if (timeout_ms_ > 0 && waited >= timeout_ms_) return std::nullopt;
        continue;
      }
      captured_message m;
      m.time_us = now_us();
      for (const auto& f : frames) m.frames.emplace_back(f.to_string());
      return m;
    }
    return std::nullopt;
  }

 private:
  static constexpr int poll_ms = 100;
  ::zmq::context_t context_;
  ::zmq::socket_t socket_;
  long timeout_ms_;
};

class file_source : public source {
 public:
  explicit file_source(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) throw std::runtime_error("cannot open " + path);
    read_header(in_);
  }
  std::optional<captured_message> next() override {
    if (stop_requested) return std::nullopt;
    return read_message(in_);
  }

 private:
  std::ifstream in_;
};

}  // namespace

int run_inspect(int argc, char** argv) {
  examples::args a(argc, argv, usage);
  const auto endpoint = a.value("--capture");
  const auto file = a.value("--file");
  const auto type = reader_type(a, a.text("--socket", "sub"));
  const bool bind = a.flag("--bind");
  const auto write_path = a.value("--write");
  const long count = a.number("--count", 0);
  const long timeout = a.number("--timeout", 0);
  view_options options;
  options.json = a.flag("--json");
  options.all_ids = a.flag("--all-ids");
  a.done();
  if (endpoint.has_value() == file.has_value()) a.fail("give either --capture or --file");

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    std::unique_ptr<source> in;
    if (file) {
      in = std::make_unique<file_source>(*file);
    } else {
      in = std::make_unique<socket_source>(*endpoint, type, bind, timeout);
    }
    std::ofstream out;
    if (write_path) {
      out.open(*write_path, std::ios::binary | std::ios::trunc);
      if (!out) throw std::runtime_error("cannot write " + *write_path);
      write_header(out);
    }
    wiretap_view view(options);
    std::cout << view.header() << std::flush;
    long seen = 0;
    while (count == 0 || seen < count) {
      const auto m = in->next();
      if (!m) break;
      ++seen;
      if (write_path) {
        write_message(out, *m);
        out.flush();
      }
      std::cout << view.describe(*m) << std::flush;
    }
    std::cout << (options.json ? "" : "\n") << view.summary() << std::flush;
    if (write_path && !out) throw std::runtime_error("writing " + *write_path + " failed");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cryptcom inspect: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace cryptcom::tool
