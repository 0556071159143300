// cryptcom::status and cryptcom::result<T>: how the core reports errors.
//
// The core never throws for bad input; every fallible call returns a status or a result<T>.
// Success carries no message and allocates nothing. Error messages name the peer, the GUID and
// the reason where they are known, and never contain secret material.
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cryptcom {

// Every error the core can report. Stable numbers: they also travel in rejection frames
// (see docs/PROTOCOL.md), so never renumber.
enum class errc : std::uint8_t {
  ok = 0,
  invalid_argument = 1,       // caller misuse: a bad parameter or option
  malformed_frame = 2,        // wire input that does not parse
  unsupported_version = 3,    // wire input of a protocol version we do not speak
  unknown_kind = 4,           // wire input of a frame kind we do not know
  unknown_key = 5,            // no one-time key with that GUID (never issued, or forgotten)
  expired_key = 6,            // the one-time key's time-to-live ran out
  replayed_key = 7,           // the one-time key was already used once
  authentication_failed = 8,  // AEAD tag or HPKE open failed: tampered or wrong key
  low_order_point = 9,        // X25519 produced the all-zero shared secret
  limit_exceeded = 10,        // a configured bound (keys, queue, size) would be exceeded
  rate_limited = 11,          // too many requests from one peer in a window
  out_of_memory = 12,         // locked memory could not be obtained
  unavailable = 13,           // a primitive is not available on this CPU (AES-256-GCM)
  message_too_large = 14,     // plaintext or frame above the configured maximum
  undeliverable = 15,         // gave up on a message: no key arrived in time
  internal = 16,              // a bug: an invariant did not hold
  access_denied = 17,         // authenticated mode: the peer's identity was refused (by us or it)
  authentication_required = 18,  // one side runs authenticated mode, the other base mode
};

// The name of an error code, for messages and logs ("unknown_key").
std::string_view to_string(errc code) noexcept;

class [[nodiscard]] status {
 public:
  status() noexcept = default;
  status(errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static status success() noexcept { return {}; }

  bool ok() const noexcept { return code_ == errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
  errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "unknown_key: peer 7, key 3f1a...: not issued by this endpoint"
  std::string to_string() const;

 private:
  errc code_ = errc::ok;
  std::string message_;
};

// A value or an error status. Deliberately small: value(), error(), ok().
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(status error) : v_(std::in_place_index<1>, std::move(error)) {  // NOLINT
    assert(!std::get<1>(v_).ok() && "a result built from a status must hold an error");
  }

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; status::success() when the result holds a value.
  status error() const { return ok() ? status::success() : std::get<1>(v_); }

 private:
  std::variant<T, status> v_;
};

}  // namespace cryptcom
