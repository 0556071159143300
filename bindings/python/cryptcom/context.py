"""cryptcom.Context: a zmq.Context whose socket() makes cryptcom sockets, so that an application
built on ctx.socket(...) moves to cryptcom by changing the line that makes its context."""

import zmq

from .socket import Socket


class Context(zmq.Context):
    """``ctx = cryptcom.Context()`` then ``ctx.socket(zmq.REQ, key_ttl=30000)``: a cryptcom.Socket
    (keyword arguments are cryptcom's options). Everything else is zmq.Context's."""

    _socket_class = Socket
