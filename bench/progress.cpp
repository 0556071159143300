#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace cryptcom::bench {

progress_line::progress_line() : terminal_(isatty(STDERR_FILENO) == 1) {}

progress_line::~progress_line() { finish(); }

void progress_line::show(std::string_view text) {
  if (terminal_) {
    std::string line = "\r" + std::string(text);
    // Blank out what is left of a longer previous line.
    if (text.size() < shown_length_) line.append(shown_length_ - text.size(), ' ');
    std::fputs(line.c_str(), stderr);
    shown_length_ = text.size();
  } else {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
  }
  std::fflush(stderr);
}

void progress_line::note(std::string_view text) {
  finish();
  std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

void progress_line::finish() {
  if (terminal_ && shown_length_ > 0) {
    std::fputs("\n", stderr);
    std::fflush(stderr);
    shown_length_ = 0;
  }
}

}  // namespace cryptcom::bench
