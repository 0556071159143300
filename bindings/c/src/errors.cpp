// The C API's error reporting: exceptions of every layer become errno and a sentence.
#include "errors.hpp"

#include <cerrno>
#include <new>
#include <system_error>
#include <zmq.hpp>

#include "cryptcom.h"

namespace cryptcom::c_api {

namespace {

struct last_failure {
  bool set = false;
  int code = 0;
  std::string text;
};

last_failure& last() noexcept {
  thread_local last_failure f;
  return f;
}

}  // namespace

void set_error(int code, const std::string& why) noexcept {
  last_failure& f = last();
  f.set = false;
  try {
    f.text = why;
    f.set = true;
  } catch (...) {
    // Out of memory for the sentence: cryptcom_strerror falls back to zmq_strerror.
  }
  f.code = code;
  errno = code;
}

void record_current_exception() noexcept {
  try {
    throw;
  } catch (const api_error& e) {
    set_error(e.code, e.why);
  } catch (const ::zmq::error_t& e) {
    // cryptcom::zmq::error derives from it and explains itself in what(); libzmq's own errors
    // say zmq_strerror's words.
    set_error(e.num(), e.what());
  } catch (const std::bad_alloc&) {
    set_error(ENOMEM, "out of memory");
  } catch (const std::system_error& e) {
    // std::thread could not start a thread (EAGAIN), and the like.
    set_error(e.code().value() != 0 ? e.code().value() : EPROTO, e.what());
  } catch (const std::exception& e) {
    set_error(EPROTO, std::string("internal error: ") + e.what());
  } catch (...) {
    set_error(EPROTO, "internal error: an unknown exception");
  }
}

}  // namespace cryptcom::c_api

extern "C" const char* cryptcom_strerror(int errnum) {
  const auto& f = cryptcom::c_api::last();
  if (f.set && f.code == errnum) return f.text.c_str();
  return zmq_strerror(errnum);
}
