// Helpers for the wire tests: deterministic sample values, and a msgpack builder on msgpack-c's
// own packer so that test inputs do not depend on the encoder under test.
#pragma once

#include <cstdint>
#include <cstring>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "wire/frame.hpp"

namespace cryptcom::wire::test {

inline guid make_guid(byte seed) {
  guid g;
  for (std::size_t i = 0; i < g.bytes.size(); ++i) g.bytes[i] = static_cast<byte>(seed + i);
  return g;
}

inline public_key make_key(byte seed) {
  public_key k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<byte>(seed * 7 + i);
  return k;
}

inline offered_key make_offer(byte seed, std::uint32_t ttl_ms) {
  return {make_guid(seed), make_key(seed), ttl_ms};
}

// A control block with something in every list.
inline control_block full_block() {
  control_block b;
  b.instance = make_guid(0xa0);
  b.wanted = 3;
  b.offers = {make_offer(1, 30000), make_offer(2, 0), make_offer(3, 0xffffffffu)};
  b.acks = {make_guid(0x40), make_guid(0x50)};
  b.rejections = {{make_guid(0x60), errc::expired_key}, {make_guid(0x70), errc::unknown_key}};
  return b;
}

inline std::vector<byte> data_frame(const std::optional<offered_key>& reply,
                                    const control_block* control, std::size_t ciphertext_size) {
  std::vector<byte> out;
  const data_layout layout =
      encode_data(make_guid(0x11), make_key(0x22), reply, control, ciphertext_size, out);
  for (std::size_t i = 0; i < layout.ciphertext.size(); ++i) {
    layout.ciphertext[i] = static_cast<byte>(i * 13 + 5);
  }
  return out;
}

inline std::vector<byte> control_frame(const control_block& block) {
  std::vector<byte> out;
  encode_control(block, out);
  return out;
}

// Builds msgpack by hand, element by element, with msgpack-c's packer.
class mp {
 public:
  mp& array(std::uint32_t n) {
    return with([&](auto& pk) { pk.pack_array(n); });
  }
  mp& map(std::uint32_t n) {
    return with([&](auto& pk) { pk.pack_map(n); });
  }
  mp& uint(std::uint64_t v) {  // shortest form
    return with([&](auto& pk) { pk.pack_uint64(v); });
  }
  mp& sint(std::int64_t v) {
    return with([&](auto& pk) { pk.pack_int64(v); });
  }
  mp& nil() {
    return with([&](auto& pk) { pk.pack_nil(); });
  }
  mp& boolean(bool v) {
    return with([&](auto& pk) { v ? pk.pack_true() : pk.pack_false(); });
  }
  // Always a float64 (msgpack-c's pack_double would write an integral value as an integer).
  mp& real(double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    bytes_.push_back(0xcb);
    for (int shift = 56; shift >= 0; shift -= 8) bytes_.push_back(static_cast<byte>(bits >> shift));
    return *this;
  }
  mp& str(const std::string& s) {
    return with([&](auto& pk) {
      pk.pack_str(static_cast<std::uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
    });
  }
  // A bin of n bytes, each `fill`.
  mp& bin(std::size_t n, byte fill = 0xab) {
    const std::vector<byte> body(n, fill);
    return bin(body);
  }
  mp& bin(byte_view bytes) {
    return with([&](auto& pk) {
      pk.pack_bin(static_cast<std::uint32_t>(bytes.size()));
      pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()),
                       static_cast<std::uint32_t>(bytes.size()));
    });
  }
  // Bytes as they are, for what packer will not write (bad headers, wide formats).
  mp& raw(std::initializer_list<int> bytes) {
    for (int b : bytes) bytes_.push_back(static_cast<byte>(b));
    return *this;
  }
  mp& raw(byte_view bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  // Well-formed pieces of the schema.
  mp& offer(byte seed = 1, std::uint32_t ttl = 1000) {
    return array(3).bin(16, seed).bin(32, seed).uint(ttl);
  }
  mp& block_head(std::uint32_t wanted = 1) { return array(5).bin(16, 0xa0).uint(wanted); }
  // [instance, 1, [], [], []]
  mp& empty_block() { return block_head().array(0).array(0).array(0); }

  std::vector<byte> bytes() const { return bytes_; }

 private:
  struct appender {
    std::vector<byte>* out;
    void write(const char* data, std::size_t size) {
      const auto* first = reinterpret_cast<const byte*>(data);
      out->insert(out->end(), first, first + size);
    }
  };
  template <class F>
  mp& with(F pack) {
    appender sink{&bytes_};
    msgpack::packer<appender> pk(sink);
    pack(pk);
    return *this;
  }

  std::vector<byte> bytes_;
};

}  // namespace cryptcom::wire::test
