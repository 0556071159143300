// How many I/O threads the cryptcom sockets of one ZeroMQ context share.
//
// A cryptcom socket's protocol work (sealing, opening, acknowledgements, key refills,
// retransmissions, answering key requests) runs on an I/O thread of cryptcom's, beside
// libzmq's own I/O threads (ZMQ_IO_THREADS). The sockets of one context share a pool of them,
// one thread by default, as libzmq's sockets share its threads: a process with 100 sockets does
// not run 100 threads. Each new socket goes to the thread that serves the fewest sockets.
//
// The count is the context's ZMQ_IO_THREADS, the same setting that sizes libzmq's own pool (default
// 1): zmq_ctx_set(ctx, ZMQ_IO_THREADS, n), pyzmq's zmq.Context(io_threads=n), or
// set_io_threads() below, which checks the count first. Set it after making the context and
// before its first socket, as libzmq asks; cryptcom reads it when the context's first cryptcom
// socket is made (again after all of them were closed) and starts a thread only when a socket
// needs one. More threads let sockets that are busy at the same time seal and open on several
// cores; one socket's work always stays on one thread.
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <zmq.hpp>

namespace cryptcom::zmq {

// zmq_ctx_set(context, ZMQ_IO_THREADS, threads), after checking the count. Throws
// cryptcom::zmq::error (EINVAL) for a count below 1 or above 256, zmq::error_t (EFAULT) for a
// null context, and as zmq_ctx_set fails.
void set_io_threads(::zmq::context_t& context, int threads);
void set_io_threads(void* context, int threads);
// The context's ZMQ_IO_THREADS, as cryptcom uses it (within 1..256). Throws zmq::error_t as
// zmq_ctx_get fails (EFAULT for a null or terminated context).
int io_threads(::zmq::context_t& context);
int io_threads(void* context);

}  // namespace cryptcom::zmq
