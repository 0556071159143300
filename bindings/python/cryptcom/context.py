"""cryptcom.Context: a zmq.Context whose socket() makes cryptcom sockets, so that an application
built on ctx.socket(...) moves to cryptcom by changing the line that makes its context."""

import ctypes

import zmq

from ._capi import lib
from .socket import Socket, _check


class Context(zmq.Context):
    """``ctx = cryptcom.Context()`` then ``ctx.socket(zmq.REQ, key_ttl=30000)``: a cryptcom.Socket
    (keyword arguments are cryptcom's options). Everything else is zmq.Context's."""

    _socket_class = Socket


def _address(context):
    return context.underlying if hasattr(context, "underlying") else int(context)


def set_io_threads(context, threads):
    """How many I/O threads the cryptcom sockets of ``context`` (a zmq.Context, or its
    ``underlying`` address) share: its zmq.IO_THREADS (1 by default; 1 to 256, checked), which
    ``zmq.Context(io_threads=n)`` sets too. Set it before the context's first socket."""
    _check(lib.cryptcom_set_io_threads(ctypes.c_void_p(_address(context)), int(threads)))


def io_threads(context):
    """The context's zmq.IO_THREADS, as cryptcom uses it."""
    return _check(lib.cryptcom_get_io_threads(ctypes.c_void_p(_address(context))))

