// demo: what ./run.sh demo shows. Two processes on localhost: echo_server (started from the
// directory this program lives in) and this program's client, with a wiretap between them.
// For each message, side by side: the message as the application sent and received it, and the
// frames that crossed the wire between the processes (hex, shortened). Then an attacker's replay
// of a captured frame, and a summary: messages, keys generated and destroyed, frames rejected.
//
//   demo [--count N] [--size BYTES]    (N extra messages of BYTES random bytes after the texts)
//        [--identity FILE --server-identity FILE]   (authenticated mode: the client's and the
//                                                    server's secret certificates, cryptcom keygen)
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "args.hpp"
#include "cryptcom/zmq/socket.hpp"
#include "identity_args.hpp"
#include "report.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

// docs/PROTOCOL.md: every frame is a msgpack array [version, kind, ...]; kind 1 is a control
// frame (key requests, offers, acknowledgements, rejections), kind 2 carries a sealed message.
const char* frame_kind(const std::string& f) {
  if (f.size() < 3) return "?";
  if (f[2] == 1) return "control";
  if (f[2] == 2) return "data";
  if (f[2] == 3) return "handshake";  // authenticated mode (version 2, docs/PROTOCOL.md §12)
  return "?";
}

struct record {
  bool to_server;
  bool replayed;
  std::string frame;
};

// A forwarder between the client and the server that logs every frame with its direction, and
// can replay the last data frame the client sent (as an attacker with a copy of the wire would).
class wiretap {
 public:
  wiretap(::zmq::context_t& ctx, const std::string& server)
      : front_(ctx, ::zmq::socket_type::router), back_(ctx, ::zmq::socket_type::dealer) {
    front_.bind("tcp://127.0.0.1:*");
    back_.connect(server);
    front_.set(::zmq::sockopt::linger, 0);
    back_.set(::zmq::sockopt::linger, 0);
    endpoint_ = front_.get(::zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { run(); });
  }
  ~wiretap() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return log_.size();
  }
  std::vector<record> since(std::size_t from) {
    std::lock_guard lock(mutex_);
    return {log_.begin() + static_cast<long>(std::min(from, log_.size())), log_.end()};
  }
  void replay() { replay_ = true; }

 private:
  void run() {
    std::vector<::zmq::message_t> last_data;
    while (!stop_) {
      std::vector<::zmq::pollitem_t> items{{front_.handle(), 0, ZMQ_POLLIN, 0},
                                           {back_.handle(), 0, ZMQ_POLLIN, 0}};
      ::zmq::poll(items, 20ms);
      for (int side = 0; side < 2; ++side) {
        if (!(items[static_cast<std::size_t>(side)].revents & ZMQ_POLLIN)) continue;
        auto& from = side == 0 ? front_ : back_;
        auto& to = side == 0 ? back_ : front_;
        std::vector<::zmq::message_t> parts;
        if (!::zmq::recv_multipart(from, std::back_inserter(parts))) continue;
        log(side == 0, false, parts.back().to_string());
        if (side == 0 && std::string(frame_kind(parts.back().to_string())) == "data") {
          last_data.clear();
          for (auto& p : parts) last_data.emplace_back(p.data(), p.size());
        }
        (void)::zmq::send_multipart(to, parts);
      }
      if (replay_.exchange(false) && !last_data.empty()) {
        std::vector<::zmq::message_t> copy;
        for (auto& p : last_data) copy.emplace_back(p.data(), p.size());
        log(true, true, copy.back().to_string());
        (void)::zmq::send_multipart(back_, copy);
      }
    }
  }
  void log(bool to_server, bool replayed, std::string frame) {
    std::lock_guard lock(mutex_);
    log_.push_back({to_server, replayed, std::move(frame)});
  }

  ::zmq::socket_t front_, back_;
  std::string endpoint_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, replay_{false};
  std::mutex mutex_;
  std::vector<record> log_;
};

std::string self_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<std::size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// Starts echo_server with its stdout on a pipe; returns the pid and the pipe's read end.
pid_t start_server(const std::string& program, long count, const std::vector<std::string>& extra,
                   FILE** out) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  const std::string count_arg = std::to_string(count);
  std::vector<std::string> args{program,   "--bind",  "tcp://127.0.0.1:*",
                                "--count", count_arg, "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return -1;
  }
  *out = ::fdopen(fds[0], "r");
  return pid;
}

constexpr int left_width = 46;

void row(const std::string& left, const std::string& right) {
  std::printf("  %-*s | %s\n", left_width, left.c_str(), right.c_str());
}

std::string wire_text(const record& r) {
  std::string arrow = r.to_server ? "->" : "<-";
  std::string kind = frame_kind(r.frame);
  if (r.replayed) kind = "REPLAY";
  char head[32];
  std::snprintf(head, sizeof head, "%s %-7s ", arrow.c_str(), kind.c_str());
  return head + examples::hex_preview(r.frame, 10, 4);
}

bool contains(const std::vector<record>& frames, const std::string& text) {
  if (text.size() < 4) return false;
  for (const auto& r : frames) {
    if (r.frame.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  examples::args a(
      argc, argv,
      "usage: demo [--count N] [--size BYTES] [--identity FILE --server-identity FILE]\n"
      "  --count N      random messages after the example texts (default 20)\n"
      "  --size BYTES   their size (default 1024)\n"
      "  --identity FILE         authenticated mode: the client's secret certificate\n"
      "  --server-identity FILE  ...and the server's (both from cryptcom keygen)\n");
  const long extra = a.number("--count", 20);
  const long extra_size = a.number("--size", 1024);
  cryptcom::zmq::socket_options client_options;
  examples::identity_arguments(a, false, client_options.engine.auth);
  const auto server_identity = a.value("--server-identity");
  a.done();
  // Authenticated mode: the server runs with its certificate and allows this client's key; the
  // client knows the server's key from the server's certificate.
  std::vector<std::string> server_args;
  if (client_options.engine.auth.self.has_value() != server_identity.has_value()) {
    a.fail("--identity and --server-identity go together");
  }
  if (server_identity) {
    auto sid = cryptcom::identity::load(*server_identity);
    if (!sid.ok()) a.fail("--server-identity: " + sid.error().to_string());
    client_options.engine.auth.peer_key = sid->public_value();
    server_args = {"--identity", *server_identity, "--allow",
                   client_options.engine.auth.self->public_z85()};
  }
  const bool authenticated = server_identity.has_value();

  const std::vector<std::string> texts{
      "Hello from cryptcom!",
      "transfer 1,000 EUR to IBAN DE89 3704 0044 0532 0130 00",
      "the launch code is 0000",
  };
  const long total = static_cast<long>(texts.size()) + extra;

  const std::string server_program = self_dir() + "/echo_server";
  FILE* server_out = nullptr;
  const pid_t server = start_server(server_program, total, server_args, &server_out);
  if (server < 0) {
    std::fprintf(stderr, "demo: cannot start %s\n", server_program.c_str());
    return 1;
  }
  char line[512];
  if (!std::fgets(line, sizeof line, server_out)) {
    std::fprintf(stderr, "demo: echo_server did not start\n");
    return 1;
  }
  std::string endpoint(line);
  endpoint = endpoint.substr(endpoint.find("tcp://"));
  endpoint.erase(endpoint.find_last_not_of("\r\n") + 1);

  std::printf(
      "cryptcom demo: echo_server runs as process %d on %s; this process is the client.\n"
      "A wiretap between the two processes shows every frame that crosses the wire.\n"
      "Every message is sealed (HPKE, RFC 9180) to a one-time X25519 key that the receiver\n"
      "destroys after opening it; control frames carry keys, acknowledgements, rejections.\n\n",
      static_cast<int>(server), endpoint.c_str());
  if (authenticated) {
    std::printf(
        "Authenticated mode: the client (%s) and the server (%s)\n"
        "prove their identities in a handshake; every frame after it carries a sequence number\n"
        "and a MAC, so no one on the path can substitute keys or forge frames.\n\n",
        client_options.engine.auth.self->public_z85().c_str(),
        cryptcom::to_z85(*client_options.engine.auth.peer_key).c_str());
  }

  ::zmq::context_t ctx;
  int failures = 0;
  {
    wiretap tap(ctx, endpoint);
    cryptcom::zmq::socket client(ctx, ::zmq::socket_type::req, client_options);
    client.set(::zmq::sockopt::rcvtimeo, 10000);
    client.connect(tap.endpoint());

    row("the client application", "the wire between the processes (what a tap sees)");
    std::printf("  %s-+-%s\n", std::string(left_width, '-').c_str(), std::string(66, '-').c_str());
    auto exchange = [&](const std::string& m, bool show) {
      const std::size_t mark = tap.size();
      (void)client.send(::zmq::buffer(m));
      ::zmq::message_t echo;
      const bool got = client.recv(echo).has_value();
      const bool ok = got && echo.to_string() == m;
      failures += ok ? 0 : 1;
      if (!show) return;
      std::this_thread::sleep_for(30ms);  // let the acknowledgements show up in the log too
      const auto frames = tap.since(mark);
      std::vector<std::string> left{"sent     " + examples::quoted(m, 30),
                                    got ? "received " + examples::quoted(echo.to_string_view(), 30)
                                        : "received nothing (timeout)"};
      const std::size_t rows = std::max<std::size_t>(frames.size(), 2);
      for (std::size_t i = 0; i < rows; ++i) {
        const std::string l = i == 0 ? left[0] : (i == rows - 1 ? left[1] : "");
        row(l, i < frames.size() ? wire_text(frames[i]) : "");
      }
      row("", std::string("plaintext on the wire: ") + (contains(frames, m) ? "YES" : "no"));
      std::printf("  %s-+-%s\n", std::string(left_width, '-').c_str(),
                  std::string(66, '-').c_str());
    };
    for (std::size_t i = 0; i + 1 < texts.size(); ++i) exchange(texts[i], true);

    // An attacker with a copy of the wire resends the last sealed request to the server.
    const std::size_t mark = tap.size();
    tap.replay();
    std::this_thread::sleep_for(200ms);
    for (const auto& r : tap.since(mark)) {
      row(r.replayed ? "(an attacker replays the last request)" : "", wire_text(r));
    }
    if (authenticated) {
      row("", "the server does not deliver it again: its sequence number was seen, so the copy");
      row("", "is dropped unanswered (and its one-time key is gone anyway)");
    } else {
      row("", "the server does not deliver it again: its one-time key is gone (the copy is only");
      row("", "acknowledged again)");
    }
    std::printf("  %s-+-%s\n", std::string(left_width, '-').c_str(), std::string(66, '-').c_str());

    exchange(texts.back(), true);
    if (extra > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      for (long i = 0; i < extra; ++i) {
        std::string m(static_cast<std::size_t>(extra_size), '\0');
        for (auto& c : m) c = static_cast<char>('a' + (std::rand() % 26));
        exchange(m, false);
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf(
          "  ... and %ld more messages of %ld bytes, each checked (%.1f ms per round trip)\n",
          extra, extra_size, 1000.0 * s / static_cast<double>(extra));
    }
    client.close();
    const auto cs = client.stats();
    const auto& t = cs.engine.total;
    std::printf("\nsummary\n");
    std::printf("  messages      %llu sent, %llu echoed intact, %d wrong or lost\n",
                static_cast<unsigned long long>(cs.transport.messages_sent),
                static_cast<unsigned long long>(cs.transport.messages_received - 0), failures);
    std::printf(
        "  client keys   %llu one-time keys generated, %llu used once and destroyed, "
        "%llu destroyed in all (%llu pairs drawn from the key pool, ephemeral ones "
        "included)\n",
        static_cast<unsigned long long>(t.keys_generated),
        static_cast<unsigned long long>(t.keys_used),
        static_cast<unsigned long long>(t.keys_destroyed),
        static_cast<unsigned long long>(cs.key_pool.taken));
    std::printf("  client wire   %llu frames out (%llu control), %llu frames in, %llu rejected\n",
                static_cast<unsigned long long>(t.frames_sent),
                static_cast<unsigned long long>(t.control_frames_sent),
                static_cast<unsigned long long>(t.frames_received),
                static_cast<unsigned long long>(t.rejected_total()));
  }

  // The server's own account, printed by it as it exits.
  while (std::fgets(line, sizeof line, server_out)) {
    std::string l(line);
    if (l.rfind("echo_server:", 0) == 0) std::printf("  server        %s", l.c_str() + 13);
  }
  std::fclose(server_out);
  int status = 0;
  ::waitpid(server, &status, 0);
  const bool server_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("\n%s\n", failures == 0 && server_ok ? "every message came back intact; none was "
                                                     "readable on the wire"
                                                   : "SOMETHING WENT WRONG");
  return failures == 0 && server_ok ? 0 : 1;
}
