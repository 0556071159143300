"""cryptcom for Python: ZeroMQ sockets whose wire carries only one-time-key ciphertext.

    import zmq, cryptcom
    ctx = zmq.Context()
    s = cryptcom.Socket(ctx, zmq.REQ)      # instead of ctx.socket(zmq.REQ)
    s.connect("tcp://127.0.0.1:5555")
    s.send(b"hello"); print(s.recv())

cryptcom.Context() instead of zmq.Context() makes ctx.socket(...) return cryptcom sockets.
A cryptcom.Socket is a zmq.Socket for everything the application uses (zmq.Poller included);
poll_event() and stats() tell what the protocol did. The package runs over cryptcom's C library,
libcryptcom (see cryptcom._capi for where it is looked for).
"""

from ._capi import library_version
from .constants import *  # noqa: F401,F403  (cryptcom.KEY_TTL, cryptcom.EVENT_..., ...)
from .context import Context, io_threads, set_io_threads
from .socket import Event, Identity, Socket

__version__ = "0.2.0"

__all__ = [
    "Context",
    "Socket",
    "Event",
    "Identity",
    "io_threads",
    "set_io_threads",
    "library_version",
    "__version__",
]
