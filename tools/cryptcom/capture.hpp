// A capture: ZeroMQ messages as a wiretap saw them (every frame, with the time of capture), and
// the file format `cryptcom inspect --write` stores them in and `--file` reads back.
//
// File format, version 1 (all integers big-endian):
//   "CRYPTCOM-CAPTURE 1\n"                          19 bytes
//   then per message: u64 time (microseconds since 1970-01-01 UTC), u32 number of frames,
//                     per frame: u32 size, then that many bytes.
// Thread-safety: plain values and functions.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cryptcom::tool {

struct captured_message {
  std::uint64_t time_us = 0;        // when it was captured, microseconds since the epoch
  std::vector<std::string> frames;  // the ZeroMQ message's frames, in order
};

std::uint64_t now_us();

// Writes the file header; then write_message for each message.
void write_header(std::ostream& out);
void write_message(std::ostream& out, const captured_message& m);

// Checks the header; throws std::runtime_error naming what is wrong.
void read_header(std::istream& in);
// The next message, or nothing at the end of the file. Throws std::runtime_error on a truncated
// or oversized record (a frame above 1 GiB, more than 100000 frames).
std::optional<captured_message> read_message(std::istream& in);

}  // namespace cryptcom::tool
