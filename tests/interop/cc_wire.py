"""Frames of docs/PROTOCOL.md §3-§6 (control, data, payload), over the §2 codec."""

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from cc_msgpack import (NIL, DecodeError, Reader, enc_array_header, enc_bin, enc_uint)

VERSION = 1
KIND_CONTROL = 1
KIND_DATA = 2

U32 = 2**32 - 1
U64 = 2**64 - 1

ERRC = {
    1: "invalid_argument", 2: "malformed_frame", 3: "unsupported_version", 4: "unknown_kind",
    5: "unknown_key", 6: "expired_key", 7: "replayed_key", 8: "authentication_failed",
    9: "low_order_point", 10: "limit_exceeded", 11: "rate_limited", 12: "out_of_memory",
    13: "unavailable", 14: "message_too_large", 15: "undeliverable", 16: "internal",
}
CODE = {name: code for code, name in ERRC.items()}

INFO = b"cryptcom/1 one-time key"  # §8: 23 ASCII bytes
TAG = 16


@dataclass
class Limits:
    """§7; the message limits are ours as a receiver (announced in our hello)."""
    max_message_bytes: int = 64 << 20
    max_parts: int = 1000
    max_offers: int = 1024
    max_acks: int = 4096
    max_rejections: int = 1024

    @property
    def max_frame_bytes(self):
        return self.max_message_bytes + 256 * 1024 + 16 * self.max_parts


@dataclass
class Hello:
    max_version: int = 1
    features: int = 0
    aead: int = 3
    max_message_bytes: int = 64 << 20
    max_parts: int = 1000


@dataclass
class OfferedKey:
    id: bytes
    key: bytes
    ttl_ms: int


@dataclass
class ControlBlock:
    instance: bytes
    wanted: int = 0
    offers: List[OfferedKey] = field(default_factory=list)
    acks: List[bytes] = field(default_factory=list)
    rejections: List[Tuple[bytes, int]] = field(default_factory=list)
    hello: Optional[Hello] = None
    # 5 or 6 elements as decoded
    count: int = 6


@dataclass
class DataFrame:
    key_id: bytes
    enc: bytes
    reply_key: Optional[OfferedKey]
    control: Optional[ControlBlock]
    ciphertext: bytes
    aad: bytes


class FrameError(Exception):
    """A frame that does not decode; key_id is set when §3 says it must be answered."""

    def __init__(self, code, detail, key_id=None):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.key_id = key_id


# ---------------------------------------------------------------------------------------------
# Encoding

def encode_offered_key(k):
    return enc_array_header(3) + enc_bin(k.id) + enc_bin(k.key) + enc_uint(k.ttl_ms)


def encode_hello(h):
    return (enc_array_header(5) + enc_uint(h.max_version) + enc_uint(h.features) +
            enc_uint(h.aead) + enc_uint(h.max_message_bytes) + enc_uint(h.max_parts))


def encode_control_block(b, hello_nil=False):
    out = enc_array_header(6 if (b.hello is not None or hello_nil) else 5)
    out += enc_bin(b.instance) + enc_uint(b.wanted)
    out += enc_array_header(len(b.offers)) + b"".join(encode_offered_key(k) for k in b.offers)
    out += enc_array_header(len(b.acks)) + b"".join(enc_bin(a) for a in b.acks)
    out += enc_array_header(len(b.rejections)) + b"".join(
        enc_array_header(2) + enc_bin(i) + enc_uint(r) for i, r in b.rejections)
    if b.hello is not None:
        out += encode_hello(b.hello)
    elif hello_nil:
        out += NIL
    return out


def encode_control_frame(block, **kw):
    return enc_array_header(3) + enc_uint(VERSION) + enc_uint(KIND_CONTROL) + \
        encode_control_block(block, **kw)


def data_frame_aad(key_id, enc, reply_key=None, control=None):
    """Every byte of a data frame before the ciphertext's bin header (§5)."""
    return (enc_array_header(7) + enc_uint(VERSION) + enc_uint(KIND_DATA) + enc_bin(key_id) +
            enc_bin(enc) + (encode_offered_key(reply_key) if reply_key else NIL) +
            (encode_control_block(control) if control else NIL))


def encode_payload(parts):
    return enc_array_header(len(parts)) + b"".join(enc_bin(p) for p in parts)


# ---------------------------------------------------------------------------------------------
# Decoding

def _offered_key(r, what):
    if r.array(what) != 3:
        r._fail(f"expected array of 3 ({what})")
    return OfferedKey(r.bin(what + ".id", 16), r.bin(what + ".key", 32),
                      r.uint(what + ".ttl_ms", U32))


def decode_control_block(r, limits, what="control"):
    n = r.array(what)
    if n not in (5, 6):
        r._fail(f"expected array of 5 or 6 ({what}), got {n}")
    b = ControlBlock(instance=r.bin(what + ".instance", 16), count=n)
    b.wanted = r.uint(what + ".wanted", U32)
    n_offers = r.array(what + ".offers")
    if n_offers > limits.max_offers:
        r._fail(f"{n_offers} offers above {limits.max_offers}", code="limit_exceeded")
    b.offers = [_offered_key(r, f"{what}.offers[{i}]") for i in range(n_offers)]
    n_acks = r.array(what + ".acks")
    if n_acks > limits.max_acks:
        r._fail(f"{n_acks} acks above {limits.max_acks}", code="limit_exceeded")
    b.acks = [r.bin(f"{what}.acks[{i}]", 16) for i in range(n_acks)]
    n_rej = r.array(what + ".rejections")
    if n_rej > limits.max_rejections:
        r._fail(f"{n_rej} rejections above {limits.max_rejections}", code="limit_exceeded")
    for i in range(n_rej):
        w = f"{what}.rejections[{i}]"
        if r.array(w) != 2:
            r._fail(f"expected array of 2 ({w})")
        rid = r.bin(w + ".id", 16)
        start = r.pos
        reason = r.uint(w + ".reason", 16)
        if reason == 0:
            r._fail(f"reason 0 ({w})", offset=start)
        b.rejections.append((rid, reason))
    if n == 6:
        # §4: the sixth element MUST be a hello array; nil there is malformed.
        w = what + ".hello"
        if r.array(w) != 5:
            r._fail(f"expected array of 5 ({w})")
        start = r.pos
        mv = r.uint(w + ".max_version", U32)
        if mv == 0:
            r._fail(f"max_version 0 ({w})", offset=start)
        b.hello = Hello(mv, r.uint(w + ".features", U64), r.uint(w + ".aead", 65535),
                        r.uint(w + ".max_message_bytes", U64), r.uint(w + ".max_parts", U32))
    return b


def read_head(r):
    """§3 (and §12.2): the outer array header, then version, then kind, before anything else.
    Returns (count, version, kind, offset of kind)."""
    n = r.array("frame")
    if n < 2:
        r._fail(f"frame array of {n}, at least 2 needed")
    version = r.uint("version", U64)
    kind_at = r.pos
    return n, version, r.uint("kind", U64), kind_at


def decode_frame(buf, limits=None):
    """Returns ('control', ControlBlock) or ('data', DataFrame); raises FrameError (§3)."""
    limits = limits or Limits()
    buf = bytes(buf)
    r = Reader(buf)
    key_id = None
    try:
        n, version, kind, kind_at = read_head(r)
        if version != VERSION:
            raise FrameError("unsupported_version", f"version {version}")
        if kind not in (KIND_CONTROL, KIND_DATA):
            raise FrameError("unknown_kind", f"offset {kind_at}: kind {kind}")
        if kind == KIND_CONTROL:
            if n != 3:
                r._fail(f"control frame of {n} elements, expected 3")
            block = decode_control_block(r, limits)
            r.end()
            return "control", block
        if n != 7:
            r._fail(f"data frame of {n} elements, expected 7")
        key_id = r.bin("key_id", 16)
        if len(buf) > limits.max_frame_bytes:
            raise FrameError("message_too_large", f"frame of {len(buf)} bytes", key_id)
        enc = r.bin("enc", 32)
        reply_key = None if r.nil() else _offered_key(r, "reply_key")
        control = None if r.nil() else decode_control_block(r, limits)
        aad_end = r.pos
        ct = r.bin("ciphertext")
        if len(ct) < TAG:
            r._fail(f"ciphertext of {len(ct)} bytes, shorter than the tag", offset=aad_end)
        r.end()
        return "data", DataFrame(key_id, enc, reply_key, control, ct, buf[:aad_end])
    except DecodeError as e:
        raise FrameError(e.code, str(e), key_id) from e


def decode_payload(pt, max_parts):
    """§6; raises FrameError invalid_argument (not a valid payload) or limit_exceeded."""
    r = Reader(pt)
    try:
        n = r.array("payload")
        if n > max_parts:
            raise FrameError("limit_exceeded", f"{n} parts above {max_parts}")
        if n == 0:
            r._fail("empty payload")
        parts = [r.bin(f"part[{i}]") for i in range(n)]
        r.end("payload")
        return parts
    except DecodeError as e:
        raise FrameError("invalid_argument", str(e)) from e
