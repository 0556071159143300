// report: how the examples print what happened: a socket's counters in a few lines, and bytes
// in shortened hex.
// Thread-safety: reentrant functions.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "cryptcom/zmq/event.hpp"

namespace examples {

// "97 01 02 c4 10 9b ... 3e 5d (186 bytes)": the first `head` and last `tail` bytes.
inline std::string hex_preview(std::string_view bytes, std::size_t head = 12,
                               std::size_t tail = 4) {
  static const char digits[] = "0123456789abcdef";
  auto hex = [&](std::size_t from, std::size_t to) {
    std::string s;
    for (std::size_t i = from; i < to; ++i) {
      const auto b = static_cast<unsigned char>(bytes[i]);
      if (!s.empty()) s += ' ';
      s += digits[b >> 4];
      s += digits[b & 15];
    }
    return s;
  };
  std::string out;
  if (bytes.size() <= head + tail) {
    out = hex(0, bytes.size());
  } else {
    out = hex(0, head) + " .. " + hex(bytes.size() - tail, bytes.size());
  }
  return out + " (" + std::to_string(bytes.size()) + " bytes)";
}

// Text as a quoted, shortened, printable string.
inline std::string quoted(std::string_view text, std::size_t width = 40) {
  std::string s = "\"";
  for (char c : text.substr(0, width)) s += (c >= 32 && c < 127) ? c : '.';
  if (text.size() > width) s += "...";
  return s + "\"";
}

inline void print_summary(const char* who, const cryptcom::zmq::socket_stats& s,
                          std::FILE* out = stdout) {
  const auto& t = s.engine.total;
  std::fprintf(out,
               "%s: messages sent %llu, received %llu | keys generated %llu, used %llu, "
               "destroyed %llu, expired %llu | frames rejected %llu | wire frames out %llu "
               "(%llu control), %llu bytes\n",
               who, static_cast<unsigned long long>(s.transport.messages_sent),
               static_cast<unsigned long long>(s.transport.messages_received),
               static_cast<unsigned long long>(t.keys_generated),
               static_cast<unsigned long long>(t.keys_used),
               static_cast<unsigned long long>(t.keys_destroyed),
               static_cast<unsigned long long>(t.keys_expired),
               static_cast<unsigned long long>(t.rejected_total()),
               static_cast<unsigned long long>(t.frames_sent),
               static_cast<unsigned long long>(t.control_frames_sent),
               static_cast<unsigned long long>(t.bytes_sent));
}

// What a socket refused or gave up, in one line: frames dropped unanswered (unauthenticated,
// replayed, of the other mode), frames rejected by reason, messages sent again and given up.
inline void print_refusals(const char* who, const cryptcom::zmq::socket_stats& s,
                           std::FILE* out = stdout) {
  const auto& t = s.engine.total;
  auto n = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::fprintf(out,
               "%s: frames dropped %llu (unauthenticated %llu, replayed %llu, other mode %llu) | "
               "rejected: replayed key %llu, authentication %llu, unknown key %llu | messages "
               "resent %llu, undeliverable %llu\n",
               who, n(t.frames_dropped), n(t.frames_unauthenticated), n(t.frames_replayed),
               n(t.frames_wrong_mode), n(t.rejected_replay), n(t.rejected_authentication),
               n(t.rejected_unknown_key), n(t.messages_resent), n(t.messages_undeliverable));
}

}  // namespace examples
