// `cryptcom keygen`: a CurveZMQ key pair written as czmq's zcert writes certificates (ZPL,
// rfc.zeromq.org/spec/4): NAME holds the public key, NAME_secret both keys (mode 0600). The
// secret key lives in locked memory (sodium_malloc) from generation to the file and is wiped.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "args.hpp"
#include "commands.hpp"

namespace cryptcom::tool {

namespace {

const char* usage =
    "usage: cryptcom keygen NAME [--meta KEY=VALUE]... [--force]\n"
    "Makes a CurveZMQ key pair (X25519, Z85 text as ZeroMQ's CURVE uses) and writes it in czmq's\n"
    "zcert format: NAME, the public certificate, and NAME_secret, the secret one (mode 0600).\n"
    "They are the identities for cryptcom's authenticated mode, which is planned and NOT yet\n"
    "available: today cryptcom's base mode authenticates no peer. Meanwhile the same files serve\n"
    "ZeroMQ's own CURVE, which cryptcom sockets pass through as a second, hop-by-hop layer\n"
    "(ZMQ_CURVE_SERVER, ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVERKEY), and czmq's zcert_load.\n"
    "  --meta KEY=VALUE  a metadata entry, repeatable (e.g. --meta name=alice)\n"
    "  --force           overwrite NAME and NAME_secret if they exist\n";

constexpr std::size_t z85_key_size = 40;  // 32 bytes in Z85, without the terminator

// ZPL names: letters, digits and $ - _ @ . & + /; values are quoted and must not hold the quote.
bool valid_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("$-_@.&+/").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool valid_value(std::string_view s) { return s.find_first_of("\"\n\r") == std::string_view::npos; }

// The secret key's home: locked, guarded, wiped when freed.
class locked_text {
 public:
  explicit locked_text(std::size_t size)
      : data_(static_cast<char*>(sodium_malloc(size))), size_(size) {
    if (data_ == nullptr) throw std::runtime_error("no locked memory for the secret key");
    sodium_memzero(data_, size_);
  }
  ~locked_text() { sodium_free(data_); }
  locked_text(const locked_text&) = delete;
  locked_text& operator=(const locked_text&) = delete;
  char* data() { return data_; }

 private:
  char* data_;
  std::size_t size_;
};

void write_all(int fd, const char* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw std::runtime_error("writing " + path + ": " + std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Opens for writing with `mode`; refuses to replace an existing file unless `force`.
int open_new(const std::string& path, mode_t mode, bool force) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    throw std::runtime_error(path + ": " + std::strerror(errno) +
                             (errno == EEXIST ? " (--force replaces it)" : ""));
  }
  if (::fchmod(fd, mode) != 0) {  // an existing file keeps its mode through O_TRUNC
    ::close(fd);
    throw std::runtime_error(path + ": " + std::strerror(errno));
  }
  return fd;
}

std::string header(const char* what, const char* advice) {
  char stamp[64];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return std::string("#   ****  Generated on ") + stamp + " by cryptcom keygen  ****\n" +
         "#   ZeroMQ CURVE " + what + " Certificate\n" + advice + "\n";
}

}  // namespace

int run_keygen(int argc, char** argv) {
  examples::args a(argc, argv, usage);
  const std::vector<std::string> meta = a.values("--meta");
  const bool force = a.flag("--force");
  const std::vector<std::string> names = a.positional();
  a.done();
  if (names.size() != 1) a.fail("give one NAME (the certificate's path)");
  const std::string& path = names.front();

  std::string metadata = "metadata\n";
  for (const auto& m : meta) {
    const auto eq = m.find('=');
    const std::string key = m.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : m.substr(eq + 1);
    if (eq == std::string::npos || !valid_name(key) || !valid_value(value)) {
      a.fail(
          "--meta takes KEY=VALUE, KEY of letters, digits and $-_@.&+/, VALUE without "
          "quotes or line breaks; got '" +
          m + "'");
    }
    metadata += "    " + key + " = \"" + value + "\"\n";
  }

  try {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    char public_key[z85_key_size + 1] = {};
    locked_text secret_key(z85_key_size + 1);
    if (zmq_curve_keypair(public_key, secret_key.data()) != 0) {
      throw std::runtime_error(std::string("zmq_curve_keypair: ") + zmq_strerror(errno) +
                               " (libzmq built without CURVE?)");
    }
    const std::string public_line = "    public-key = \"" + std::string(public_key) + "\"\n";
    const std::string body = metadata + "curve\n" + public_line;

    const std::string public_text =
        header("Public",
               "#   Exchange securely, or use a secure mechanism to verify the contents\n"
               "#   of this file after exchange. Store public certificates in your home\n"
               "#   directory, in the .curve subdirectory.\n") +
        body;
    int fd = open_new(path, 0644, force);
    write_all(fd, public_text.data(), public_text.size(), path);
    ::close(fd);

    const std::string secret_path = path + "_secret";
    const std::string secret_head =
        header("**Secret**",
               "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n") +
        body + "    secret-key = \"";
    fd = open_new(secret_path, 0600, force);
    try {
      write_all(fd, secret_head.data(), secret_head.size(), secret_path);
      write_all(fd, secret_key.data(), z85_key_size, secret_path);  // straight from locked memory
      write_all(fd, "\"\n", 2, secret_path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) != 0) throw std::runtime_error(secret_path + ": " + std::strerror(errno));
    std::printf("wrote %s (public) and %s (secret, mode 0600)\npublic key: %s\n", path.c_str(),
                secret_path.c_str(), public_key);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cryptcom keygen: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace cryptcom::tool
