// What the man in the middle of the authenticated-mode tests knows how to do with a frame of either
// version: find the key a data frame is sealed to, read and rewrite the offers of a control block,
// and forge control frames. Version 2 is handled by the attacker's own implementation
// (attacker/v2_frames.hpp); version 1 by the core's codec, as the hostile-peer harness does, since
// the attack on base mode is only there to show what the feature changes.
//
// keyring: the one-time keys the attacker offers (its own pairs), and the count of data frames
// that named one of them: issue 11's "no message is ever sealed to a key the attacker holds" is
// that count staying zero. Thread-safe: the relay's hook runs on the relay's thread.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attacker/relay.hpp"
#include "attacker/v2_frames.hpp"
#include "wire/frame.hpp"

namespace cryptcom::auth_test {

namespace v2 = cryptcom::hostile::v2;
using cryptcom::hostile::relay;

inline std::optional<std::uint64_t> version_of(const v2::bytes& f) { return v2::version_of(f); }

// The key a data frame of either version is sealed to.
inline std::optional<v2::id16> data_key_id(const v2::bytes& f) {
  if (version_of(f) == 2) {
    auto d = v2::decode(f);
    if (d && d->kind == 2) return d->key_id;
    return std::nullopt;
  }
  auto d = wire::decode(f, wire::decode_limits{});
  if (!d.ok() || d->kind != wire::frame_kind::data) return std::nullopt;
  return d->data.key_id.bytes;
}

inline bool is_data(const v2::bytes& f) { return data_key_id(f).has_value(); }

inline wire::control_block to_v1(const v2::control_block& b) {
  wire::control_block out;
  out.instance.bytes = b.instance;
  out.wanted = b.wanted;
  for (const auto& k : b.offers) {
    wire::offered_key o;
    o.id.bytes = k.id;
    o.key.bytes = k.key;
    o.ttl_ms = k.ttl_ms;
    out.offers.push_back(o);
  }
  for (const auto& a : b.acks) {
    guid g;
    g.bytes = a;
    out.acks.push_back(g);
  }
  for (const auto& r : b.rejections) {
    guid g;
    g.bytes = r.id;
    out.rejections.push_back(wire::rejection{g, static_cast<errc>(r.reason)});
  }
  wire::hello h;
  h.max_version = 1;
  h.max_message_bytes = 64u * 1024 * 1024;
  h.max_parts = 1000;
  out.about_sender = h;
  return out;
}

// A control frame saying `block`, as a man in the middle can make one: version 2 with a sequence
// number far ahead and a MAC under a key of its own (it has no session key), or version 1.
inline v2::bytes forge_control(std::uint64_t version, const v2::control_block& block) {
  if (version == 2) {
    v2::key32 k;
    randombytes_buf(k.data(), k.size());
    return v2::control(std::uint64_t{1} << 40, block, k);
  }
  v2::bytes out;
  wire::encode_control(to_v1(block), out);
  return out;
}

class keyring {
 public:
  // A fresh key pair of the attacker's, as an offer.
  v2::offered_key make() {
    auto [secret, pub] = v2::random_key_pair();
    v2::offered_key k{v2::random_id(), pub, 60'000};
    std::lock_guard lock(mutex_);
    secrets_[k.id] = secret;
    return k;
  }
  std::vector<v2::offered_key> make(std::size_t n) {
    std::vector<v2::offered_key> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(make());
    return out;
  }
  // Looks at a frame passing the relay: a data frame naming one of our keys is counted, and
  // opened if it can be (version 2; a version 1 frame is only counted).
  void watch(const v2::bytes& f) {
    auto key = data_key_id(f);
    if (!key) return;
    std::lock_guard lock(mutex_);
    auto it = secrets_.find(*key);
    if (it == secrets_.end()) return;
    ++sealed_to_us_;
    if (auto d = v2::decode(f)) {
      const v2::bytes aad(f.begin(), f.begin() + static_cast<long>(d->ciphertext_header));
      if (v2::hpke_open(it->second, d->enc, v2::message_info(), aad, d->ciphertext)) ++opened_;
    }
  }
  std::size_t sealed_to_us() const {
    std::lock_guard lock(mutex_);
    return sealed_to_us_;
  }
  std::size_t opened() const {
    std::lock_guard lock(mutex_);
    return opened_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<v2::id16, v2::key32> secrets_;
  std::size_t sealed_to_us_ = 0;
  std::size_t opened_ = 0;
};

// The frame with the offers of its control block (alone, or riding on a data frame) replaced by
// keys of the attacker's: in version 2 the MAC is left as it was (the attacker cannot make
// another), in version 1 nothing else is needed. nullopt when the frame offers nothing.
inline std::optional<v2::bytes> substitute_offers(const v2::bytes& f, keyring& keys) {
  if (version_of(f) == 2) {
    auto d = v2::decode(f);
    if (!d || (d->kind != 1 && d->kind != 2) || !d->control || d->control->offers.empty()) {
      return std::nullopt;
    }
    for (auto& offer : d->control->offers) offer = keys.make();
    return v2::encode(*d);
  }
  auto d = wire::decode(f, wire::decode_limits{});
  if (!d.ok() || d->kind != wire::frame_kind::control || d->control.offers.empty()) {
    return std::nullopt;
  }
  wire::control_block block = d->control;
  for (auto& offer : block.offers) {
    const v2::offered_key k = keys.make();
    offer.id.bytes = k.id;
    offer.key.bytes = k.key;
  }
  v2::bytes out;
  wire::encode_control(block, out);
  return out;
}

// The instance id in a frame's control block (either version), if it has one.
inline std::optional<v2::id16> instance_of(const v2::bytes& f) {
  if (version_of(f) == 2) {
    auto d = v2::decode(f);
    if (d && d->control) return d->control->instance;
    if (d && d->kind == 3) return d->instance;
    return std::nullopt;
  }
  auto d = wire::decode(f, wire::decode_limits{});
  if (!d.ok()) return std::nullopt;
  if (d->kind == wire::frame_kind::control) return d->control.instance.bytes;
  if (d->data.control) return d->data.control->instance.bytes;
  return std::nullopt;
}

}  // namespace cryptcom::auth_test
