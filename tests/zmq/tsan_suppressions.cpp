// ThreadSanitizer's default suppressions for this test binary.
//
// libzmq is not built with ThreadSanitizer. Its own threads hand messages to ours through
// lock-free pipes whose ordering TSan cannot see, and the only accesses it records inside libzmq
// are those of intercepted calls (memcpy, malloc, free) made from libzmq, so a message libzmq's
// I/O thread encodes or decodes looks racy against our thread that filled or reads it. Ignoring
// the interceptors called from libzmq removes exactly those false reports; every access made by
// our own code (and by cppzmq's inline functions, compiled into it) stays checked, including our
// hand-overs between the application's thread and a socket's I/O thread, which carry explicit
// release/acquire annotations (transports/zmq/src/handover.hpp).
extern "C" const char* __tsan_default_suppressions() {  // NOLINT: the sanitizer's hook name
  return "called_from_lib:libzmq.so.5\n";
}
