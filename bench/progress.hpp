// One line on stderr telling what the benchmark is doing: rewritten in place on a terminal, one
// line per step otherwise (ctest logs, pipes). Not thread-safe: the runner's thread only.
#pragma once

#include <cstddef>
#include <string_view>

namespace cryptcom::bench {

class progress_line {
 public:
  progress_line();
  ~progress_line();
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;

  void show(std::string_view text);
  // A message that must stay on screen (a failure), printed on its own line.
  void note(std::string_view text);
  // Ends the in-place line, if one is showing.
  void finish();

 private:
  bool terminal_;
  std::size_t shown_length_ = 0;
};

}  // namespace cryptcom::bench
