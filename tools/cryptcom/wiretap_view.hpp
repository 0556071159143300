// What a wiretap can learn from captured cryptcom traffic, and nothing more: the routing envelope
// (frames before the last, shown as sizes and hex), then the last frame decoded with the
// project's own strict wire decoder: its kind, size, key ids, offers (ids, TTLs), key requests,
// acknowledgements, rejections and instance ids. A data frame's ciphertext is shown as a size:
// this tool holds no key and never tries to open anything.
//
// Every ZeroMQ message of a capture is taken as envelope + one cryptcom frame (the last), so the
// view does not depend on how a transport lays out its envelope.
// Thread-safety: a wiretap_view is used by one thread.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "capture.hpp"

namespace cryptcom::tool {

struct view_options {
  bool json = false;     // one JSON object per message (JSON Lines) instead of a table
  bool all_ids = false;  // list every offered and acknowledged key id (the table shortens lists)
};

class wiretap_view {
 public:
  explicit wiretap_view(view_options options) : options_(options) {}

  // The table's header (nothing for JSON).
  std::string header() const;
  // One captured message: table rows, or one JSON line. Each ends with a newline.
  std::string describe(const captured_message& m);
  // What the whole capture showed: a paragraph, or a final JSON line {"summary": ...}.
  std::string summary() const;

 private:
  view_options options_;
  std::uint64_t index_ = 0;
  std::uint64_t first_time_us_ = 0;
  // Totals for the summary.
  std::uint64_t data_frames_ = 0;
  std::uint64_t control_frames_ = 0;
  std::uint64_t other_frames_ = 0;
  std::uint64_t sealed_bytes_ = 0;
  std::uint64_t keys_requested_ = 0;
  std::uint64_t keys_offered_ = 0;
  std::uint64_t reply_keys_ = 0;
  std::uint64_t acks_ = 0;
  std::uint64_t rejections_ = 0;
  std::set<std::string> instances_;
  std::set<std::string> data_keys_;  // key ids data frames were sealed to
};

}  // namespace cryptcom::tool
