"""Loads libcryptcom (cryptcom's C API, cryptcom.h) and libzmq with ctypes, and declares the
functions this package calls.

Where libcryptcom is looked for, in order:
  1. the file named by the environment variable CRYPTCOM_LIBRARY (and only there, when set);
  2. a libcryptcom.so* file next to this package;
  3. the system's loader path (the libcryptcom0.2 Debian package, LD_LIBRARY_PATH, ldconfig).
"""

import ctypes
import ctypes.util
import os

#: The C API version this package is written for: the library's major and minor must match.
API_VERSION = (0, 2)

_SONAME = "libcryptcom.so.%d.%d" % API_VERSION


def _candidates():
    explicit = os.environ.get("CRYPTCOM_LIBRARY")
    if explicit:
        return [explicit]
    here = os.path.dirname(os.path.abspath(__file__))
    found = [
        os.path.join(here, name)
        for name in sorted(os.listdir(here))
        if name.startswith("libcryptcom.so")
    ]
    found.append(_SONAME)
    system = ctypes.util.find_library("cryptcom")
    if system:
        found.append(system)
    return found


def _load_cryptcom():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError(
        "cryptcom: libcryptcom (cryptcom's C library) was not found. Install the libcryptcom0.2 "
        "package, or set CRYPTCOM_LIBRARY to its path (a build has it at "
        "build/bindings/c/libcryptcom.so). Tried: " + "; ".join(errors)
    )


def _load_zmq():
    # libcryptcom links libzmq, so it is loaded already; this names the same library.
    for name in ("libzmq.so.5", ctypes.util.find_library("zmq")):
        if not name:
            continue
        try:
            return ctypes.CDLL(name, use_errno=True)
        except OSError:
            pass
    raise ImportError("cryptcom: libzmq (libzmq5) was not found")


lib = _load_cryptcom()
zmq_lib = _load_zmq()


class zmq_msg_t(ctypes.Structure):
    """libzmq's zmq_msg_t: 64 bytes, pointer-aligned."""

    _fields_ = [("_", ctypes.c_uint64 * 8)]


_p = ctypes.c_void_p
_size = ctypes.c_size_t
_int = ctypes.c_int


def _declare(library, name, restype, *argtypes):
    f = getattr(library, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_declare(lib, "cryptcom_version", None, ctypes.POINTER(_int), ctypes.POINTER(_int),
         ctypes.POINTER(_int))
_declare(lib, "cryptcom_strerror", ctypes.c_char_p, _int)
_declare(lib, "cryptcom_options_new", _p)
_declare(lib, "cryptcom_options_destroy", None, ctypes.POINTER(_p))
_declare(lib, "cryptcom_options_set", _int, _p, _int, _p, _size)
_declare(lib, "cryptcom_options_get", _int, _p, _int, _p, ctypes.POINTER(_size))
_declare(lib, "cryptcom_set_io_threads", _int, _p, _int)
_declare(lib, "cryptcom_get_io_threads", _int, _p)
_declare(lib, "cryptcom_socket", _p, _p, _int)
_declare(lib, "cryptcom_socket_with_options", _p, _p, _int, _p)
_declare(lib, "cryptcom_close", _int, _p)
_declare(lib, "cryptcom_destroy", _int, ctypes.POINTER(_p))
_declare(lib, "cryptcom_handle", _p, _p)
for _name in ("cryptcom_bind", "cryptcom_unbind", "cryptcom_connect", "cryptcom_disconnect"):
    _declare(lib, _name, _int, _p, ctypes.c_char_p)
_declare(lib, "cryptcom_setsockopt", _int, _p, _int, _p, _size)
_declare(lib, "cryptcom_getsockopt", _int, _p, _int, _p, ctypes.POINTER(_size))
_declare(lib, "cryptcom_send", _int, _p, ctypes.c_char_p, _size, _int)
_declare(lib, "cryptcom_msg_recv", _int, ctypes.POINTER(zmq_msg_t), _p, _int)
_declare(lib, "cryptcom_event_next", _p, _p)
_declare(lib, "cryptcom_event_destroy", None, ctypes.POINTER(_p))
_declare(lib, "cryptcom_event_kind", _int, _p)
_declare(lib, "cryptcom_event_reason", _int, _p)
_declare(lib, "cryptcom_event_message", ctypes.c_uint64, _p)
_declare(lib, "cryptcom_event_key_id", ctypes.POINTER(ctypes.c_ubyte), _p)
_declare(lib, "cryptcom_event_detail", ctypes.c_char_p, _p)
_declare(lib, "cryptcom_event_route_frames", _size, _p)
_declare(lib, "cryptcom_event_route_frame", _p, _p, _size, ctypes.POINTER(_size))
_declare(lib, "cryptcom_event_peer_key", ctypes.c_char_p, _p)
_declare(lib, "cryptcom_peer_identity", _int, _p, _p, _p, _size, ctypes.c_char_p, ctypes.c_char_p,
         _size)
_declare(lib, "cryptcom_resolve_identity", _int, _p, _p, _p, _size, ctypes.c_char_p, _int)
_declare(lib, "cryptcom_event_kind_name", ctypes.c_char_p, _int)
_declare(lib, "cryptcom_reason_name", ctypes.c_char_p, _int)
_declare(lib, "cryptcom_get_stats", _int, _p, _p, _size)
_declare(lib, "cryptcom_stats_count", _size)
_declare(lib, "cryptcom_stats_name", ctypes.c_char_p, _size)

_declare(zmq_lib, "zmq_msg_init", _int, ctypes.POINTER(zmq_msg_t))
_declare(zmq_lib, "zmq_msg_close", _int, ctypes.POINTER(zmq_msg_t))
_declare(zmq_lib, "zmq_msg_data", _p, ctypes.POINTER(zmq_msg_t))
_declare(zmq_lib, "zmq_msg_size", _size, ctypes.POINTER(zmq_msg_t))


def library_version():
    major, minor, patch = _int(), _int(), _int()
    lib.cryptcom_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch))
    return (major.value, minor.value, patch.value)


if library_version()[:2] != API_VERSION:
    raise ImportError(
        "cryptcom: libcryptcom is version %d.%d.%d; this package needs %d.%d.x"
        % (library_version() + API_VERSION)
    )
