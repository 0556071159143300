// How the C API reports failures: errno, plus a sentence per thread for cryptcom_strerror().
// No C++ exception leaves an entry point: each one runs its body through guard(), which turns
// every exception into errno and that sentence, and returns the entry point's failure value.
// Thread-safety: the last failure is thread-local.
#pragma once

#include <string>

namespace cryptcom::c_api {

// A failure detected by the C API itself (a NULL pointer, a closed socket, a bad size).
struct api_error {
  int code;
  std::string why;
};

// Records a failure on this thread and sets errno (last, so that nothing clobbers it).
void set_error(int code, const std::string& why) noexcept;

// The failure value after recording whatever exception is in flight; call from a catch block.
void record_current_exception() noexcept;

// Runs body(); on any exception records it and returns `failed` instead.
template <class R, class F>
R guard(R failed, F&& body) noexcept {
  try {
    return body();
  } catch (...) {
    record_current_exception();
    return failed;
  }
}

}  // namespace cryptcom::c_api
