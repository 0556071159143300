// cryptcom::identity: a long-term X25519 key pair whose secret half lives in its own
// sodium_malloc'd page (locked, guarded, read-only once written, zeroed by sodium_free), and the
// reading of czmq certificate files (ZPL, rfc.zeromq.org/spec/4) without copying the secret key
// out of locked memory: the file is read into a locked buffer, parsed in place, and the key's
// Z85 text decoded straight into the identity's locked page.
#include "cryptcom/identity.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/z85.hpp"
#include "crypto/sodium_ready.hpp"
#include "keys/identity_access.hpp"

namespace cryptcom {
namespace {

static_assert(crypto_box_PUBLICKEYBYTES == public_key_size);
static_assert(crypto_box_SECRETKEYBYTES == secret_key_size);
static_assert(crypto_scalarmult_BYTES == public_key_size);

// A certificate is a few hundred bytes; anything far larger is not one, and the whole file sits
// in locked memory while it is parsed.
constexpr std::size_t max_certificate_bytes = 64 * 1024;

struct sodium_free_deleter {
  void operator()(byte* p) const noexcept { sodium_free(p); }
};
// Memory from sodium_malloc: locked, between guard pages, zeroed when freed.
using locked_ptr = std::unique_ptr<byte, sodium_free_deleter>;

result<locked_ptr> allocate_locked(std::size_t size, std::string_view what) {
  hpke::detail::ensure_sodium();  // sodium_malloc aborts before sodium_init
  locked_ptr p(static_cast<byte*>(sodium_malloc(size)));
  if (!p) return status(errc::out_of_memory, "no locked memory for " + std::string(what));
  return p;
}

// A finished key pair: the secret written, checked and made read-only.
struct sealed_key {
  locked_ptr secret;
  public_key pub;
};

// `secret` holds the secret key: computes its public key, compares it with `expected` (when
// given) and seals the page read-only.
result<sealed_key> seal(locked_ptr secret, const std::optional<public_key>& expected,
                        std::string_view public_name, std::string_view secret_name) {
  public_key pub;
  if (crypto_scalarmult_base(pub.bytes.data(), secret.get()) != 0) {
    return status(errc::invalid_argument, std::string(secret_name) + " gives no public key");
  }
  // Not secret, but the compare is cheap and keeps one rule for key material.
  if (expected && sodium_memcmp(expected->bytes.data(), pub.bytes.data(), public_key_size) != 0) {
    return status(errc::invalid_argument,
                  std::string(public_name) + " does not match the " + std::string(secret_name));
  }
  // Best effort: a failure (no mprotect) leaves the page writable, which loses a guard against
  // stray writes and nothing else.
  (void)sodium_mprotect_readonly(secret.get());
  return sealed_key{std::move(secret), pub};
}

// The key pair from Z85 text (`public_text` may be empty); the names say, in messages, which
// field was wrong.
result<sealed_key> from_text(std::string_view public_text, std::string_view secret_text,
                             std::string_view public_name, std::string_view secret_name) {
  hpke::detail::ensure_sodium();
  std::optional<public_key> expected;
  if (!public_text.empty()) {
    expected.emplace();
    if (status s = z85::decode(public_text, expected->bytes); !s.ok()) {
      return status(errc::invalid_argument, std::string(public_name) + ": " + s.message());
    }
  }
  auto secret = allocate_locked(secret_key_size, "the secret key");
  if (!secret.ok()) return secret.error();
  if (status s = z85::decode(secret_text, mutable_byte_view(secret->get(), secret_key_size));
      !s.ok()) {
    return status(errc::invalid_argument, std::string(secret_name) + ": " + s.message());
  }
  return seal(std::move(*secret), expected, public_name, secret_name);
}

// What a certificate holds, as views into the (locked) text of the file.
struct certificate_fields {
  bool has_curve = false;
  std::optional<std::string_view> public_key;
  std::optional<std::string_view> secret_key;
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("$-_@.&+/").find(c) != std::string_view::npos;
}

std::string_view skip_spaces(std::string_view s) {
  const auto n = s.find_first_not_of(' ');
  return n == std::string_view::npos ? std::string_view() : s.substr(n);
}

status line_error(std::size_t line, const std::string& what) {
  return {errc::invalid_argument, "line " + std::to_string(line) + ": " + what};
}

// ZPL: one `name [= value]` per line, 4 spaces of indentation per level (a child under its
// parent), values quoted with " or ' or bare up to a space, `#` starts a comment. Messages name
// the line and never quote its text (it may be the secret key).
status parse_zpl(std::string_view text, certificate_fields& out) {
  std::vector<std::string_view> path;  // the names from the top level to the current line
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const std::size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos) continue;  // blank
    std::string_view rest = line.substr(indent);
    if (rest.front() == '#') continue;  // comment
    if (rest.front() == '\t') return line_error(line_no, "indented with a tab (ZPL uses spaces)");
    if (indent % 4 != 0) {
      return line_error(line_no,
                        "indented by " + std::to_string(indent) + " spaces, not a multiple of 4");
    }
    const std::size_t depth = indent / 4;
    if (depth > path.size()) return line_error(line_no, "indented deeper than under a parent");

    std::size_t name_len = 0;
    while (name_len < rest.size() && is_name_char(rest[name_len])) ++name_len;
    if (name_len == 0) return line_error(line_no, "expected a name");
    const std::string_view name = rest.substr(0, name_len);
    path.resize(depth);
    path.push_back(name);

    rest = skip_spaces(rest.substr(name_len));
    std::optional<std::string_view> value;
    if (!rest.empty() && rest.front() != '#') {
      if (rest.front() != '=') return line_error(line_no, "expected '=' after the name");
      rest = skip_spaces(rest.substr(1));
      if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
        const auto close = rest.find(rest.front(), 1);
        if (close == std::string_view::npos) {
          return line_error(line_no, "a quoted value without its closing quote");
        }
        value = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
      } else {
        const auto end = std::min(rest.find(' '), rest.find('#'));
        value = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
      }
      rest = skip_spaces(rest);
      if (!rest.empty() && rest.front() != '#') {
        return line_error(line_no, "unexpected text after the value");
      }
    }

    if (depth == 0 && name == "curve") out.has_curve = true;
    if (depth == 1 && path.front() == "curve") {
      const bool is_public = name == "public-key";
      if (is_public || name == "secret-key") {
        auto& field = is_public ? out.public_key : out.secret_key;
        if (field) return line_error(line_no, "a second " + std::string(name));
        field = value.value_or(std::string_view());
      }
    }
  }
  return status::success();
}

// Reads the whole file at `path` into locked memory (size in `size_out`).
result<locked_ptr> read_locked(const std::string& path, std::size_t& size_out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return status(errc::unavailable, path + ": " + std::strerror(errno));
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return status(errc::unavailable, path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return status(errc::invalid_argument, path + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_certificate_bytes) {
    return status(errc::invalid_argument, path + ": larger than " +
                                              std::to_string(max_certificate_bytes) +
                                              " bytes, not a certificate");
  }
  // One byte more than the file's size, to see a file that grew while read.
  const std::size_t capacity = static_cast<std::size_t>(st.st_size) + 1;
  auto buffer = allocate_locked(capacity, path);
  if (!buffer.ok()) return buffer.error();
  std::size_t size = 0;
  while (size < capacity) {
    const ssize_t n = ::read(fd, buffer->get() + size, capacity - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return status(errc::unavailable, path + ": " + std::strerror(errno));
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size == capacity) return status(errc::unavailable, path + ": changed while being read");
  size_out = size;
  return std::move(*buffer);
}

}  // namespace

struct identity::locked {
  locked_ptr key;  // secret_key_size bytes, read-only
};

identity::identity(std::shared_ptr<const locked> secret, const public_key& pub)
    : secret_(std::move(secret)), public_(pub) {}

result<identity> identity::generate() {
  hpke::detail::ensure_sodium();
  auto secret = allocate_locked(secret_key_size, "the secret key");
  if (!secret.ok()) return secret.error();
  public_key pub;
  crypto_box_keypair(pub.bytes.data(), secret->get());
  auto sealed = seal(std::move(*secret), std::nullopt, "public key", "secret key");
  if (!sealed.ok()) return sealed.error();
  return identity(std::make_shared<const locked>(locked{std::move(sealed->secret)}), sealed->pub);
}

result<identity> identity::from_z85(std::string_view public_z85, std::string_view secret_z85) {
  auto sealed = from_text(public_z85, secret_z85, "public key", "secret key");
  if (!sealed.ok()) return sealed.error();
  return identity(std::make_shared<const locked>(locked{std::move(sealed->secret)}), sealed->pub);
}

result<identity> identity::load(const std::string& path) {
  std::size_t size = 0;
  auto text = read_locked(path, size);  // freed (zeroed) when this function returns
  if (!text.ok()) return text.error();
  const std::string_view content(reinterpret_cast<const char*>(text->get()), size);
  certificate_fields fields;
  if (status s = parse_zpl(content, fields); !s.ok()) {
    return status(s.code(), path + ": " + s.message());
  }
  if (!fields.has_curve) {
    return status(errc::invalid_argument, path + ": no curve section (not a czmq certificate)");
  }
  if (!fields.secret_key) {
    return status(errc::invalid_argument,
                  path +
                      ": no secret-key in the curve section (a public certificate; the secret "
                      "one is the NAME_secret file)");
  }
  auto sealed = from_text(fields.public_key.value_or(std::string_view()), *fields.secret_key,
                          "public-key", "secret-key");
  if (!sealed.ok()) return status(sealed.error().code(), path + ": " + sealed.error().message());
  return identity(std::make_shared<const locked>(locked{std::move(sealed->secret)}), sealed->pub);
}

const public_key& identity::public_value() const noexcept { return public_; }

std::string identity::public_z85() const { return to_z85(public_); }

std::optional<public_key> public_key_from_z85(std::string_view text) {
  public_key key;
  if (!z85::decode(text, key.bytes).ok()) return std::nullopt;
  return key;
}

std::string to_z85(const public_key& key) { return z85::encode(key.bytes); }

namespace detail {

secret_key_view identity_access::secret(const identity& id) noexcept {
  return secret_key_view(id.secret_->key.get(), secret_key_size);
}

}  // namespace detail
}  // namespace cryptcom
