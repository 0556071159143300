// frame_reader: what a broker can read of a cryptcom frame without any key, from
// docs/PROTOCOL.md alone (§2-§5 for version 1, §12.2 for version 2): the frame's version and
// kind, the sender's instance id, the one-time keys it offers (and where their bytes are, to
// overwrite them), the key id and enc of a data frame, and where its ciphertext starts. The
// malicious broker example reads frames with it; nothing in it is secret, which is the point.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

// A msgpack cursor over the subset cryptcom uses (arrays, unsigned integers, bin, nil). Any
// surprise clears `ok`, and every read after that returns nothing.
class msgpack_cursor {
 public:
  explicit msgpack_cursor(std::string_view data) : data_(data) {}

  bool ok() const noexcept { return ok_; }
  std::size_t offset() const noexcept { return at_; }
  bool at_end() const noexcept { return at_ == data_.size(); }

  std::size_t array() {
    const auto b = peek();
    if (b >= 0x90 && b <= 0x9f) return (++at_, b & 0x0fu);
    if (b == 0xdc) return (++at_, big_endian(2));
    if (b == 0xdd) return (++at_, big_endian(4));
    return fail();
  }
  std::uint64_t uint() {
    const auto b = peek();
    if (b <= 0x7f) return (++at_, b);
    if (b >= 0xcc && b <= 0xcf) return (++at_, big_endian(std::size_t{1} << (b - 0xcc)));
    if (b >= 0xd0 && b <= 0xd3) return (++at_, big_endian(std::size_t{1} << (b - 0xd0)));
    return fail();
  }
  std::string_view bin() {
    const auto b = peek();
    if (b < 0xc4 || b > 0xc6) return (fail(), std::string_view{});
    ++at_;
    const std::size_t n = big_endian(std::size_t{1} << (b - 0xc4));
    if (!ok_ || data_.size() - at_ < n) return (fail(), std::string_view{});
    at_ += n;
    return data_.substr(at_ - n, n);
  }
  // Consumes a nil and says so; anything else stays.
  bool nil() {
    if (ok_ && at_ < data_.size() && static_cast<unsigned char>(data_[at_]) == 0xc0) {
      ++at_;
      return true;
    }
    return false;
  }
  void skip() {
    if (nil()) return;
    const auto b = peek();
    if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
      for (std::size_t n = array(); ok_ && n > 0; --n) skip();
    } else if (b >= 0xc4 && b <= 0xc6) {
      (void)bin();
    } else {
      (void)uint();
    }
  }

 private:
  unsigned peek() {
    if (!ok_ || at_ >= data_.size()) return fail(), 0xc1;  // 0xc1: never used by msgpack
    return static_cast<unsigned char>(data_[at_]);
  }
  std::size_t fail() {
    ok_ = false;
    return 0;
  }
  std::uint64_t big_endian(std::size_t width) {
    if (!ok_ || data_.size() - at_ < width) return fail();
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(data_[at_++]);
    return v;
  }

  std::string_view data_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

// One cryptcom frame as a broker sees it. Offsets are into the frame's bytes.
struct frame_view {
  std::uint64_t version = 0;  // 1 base mode, 2 authenticated mode
  std::uint64_t kind = 0;     // 1 control, 2 data, 3 handshake (version 2)
  std::uint64_t seq = 0;      // version 2 control and data frames
  // The control block (of a control frame, or riding on a data frame).
  bool has_block = false;
  std::string instance;                   // the sender's instance id
  std::vector<std::string> offer_ids;     // the offered keys' ids...
  std::vector<std::size_t> offer_key_at;  // ...and where each 32-byte public key starts
  // A data frame.
  std::string key_id;
  std::size_t enc_at = 0;           // the 32-byte enc
  std::size_t ciphertext_head = 0;  // the ciphertext's bin header: the associated data ends here
  std::size_t ciphertext_at = 0;
};

namespace detail {
inline void read_block(msgpack_cursor& c, frame_view& f) {
  const std::size_t n = c.array();
  if (n != 5 && n != 6) return;
  f.instance = std::string(c.bin());
  (void)c.uint();  // wanted
  for (std::size_t i = c.array(); c.ok() && i > 0; --i) {
    if (c.array() != 3) return;
    f.offer_ids.emplace_back(c.bin());
    const auto key = c.bin();
    if (key.size() != 32) return;
    f.offer_key_at.push_back(c.offset() - key.size());
    (void)c.uint();  // ttl_ms
  }
  c.skip();              // acks
  c.skip();              // rejections
  if (n == 6) c.skip();  // hello
  f.has_block = c.ok();
}
}  // namespace detail

// Nothing when the frame is not one of ours.
inline std::optional<frame_view> read_frame(std::string_view bytes) {
  msgpack_cursor c(bytes);
  frame_view f;
  const std::size_t n = c.array();
  f.version = c.uint();
  f.kind = c.uint();
  if (!c.ok() || (f.version != 1 && f.version != 2)) return std::nullopt;
  const bool v2 = f.version == 2;
  if (f.kind == 3) return f;  // a handshake: nothing a broker can use
  if (v2) f.seq = c.uint();
  if (f.kind == 1 && n == (v2 ? 5u : 3u)) {
    detail::read_block(c, f);
  } else if (f.kind == 2 && n == (v2 ? 9u : 7u)) {
    f.key_id = std::string(c.bin());
    if (c.bin().size() != 32) return std::nullopt;  // enc
    f.enc_at = c.offset() - 32;
    c.skip();  // reply_key
    if (!c.nil()) detail::read_block(c, f);
    if (v2) (void)c.bin();  // mac
    f.ciphertext_head = c.offset();
    const auto ciphertext = c.bin();
    f.ciphertext_at = c.offset() - ciphertext.size();
  } else {
    return std::nullopt;
  }
  if (!c.ok()) return std::nullopt;
  return f;
}

}  // namespace examples
