"""cryptcom.Socket: a pyzmq socket whose wire carries only one-time-key ciphertext.

A cryptcom socket is made through the C API (libcryptcom) on the application's zmq.Context.
Python sees it as a zmq.Socket *shadowing the socket's pollable handle* (the application's end of
the socket's internal pipe, cryptcom_handle()), so zmq.Poller, zmq.select and Socket.poll work
unchanged. Every call that moves messages or touches options goes through the C API instead:
bind/connect, send/recv (and so send_multipart, send_string, send_json, ...), setsockopt and
getsockopt (and so the attribute forms, s.rcvtimeo = 100), close.
"""

import ctypes
import datetime
import errno as _errno
from dataclasses import dataclass, field
from typing import List, Optional

import zmq
from zmq.constants import SocketOption

from . import constants
from ._capi import lib, zmq_lib, zmq_msg_t


def _error(code=None):
    """The pyzmq exception for the C API's last failure (errno, cryptcom_strerror)."""
    if code is None:
        code = ctypes.get_errno()
    text = lib.cryptcom_strerror(code).decode("utf-8", "replace")
    if code == _errno.EAGAIN:
        return zmq.Again(code, text)
    if code == zmq.ETERM:
        return zmq.ContextTerminated(code, text)
    return zmq.ZMQError(code, text)


def _check(rc):
    if rc == -1:
        raise _error()
    return rc


@dataclass(frozen=True)
class Event:
    """What the socket noticed besides application messages (see cryptcom.h's events)."""

    kind: str  # "frame_rejected", "message_undeliverable", "message_rejected", ...
    reason: str  # "unknown_key", "undeliverable", ... ("ok" when none)
    message: int  # which of our messages (1 = the first sent), 0 for none
    key_id: bytes  # the one-time key concerned, 16 bytes (zeros for none)
    detail: str  # a sentence; never key material or plaintext
    route: List[bytes] = field(default_factory=list)  # the peer's routing id frames
    # Authenticated mode: the identity concerned (a public key as 40 bytes of Z85), or None.
    peer_key: Optional[bytes] = None


@dataclass(frozen=True)
class Identity:
    """Who a peer is in authenticated mode (Socket.peer_identity)."""

    key: Optional[bytes]  # its authenticated public key, Z85 (40 bytes); None before a session
    user_id: str = ""  # the User-Id a ZAP handler gave that key


_POLICIES = {"any": constants.POLICY_ANY, "allow_list": constants.POLICY_ALLOW_LIST,
             "ask": constants.POLICY_ASK}


def _auth_value(option, value):
    """A Python value as the C buffer and size of an authenticated-mode option."""
    kind = constants.AUTH_OPTION_TYPES[option]
    if kind == "int":
        if option == constants.IDENTITY_POLICY:
            value = _POLICIES.get(value, value)
        elif isinstance(value, datetime.timedelta):
            value = int(value / datetime.timedelta(milliseconds=1))
        if not isinstance(value, int):
            raise TypeError("cryptcom option %d takes an int, got %r" % (option, value))
        c_value = ctypes.c_int(int(value))
        return ctypes.byref(c_value), ctypes.sizeof(c_value), c_value
    if isinstance(value, str):
        value = value.encode("utf-8")
    data = bytes(value)
    return ctypes.c_char_p(data), len(data), data


def _route_arrays(route):
    """A routing path as the C API's (frames, sizes, count), kept alive by the tuple."""
    frames = [bytes(f) for f in route]
    c_frames = (ctypes.c_void_p * max(len(frames), 1))()
    c_sizes = (ctypes.c_size_t * max(len(frames), 1))()
    buffers = [ctypes.create_string_buffer(f, len(f)) for f in frames]
    for i, buf in enumerate(buffers):
        c_frames[i] = ctypes.cast(buf, ctypes.c_void_p)
        c_sizes[i] = len(frames[i])
    return c_frames, c_sizes, len(frames), buffers


def _option_value(option, value):
    """A Python value as the C bytes of an own option, by the option's type."""
    kind = constants.OPTION_TYPES[option]
    if option == constants.FLOW:
        value = {None: constants.FLOW_DEFAULT, "push": constants.FLOW_PUSH,
                 "pull": constants.FLOW_PULL}.get(value, value)
    elif option == constants.CIPHER:
        value = {"chacha20-poly1305": constants.CIPHER_CHACHA20_POLY1305,
                 "aes-256-gcm": constants.CIPHER_AES_256_GCM}.get(value, value)
    elif isinstance(value, datetime.timedelta):
        value = int(value / datetime.timedelta(milliseconds=1))
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int):
        raise TypeError("cryptcom option %d takes an int, got %r" % (option, value))
    if kind == "int":
        return ctypes.c_int(value)
    if kind == "ms":
        return ctypes.c_int64(value)
    if value < 0:
        raise ValueError("cryptcom option %d takes a count >= 0, got %d" % (option, value))
    return ctypes.c_uint64(value)


def _make_options(options):
    """A cryptcom_options_t with the keyword arguments applied (the caller destroys it)."""
    handle = ctypes.c_void_p(lib.cryptcom_options_new())
    if not handle.value:
        raise _error()
    try:
        for name, value in options.items():
            option = constants.OPTION_NAMES.get(name)
            if option is None:
                raise TypeError("cryptcom.Socket: unknown option %r (known: %s)"
                                % (name, ", ".join(sorted(constants.OPTION_NAMES))))
            c_value = _option_value(option, value)
            _check(lib.cryptcom_options_set(handle, option, ctypes.byref(c_value),
                                            ctypes.sizeof(c_value)))
    except BaseException:
        lib.cryptcom_options_destroy(ctypes.byref(handle))
        raise
    return handle


class Socket(zmq.Socket):
    """A cryptcom socket on a pyzmq Context.

    ``Socket(ctx, zmq.REQ, key_ttl=30000, flow="pull")``: the socket type is a ZeroMQ type
    (REQ, REP, DEALER, ROUTER, PAIR, PUSH, PULL; others raise ZMQError EINVAL saying why);
    keyword arguments are cryptcom's own options (cryptcom.h, in lower case, durations in milliseconds
    or as datetime.timedelta), fixed at construction. Both ends must be cryptcom sockets.

    Authenticated mode: ``identity_secret_key`` (our key, 32 bytes or Z85), ``server_key`` (a
    client's), ``allow_key`` (a server's allow-list: one key or a list), ``accept_any_identity``,
    ``identity_policy`` ("any", "allow_list", "ask"), ``zap`` / ``zap_domain``, ``zap_timeout``,
    as keyword arguments, attributes or setsockopt(cryptcom.SERVER_KEY, ...) before the first
    bind, connect or send. ``zmq.auth.load_certificate(path)`` reads a `cryptcom keygen` file.
    """

    def __new__(cls, context, socket_type, **options):
        address = context.underlying if hasattr(context, "underlying") else int(context)
        auth = {k: options.pop(k) for k in list(options) if k in constants.AUTH_OPTION_NAMES}
        handle = _make_options(options)
        try:
            c_socket = lib.cryptcom_socket_with_options(address, int(socket_type), handle)
        finally:
            lib.cryptcom_options_destroy(ctypes.byref(handle))
        if not c_socket:
            raise _error()
        c = ctypes.c_void_p(c_socket)
        try:
            for name, value in auth.items():
                _set_auth(c, constants.AUTH_OPTION_NAMES[name], value)
        except BaseException:
            lib.cryptcom_destroy(ctypes.byref(c))
            raise
        self = super().__new__(cls)
        # Set before zmq.Socket.__init__, which already reads an option (the type) through us.
        self.__dict__["_c"] = c
        self.__dict__["_cryptcom_type"] = int(socket_type)
        return self

    def __init__(self, context, socket_type, **options):
        super().__init__(shadow=lib.cryptcom_handle(self._c))
        if isinstance(context, zmq.Context):
            # Keeps the context alive as long as the socket, and lets Context.destroy() close it.
            self.context = context
            context._add_socket(self)

    def __del__(self):
        c = self.__dict__.get("_c")
        if c is not None and c.value and lib is not None:
            self._closed = True
            lib.cryptcom_destroy(ctypes.byref(c))

    def __repr__(self):
        closed = " closed" if self.closed else ""
        try:
            name = zmq.SocketType(self._cryptcom_type).name
        except ValueError:
            name = str(self._cryptcom_type)
        return "<cryptcom.Socket(zmq.%s) at %s%s>" % (name, hex(id(self)), closed)

    # ---- lifecycle ----

    def close(self, linger=None):
        """Lingers (ZMQ_LINGER, default 1000 ms) until what was sent is acknowledged, then
        closes. poll_event() and stats() keep working afterwards."""
        if self._closed:
            return
        if linger is not None:
            self.setsockopt(zmq.LINGER, linger)
        _check(lib.cryptcom_close(self._c))
        self._closed = True
        if self.context is not None:
            self.context._rm_socket(self)

    # ---- endpoints ----

    def bind(self, addr):
        _check(lib.cryptcom_bind(self._c, _endpoint(addr)))

    def unbind(self, addr):
        _check(lib.cryptcom_unbind(self._c, _endpoint(addr)))

    def connect(self, addr):
        _check(lib.cryptcom_connect(self._c, _endpoint(addr)))

    def disconnect(self, addr):
        _check(lib.cryptcom_disconnect(self._c, _endpoint(addr)))

    # ---- options ----

    def set(self, option, optval):
        option = int(option)
        if option in constants.AUTH_OPTION_TYPES:
            _set_auth(self._c, option, optval)
            return
        if option in constants.OPTION_TYPES or option == constants.INSTANCE:
            raise zmq.ZMQError(_errno.EINVAL,
                               "cryptcom option %d is fixed when the socket is made: pass it as "
                               "a keyword argument, cryptcom.Socket(ctx, type, key_ttl=30000)"
                               % option)
        else:
            kind = _zmq_option_type(option)
            if kind == "bytes":
                if isinstance(optval, str):
                    raise TypeError("unicode not allowed, use setsockopt_string")
                data = bytes(optval)
                buf, size = ctypes.c_char_p(data), len(data)
            else:
                c_value = ctypes.c_int64(optval) if kind == "int64" else ctypes.c_int(optval)
                buf, size = ctypes.byref(c_value), ctypes.sizeof(c_value)
        _check(lib.cryptcom_setsockopt(self._c, option, buf, size))

    def get(self, option):
        option = int(option)
        kind = constants.AUTH_OPTION_TYPES.get(option)
        if kind == "key" or kind == "bytes":
            buf = ctypes.create_string_buffer(1024)
            size = ctypes.c_size_t(len(buf))
            _check(lib.cryptcom_getsockopt(self._c, option, buf, ctypes.byref(size)))
            data = buf.raw[: size.value]
            return data[:-1] if data.endswith(b"\0") else data  # Z85 (b"" when unset)
        if option == constants.INSTANCE:
            buf = ctypes.create_string_buffer(16)
            size = ctypes.c_size_t(16)
            _check(lib.cryptcom_getsockopt(self._c, option, buf, ctypes.byref(size)))
            return buf.raw[: size.value]
        kind = kind or constants.OPTION_TYPES.get(option) or _zmq_option_type(option)
        if kind == "bytes":
            buf = ctypes.create_string_buffer(1024)
            size = ctypes.c_size_t(len(buf))
            _check(lib.cryptcom_getsockopt(self._c, option, buf, ctypes.byref(size)))
            data = buf.raw[: size.value]
            # Strings come NUL-terminated from libzmq; a routing id is binary (as pyzmq does).
            if option != zmq.ROUTING_ID and data.endswith(b"\0"):
                data = data[:-1]
            return data
        c_value = {"int": ctypes.c_int, "ms": ctypes.c_int64, "count": ctypes.c_uint64,
                   "int64": ctypes.c_int64}[kind]()
        size = ctypes.c_size_t(ctypes.sizeof(c_value))
        _check(lib.cryptcom_getsockopt(self._c, option, ctypes.byref(c_value), ctypes.byref(size)))
        return c_value.value

    setsockopt = set
    getsockopt = get

    def monitor(self, addr, events=None):
        raise zmq.ZMQError(_errno.ENOTSUP,
                           "cryptcom.Socket: socket monitors are not available (the wire socket "
                           "is internal); use poll_event() and stats()")

    # ---- messages ----

    def send(self, data, flags=0, copy=True, track=False, routing_id=None, group=None):
        """Sends one part (ZMQ_SNDMORE for more to come). `data` is bytes-like or a zmq.Frame;
        the bytes are always copied (copy and track are accepted for pyzmq's signature)."""
        if routing_id is not None or group is not None:
            raise zmq.ZMQError(_errno.EINVAL, "routing_id and group are for draft socket types")
        if isinstance(data, zmq.Frame):
            data = data.bytes
        elif isinstance(data, str):
            raise TypeError("unicode not allowed, use send_string")
        elif not isinstance(data, bytes):
            data = memoryview(data).tobytes()
        while True:
            if lib.cryptcom_send(self._c, data, len(data), flags) != -1:
                return None
            code = ctypes.get_errno()
            if code != _errno.EINTR:  # a signal: Python's handler has run; wait again
                raise _error(code)

    def recv(self, flags=0, copy=True, track=False):
        """Receives one part: bytes, or a zmq.Frame when copy=False."""
        msg = zmq_msg_t()
        zmq_lib.zmq_msg_init(ctypes.byref(msg))
        try:
            while lib.cryptcom_msg_recv(ctypes.byref(msg), self._c, flags) == -1:
                code = ctypes.get_errno()
                if code != _errno.EINTR:
                    raise _error(code)
            data = ctypes.string_at(zmq_lib.zmq_msg_data(ctypes.byref(msg)),
                                    zmq_lib.zmq_msg_size(ctypes.byref(msg)))
        finally:
            zmq_lib.zmq_msg_close(ctypes.byref(msg))
        return data if copy else zmq.Frame(data)

    # ---- what cryptcom adds ----

    def poll_event(self) -> Optional[Event]:
        """The next event (oldest first), or None. Works after close()."""
        e = ctypes.c_void_p(lib.cryptcom_event_next(self._c))
        if not e.value:
            code = ctypes.get_errno()
            if code == _errno.EAGAIN:
                return None
            raise _error(code)
        try:
            route = []
            for i in range(lib.cryptcom_event_route_frames(e)):
                size = ctypes.c_size_t()
                frame = lib.cryptcom_event_route_frame(e, i, ctypes.byref(size))
                route.append(ctypes.string_at(frame, size.value))
            return Event(
                kind=lib.cryptcom_event_kind_name(lib.cryptcom_event_kind(e)).decode(),
                reason=lib.cryptcom_reason_name(lib.cryptcom_event_reason(e)).decode(),
                message=lib.cryptcom_event_message(e),
                key_id=bytes(lib.cryptcom_event_key_id(e)[:16]),
                detail=lib.cryptcom_event_detail(e).decode("utf-8", "replace"),
                route=route,
                peer_key=_event_peer_key(e),
            )
        finally:
            lib.cryptcom_event_destroy(ctypes.byref(e))

    def stats(self) -> dict:
        """The socket's totals (cryptcom_stats_t) by name. Works after close()."""
        n = lib.cryptcom_stats_count()
        values = (ctypes.c_uint64 * n)()
        _check(lib.cryptcom_get_stats(self._c, values, ctypes.sizeof(values)))
        return {lib.cryptcom_stats_name(i).decode(): values[i] for i in range(n)}

    def peer_identity(self, route=()) -> Identity:
        """Who the peer at `route` is (authenticated mode): its routing frames as a ROUTER
        receives them in front of a message, or an Event's route; () for the directly connected
        peer of a DEALER, REQ or PAIR, and on a REP for the sender of the request being answered."""
        frames, sizes, count, keep = _route_arrays(route)
        key = ctypes.create_string_buffer(41)
        user = ctypes.create_string_buffer(256)
        known = _check(lib.cryptcom_peer_identity(self._c, frames, sizes, count, key, user,
                                                  len(user)))
        del keep
        return Identity(key=key.value if known == 1 else None,
                        user_id=user.value.decode("utf-8", "replace"))

    def resolve_identity(self, route, key, accepted):
        """Answers an identity_check event (identity_policy="ask" without ZAP): whether `key`
        (the event's peer_key, Z85) may talk to us as the peer at `route` (the event's route)."""
        if isinstance(key, str):
            key = key.encode("ascii")
        frames, sizes, count, keep = _route_arrays(route)
        _check(lib.cryptcom_resolve_identity(self._c, frames, sizes, count, bytes(key),
                                             1 if accepted else 0))
        del keep

    @property
    def instance(self) -> bytes:
        """This socket's protocol instance id (16 bytes), as its peers see it."""
        return self.get(constants.INSTANCE)


def _event_peer_key(e):
    key = lib.cryptcom_event_peer_key(e)
    return key if key else None


def _set_auth(c, option, value):
    """Sets an authenticated-mode option on the C socket `c`; allow_key takes a list too."""
    if option == constants.ALLOW_KEY and isinstance(value, (list, tuple, set)):
        for key in value:
            _set_auth(c, option, key)
        return
    buf, size, keep = _auth_value(option, value)
    _check(lib.cryptcom_setsockopt(c, option, buf, size))
    del keep


def _auth_property(option):
    return property(lambda self: self.get(option), lambda self, value: self.set(option, value))


# s.server_key = ..., s.allow_key = ..., print(s.identity_public_key); except zap_domain, which
# keeps pyzmq's meaning (ZMQ_ZAP_DOMAIN, for CURVE underneath): cryptcom's ZAP domain is the
# keyword argument or setsockopt(cryptcom.ZAP_DOMAIN, ...).
for _name, _option in constants.AUTH_OPTION_NAMES.items():
    if not hasattr(zmq.constants, _name.upper()):
        setattr(Socket, _name, _auth_property(_option))


def _endpoint(addr):
    return addr.encode("utf-8") if isinstance(addr, str) else bytes(addr)


def _zmq_option_type(option):
    """pyzmq's type of a ZeroMQ option: "int", "int64", "bytes" or "fd" (an int here)."""
    try:
        kind = SocketOption(option)._opt_type.name
    except ValueError:
        kind = "int"
    return "int" if kind == "fd" else kind
