// How many I/O threads the cryptcom sockets of one ZeroMQ context share.
//
// A cryptcom socket's protocol work (sealing, opening, acknowledgements, key refills,
// retransmissions, answering key requests) runs on an I/O thread of cryptcom's, beside
// libzmq's own I/O threads (ZMQ_IO_THREADS). The sockets of one context share a pool of them,
// one thread by default, as libzmq's sockets share its threads: a process with 100 sockets does
// not run 100 threads. Each new socket goes to the thread that serves the fewest sockets.
//
// More threads let sockets that are busy at the same time seal and open on several cores (each
// socket's work stays on its one thread). Set the count after making the context and before its
// first cryptcom socket, as ZMQ_IO_THREADS: a change applies to the sockets made after it
// (existing sockets keep their thread). The count is remembered per context handle.
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <zmq.hpp>

namespace cryptcom::zmq {

// Throws cryptcom::zmq::error (EINVAL) for a count below 1 or above 256, zmq::error_t (EFAULT)
// for a null context.
void set_io_threads(::zmq::context_t& context, int threads);
void set_io_threads(void* context, int threads);
// The count set for `context` (1 when none was set).
int io_threads(::zmq::context_t& context);
int io_threads(void* context);

}  // namespace cryptcom::zmq
