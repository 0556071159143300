#include "attacker/v2_frames.hpp"

#include <sodium.h>

#include <algorithm>
#include <limits>

namespace cryptcom::hostile::v2 {
namespace {

constexpr std::uint64_t max_u32 = std::numeric_limits<std::uint32_t>::max();
// The protocol's list limits (§7).
constexpr std::size_t max_offers = 1024;
constexpr std::size_t max_acks = 4096;
constexpr std::size_t max_rejections = 1024;

void put_be(bytes& out, std::uint64_t v, std::size_t width) {
  for (std::size_t i = width; i-- > 0;) out.push_back(static_cast<byte>(v >> (8 * i)));
}

// A strict reader of §2's subset. The first failure sticks: every later read fails too.
class reader {
 public:
  explicit reader(byte_view in) : in_(in) {}

  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  std::size_t pos() const noexcept { return pos_; }
  bool at_end() const noexcept { return pos_ == in_.size(); }

  std::optional<std::size_t> array() {
    auto tag = next();
    if (!tag) return std::nullopt;
    if (*tag >= 0x90 && *tag <= 0x9f) return *tag & 0x0f;
    if (*tag == 0xdc) return be(2);
    if (*tag == 0xdd) return be(4);
    return fail("expected an array");
  }

  std::optional<std::uint64_t> uint(std::uint64_t max, std::uint64_t min = 0) {
    auto tag = next();
    if (!tag) return std::nullopt;
    std::optional<std::uint64_t> v;
    if (*tag <= 0x7f) {
      v = *tag;
    } else if (*tag >= 0xcc && *tag <= 0xcf) {
      v = be(std::size_t{1} << (*tag - 0xcc));
    } else if (*tag >= 0xd0 && *tag <= 0xd3) {
      const std::size_t width = std::size_t{1} << (*tag - 0xd0);
      v = be(width);
      if (v && width < 8 && (*v >> (8 * width - 1)) != 0) return fail("a negative integer");
      if (v && width == 8 && (*v >> 63) != 0) return fail("a negative integer");
    } else {
      return fail("expected an unsigned integer");
    }
    if (!v) return std::nullopt;
    if (*v > max || *v < min) return fail("an integer out of range");
    return v;
  }

  // A bin of exactly `exact` bytes (0: any length).
  std::optional<byte_view> bin(std::size_t exact = 0) {
    auto tag = next();
    if (!tag) return std::nullopt;
    std::optional<std::uint64_t> n;
    if (*tag == 0xc4)
      n = be(1);
    else if (*tag == 0xc5)
      n = be(2);
    else if (*tag == 0xc6)
      n = be(4);
    else
      return fail("expected a bin");
    if (!n) return std::nullopt;
    if (*n > in_.size() - pos_) return fail("a bin longer than the frame");
    if (exact != 0 && *n != exact) return fail("a bin of the wrong size");
    byte_view out = in_.subspan(pos_, static_cast<std::size_t>(*n));
    pos_ += static_cast<std::size_t>(*n);
    return out;
  }

  template <std::size_t N>
  bool fixed(std::array<byte, N>& out) {
    auto b = bin(N);
    if (!b) return false;
    std::copy(b->begin(), b->end(), out.begin());
    return true;
  }

  bool peek_nil() {
    if (pos_ < in_.size() && in_[pos_] == 0xc0) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::nullopt_t fail(const std::string& what) {
    if (error_.empty()) error_ = "offset " + std::to_string(pos_) + ": " + what;
    pos_ = in_.size();
    return std::nullopt;
  }

 private:
  std::optional<byte> next() {
    if (!ok()) return std::nullopt;
    if (pos_ >= in_.size()) return fail("truncated");
    return in_[pos_++];
  }
  std::optional<std::uint64_t> be(std::size_t width) {
    if (in_.size() - pos_ < width) return fail("truncated");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = (v << 8) | in_[pos_++];
    return v;
  }

  byte_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

std::optional<offered_key> read_offer(reader& r) {
  auto n = r.array();
  if (!n) return std::nullopt;
  if (*n != 3) return r.fail("an offered key of the wrong size");
  offered_key k;
  if (!r.fixed(k.id) || !r.fixed(k.key)) return std::nullopt;
  auto ttl = r.uint(max_u32);
  if (!ttl) return std::nullopt;
  k.ttl_ms = static_cast<std::uint32_t>(*ttl);
  return k;
}

std::optional<control_block> read_block(reader& r) {
  auto n = r.array();
  if (!n) return std::nullopt;
  if (*n != 5 && *n != 6) return r.fail("a control block of the wrong size");
  control_block b;
  if (!r.fixed(b.instance)) return std::nullopt;
  auto wanted = r.uint(max_u32);
  if (!wanted) return std::nullopt;
  b.wanted = static_cast<std::uint32_t>(*wanted);
  auto offers = r.array();
  if (!offers || *offers > max_offers) return r.fail("offers");
  for (std::size_t i = 0; i < *offers; ++i) {
    auto k = read_offer(r);
    if (!k) return std::nullopt;
    b.offers.push_back(*k);
  }
  auto acks = r.array();
  if (!acks || *acks > max_acks) return r.fail("acks");
  for (std::size_t i = 0; i < *acks; ++i) {
    id16 a;
    if (!r.fixed(a)) return std::nullopt;
    b.acks.push_back(a);
  }
  auto rejections = r.array();
  if (!rejections || *rejections > max_rejections) return r.fail("rejections");
  for (std::size_t i = 0; i < *rejections; ++i) {
    auto two = r.array();
    if (!two || *two != 2) return r.fail("a rejection of the wrong size");
    rejection rj;
    if (!r.fixed(rj.id)) return std::nullopt;
    auto reason = r.uint(255, 1);
    if (!reason) return std::nullopt;
    rj.reason = static_cast<std::uint32_t>(*reason);
    b.rejections.push_back(rj);
  }
  b.hi.reset();
  if (*n == 6) {
    auto five = r.array();
    if (!five || *five != 5) return r.fail("a hello of the wrong size");
    hello h;
    auto mv = r.uint(max_u32, 1);
    auto features = r.uint(std::numeric_limits<std::uint64_t>::max());
    auto aead = r.uint(65535);
    auto mmb = r.uint(std::numeric_limits<std::uint64_t>::max());
    auto mp = r.uint(max_u32);
    if (!mv || !features || !aead || !mmb || !mp) return std::nullopt;
    h = hello{*mv, *features, *aead, *mmb, *mp};
    b.hi = h;
  }
  return b;
}

void sign(writer& w, const key32& key) {
  const key32 mac = hmac_sha256(key, w.out());
  w.bin(mac);
}

}  // namespace

writer& writer::array(std::size_t n) {
  if (n <= 15) {
    out_.push_back(static_cast<byte>(0x90 | n));
  } else if (n <= 0xffff) {
    out_.push_back(0xdc);
    put_be(out_, n, 2);
  } else {
    out_.push_back(0xdd);
    put_be(out_, n, 4);
  }
  return *this;
}

writer& writer::uint(std::uint64_t v) {
  if (v <= 0x7f) {
    out_.push_back(static_cast<byte>(v));
  } else if (v <= 0xff) {
    out_.push_back(0xcc);
    put_be(out_, v, 1);
  } else if (v <= 0xffff) {
    out_.push_back(0xcd);
    put_be(out_, v, 2);
  } else if (v <= 0xffffffffu) {
    out_.push_back(0xce);
    put_be(out_, v, 4);
  } else {
    out_.push_back(0xcf);
    put_be(out_, v, 8);
  }
  return *this;
}

writer& writer::bin(byte_view b) {
  if (b.size() <= 0xff) {
    out_.push_back(0xc4);
    put_be(out_, b.size(), 1);
  } else if (b.size() <= 0xffff) {
    out_.push_back(0xc5);
    put_be(out_, b.size(), 2);
  } else {
    out_.push_back(0xc6);
    put_be(out_, b.size(), 4);
  }
  return raw(b);
}

writer& writer::nil() {
  out_.push_back(0xc0);
  return *this;
}

writer& writer::raw(byte_view b) {
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

void write_offer(writer& w, const offered_key& k) {
  w.array(3).bin(k.id).bin(k.key).uint(k.ttl_ms);
}

void write_block(writer& w, const control_block& b) {
  w.array(b.hi ? 6 : 5).bin(b.instance).uint(b.wanted);
  w.array(b.offers.size());
  for (const auto& k : b.offers) write_offer(w, k);
  w.array(b.acks.size());
  for (const auto& a : b.acks) w.bin(a);
  w.array(b.rejections.size());
  for (const auto& rj : b.rejections) w.array(2).bin(rj.id).uint(rj.reason);
  if (b.hi) {
    w.array(5).uint(b.hi->max_version).uint(b.hi->features).uint(b.hi->aead);
    w.uint(b.hi->max_message_bytes).uint(b.hi->max_parts);
  }
}

std::optional<std::uint64_t> version_of(byte_view frame_bytes) {
  reader r(frame_bytes);
  auto n = r.array();
  if (!n || *n < 2) return std::nullopt;
  return r.uint(std::numeric_limits<std::uint64_t>::max());
}

std::optional<frame> decode(byte_view in, std::string* error) {
  reader r(in);
  auto failed = [&](const std::string& why) -> std::optional<frame> {
    if (error) *error = why.empty() ? r.error() : why;
    return std::nullopt;
  };
  auto n = r.array();
  if (!n) return failed({});
  if (*n < 2) return failed("an outer array of fewer than 2 elements");
  frame f;
  auto version = r.uint(std::numeric_limits<std::uint64_t>::max());
  auto kind = r.uint(std::numeric_limits<std::uint64_t>::max());
  if (!version || !kind) return failed({});
  f.version = *version;
  f.kind = *kind;
  if (f.version != 2) return failed("version " + std::to_string(f.version));
  if (f.kind == 1) {
    if (*n != 5) return failed("a control frame of the wrong size");
    auto seq = r.uint(std::numeric_limits<std::uint64_t>::max(), 1);
    if (!seq) return failed({});
    f.seq = *seq;
    f.control = read_block(r);
    if (!f.control) return failed({});
  } else if (f.kind == 2) {
    if (*n != 9) return failed("a data frame of the wrong size");
    auto seq = r.uint(std::numeric_limits<std::uint64_t>::max(), 1);
    if (!seq || !r.fixed(f.key_id) || !r.fixed(f.enc)) return failed({});
    f.seq = *seq;
    if (!r.peek_nil()) {
      f.reply_key = read_offer(r);
      if (!f.reply_key) return failed({});
    }
    if (!r.peek_nil()) {
      f.control = read_block(r);
      if (!f.control) return failed({});
    }
  } else if (f.kind == 3) {
    auto s = r.uint(3);
    if (!s) return failed({});
    f.hs = static_cast<step>(*s);
    static constexpr std::size_t sizes[] = {4, 8, 7, 8};
    if (*n != sizes[*s]) return failed("a handshake frame of the wrong size");
    if (!r.fixed(f.instance)) return failed({});
    if (f.hs == step::hello_request) {
      if (!r.at_end()) return failed("trailing bytes");
      return f;
    }
    if (!r.fixed(f.nonce)) return failed({});
    if (f.hs == step::initiate) {
      if (!r.fixed(f.enc)) return failed({});
      f.sealed_identity_header = r.pos();
      auto sealed = r.bin(48);
      if (!sealed) return failed({});
      f.sealed_identity.assign(sealed->begin(), sealed->end());
    } else {
      if (!r.fixed(f.peer_nonce)) return failed({});
      if (f.hs == step::refuse) {
        auto reason = r.uint(255, 1);
        if (!reason) return failed({});
        f.reason = *reason;
      }
    }
  } else {
    return failed("kind " + std::to_string(f.kind));
  }
  f.mac_header = r.pos();
  if (!r.fixed(f.mac)) return failed({});
  if (f.kind == 2) {
    f.ciphertext_header = r.pos();
    auto ct = r.bin();
    if (!ct) return failed({});
    if (ct->size() < 16) return failed("a ciphertext shorter than the tag");
    f.ciphertext.assign(ct->begin(), ct->end());
  }
  if (!r.at_end()) return failed("trailing bytes");
  return f;
}

bytes hello_request(const id16& instance) {
  writer w;
  w.array(4).uint(2).uint(3).uint(0).bin(instance);
  return std::move(w.out());
}

bytes initiate(const id16& instance, const id16& nonce, const key32& s_i, const key32& s_r,
               const key32& mac_key) {
  writer w;
  auto eph = random_key_pair();
  w.array(8).uint(2).uint(3).uint(1).bin(instance).bin(nonce).bin(eph.second);
  const bytes aad = w.out();
  auto box = hpke_seal(s_r, identity_info(), aad, s_i, eph);
  sodium_memzero(eph.first.data(), eph.first.size());
  w.bin(box ? box->ciphertext : bytes(48));
  sign(w, mac_key);
  return std::move(w.out());
}

std::optional<bytes> honest_initiate(const id16& instance, const id16& nonce,
                                     const key32& s_i_secret, const key32& s_i, const key32& s_r) {
  auto prk = session_prk(s_i_secret, s_r);
  if (!prk) return std::nullopt;
  key32 k_init = initiate_key(*prk, s_i, s_r, instance, nonce);
  bytes out = initiate(instance, nonce, s_i, s_r, k_init);
  sodium_memzero(k_init.data(), k_init.size());
  sodium_memzero(prk->data(), prk->size());
  return out;
}

bytes accept(const id16& instance, const id16& nonce, const id16& peer_nonce, const key32& k_ri) {
  writer w;
  w.array(7).uint(2).uint(3).uint(2).bin(instance).bin(nonce).bin(peer_nonce);
  sign(w, k_ri);
  return std::move(w.out());
}

bytes refuse(const id16& instance, const id16& nonce, const id16& peer_nonce, std::uint64_t reason,
             const key32& k_ri) {
  writer w;
  w.array(8).uint(2).uint(3).uint(3).bin(instance).bin(nonce).bin(peer_nonce).uint(reason);
  sign(w, k_ri);
  return std::move(w.out());
}

bytes control(std::uint64_t seq, const control_block& block, const key32& mac_key) {
  writer w;
  w.array(5).uint(2).uint(1).uint(seq);
  write_block(w, block);
  sign(w, mac_key);
  return std::move(w.out());
}

bytes data(std::uint64_t seq, const offered_key& to, const std::vector<std::string>& parts,
           const std::optional<offered_key>& reply_key, const control_block* block,
           const key32& mac_key) {
  writer w;
  auto eph = random_key_pair();
  w.array(9).uint(2).uint(2).uint(seq).bin(to.id).bin(eph.second);
  if (reply_key) {
    write_offer(w, *reply_key);
  } else {
    w.nil();
  }
  if (block) {
    write_block(w, *block);
  } else {
    w.nil();
  }
  sign(w, mac_key);
  const bytes aad = w.out();
  bytes pt = payload(parts);
  auto box = hpke_seal(to.key, message_info(), aad, pt, eph);
  sodium_memzero(eph.first.data(), eph.first.size());
  sodium_memzero(pt.data(), pt.size());
  w.bin(box ? box->ciphertext : bytes(16));
  return std::move(w.out());
}

bytes encode(const frame& f) {
  writer w;
  if (f.kind == 1) {
    w.array(5).uint(2).uint(1).uint(f.seq);
    write_block(w, f.control.value_or(control_block{}));
    w.bin(f.mac);
    return std::move(w.out());
  }
  w.array(9).uint(2).uint(2).uint(f.seq).bin(f.key_id).bin(f.enc);
  if (f.reply_key) {
    write_offer(w, *f.reply_key);
  } else {
    w.nil();
  }
  if (f.control) {
    write_block(w, *f.control);
  } else {
    w.nil();
  }
  w.bin(f.mac).bin(f.ciphertext);
  return std::move(w.out());
}

bool mac_verifies(byte_view frame_bytes, const frame& f, const key32& key) {
  if (f.mac_header == 0 || f.mac_header > frame_bytes.size()) return false;
  const key32 expected = hmac_sha256(key, frame_bytes.first(f.mac_header));
  return mac_equal(expected, f.mac);
}

void remac(bytes& frame_bytes, const frame& f, const key32& key) {
  const key32 mac = hmac_sha256(key, byte_view(frame_bytes).first(f.mac_header));
  // The mac's bin header is 2 bytes (c4 20).
  std::copy(mac.begin(), mac.end(), frame_bytes.begin() + static_cast<long>(f.mac_header) + 2);
}

bytes payload(const std::vector<std::string>& parts) {
  writer w;
  w.array(parts.size());
  for (const auto& p : parts) {
    w.bin(byte_view(reinterpret_cast<const byte*>(p.data()), p.size()));
  }
  return std::move(w.out());
}

std::optional<std::vector<std::string>> parse_payload(byte_view plaintext) {
  reader r(plaintext);
  auto n = r.array();
  if (!n || *n == 0) return std::nullopt;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < *n; ++i) {
    auto b = r.bin();
    if (!b) return std::nullopt;
    out.emplace_back(b->begin(), b->end());
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

id16 random_id() {
  id16 id;
  randombytes_buf(id.data(), id.size());
  return id;
}

}  // namespace cryptcom::hostile::v2
