"""A cryptcom protocol peer (§3-§11) on a ZeroMQ DEALER or ROUTER, written from PROTOCOL.md alone.

Single-threaded and explicit: tests call send()/pump() and read `events`. It keeps what §9 asks
of an endpoint: keys asked for and offered, each key used once, keys open only for the path they
were issued to, pull reply keys, acknowledgements of what it opened, rejections of what it could
not, hellos (§4) in every block it sends, instance ids.
"""

import os
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import zmq

import cc_hpke as hpke
from cc_msgpack import enc_bin, bin_header_size
from cc_wire import (CODE, ERRC, INFO, TAG, ControlBlock, DataFrame, FrameError, Hello, Limits,
                     OfferedKey, data_frame_aad, decode_frame, decode_payload,
                     encode_control_frame, encode_payload)

EXPIRY_MARGIN_S = 5.0


@dataclass
class Outgoing:
    parts: list
    pull: bool
    key_id: bytes = None
    key: bytes = None
    frames: list = field(default_factory=list)
    resends: int = 0


@dataclass
class Issued:
    sk: bytes
    pk: bytes
    expiry: float
    reply: bool


class PathState:
    def __init__(self):
        self.instance = None
        self.hello = None
        self.blocks = []                 # (source, ControlBlock) as received, for checks
        self.keys = OrderedDict()        # their offered keys: id -> (pk, deadline)
        self.reply_keys = deque()        # their reply keys: (id, pk, deadline)
        self.used = set()                # their key ids we sealed to
        self.issued = {}                 # our keys for them: id -> Issued
        self.opened = set()              # our key ids a frame of theirs opened
        self.acks_out = []
        self.rejections_out = []
        self.offers_out = []
        self.key_request_at = None
        self.queue = deque()             # Outgoing waiting for a key
        self.log = []                    # frames received, in order: (kind, hello?, reply_key?)
        self.unacked = {}                # key_id -> Outgoing


class Peer:
    def __init__(self, ctx, kind, hello=None, ttl_ms=60000, grant=64, low_watermark=16,
                 hello_in_blocks=True, auto_offer=True, send_hello=True):
        self.kind = kind
        self.sock = ctx.socket(zmq.DEALER if kind == "dealer" else zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.hello = hello or Hello()
        self.limits = Limits(max_message_bytes=self.hello.max_message_bytes,
                             max_parts=self.hello.max_parts)
        self.instance = os.urandom(16)
        self.ttl_ms = ttl_ms
        self.grant = grant
        self.low_watermark = low_watermark
        self.hello_in_blocks = hello_in_blocks
        self.auto_offer = auto_offer
        self.send_hello = send_hello     # False: a peer of §4's first publication (5-element blocks)
        self.paths = {}
        self.events = []
        self.on_message = None           # callback(peer, path, parts)
        self.frames_in = 0
        self.info = INFO                 # HPKE info of data frames (§8; §12.3 for version 2)

    # -- sockets ---------------------------------------------------------------------------

    def connect(self, ep):
        self.sock.connect(ep)

    def bind(self, ep):
        self.sock.bind(ep)

    def close(self):
        self.sock.close(0)

    def state(self, path):
        return self.paths.setdefault(tuple(path), PathState())

    def send_raw(self, path, frame):
        assert frame, "§11.2: no empty frame on the wire"
        self.sock.send_multipart([*path, frame])

    def recv_raw(self, timeout_ms):
        if not self.sock.poll(timeout_ms, zmq.POLLIN):
            return None
        msg = self.sock.recv_multipart()
        # §11.2: the routing path is the frames in front of the cryptcom frame, empty ones removed.
        return tuple(f for f in msg[:-1] if f), msg[-1]

    # -- building --------------------------------------------------------------------------

    def new_key(self, path, reply=False):
        sk, pk = hpke.generate_key_pair()
        kid = os.urandom(16)
        self.state(path).issued[kid] = Issued(sk, pk, time.monotonic() + self.ttl_ms / 1000, reply)
        return OfferedKey(kid, pk, self.ttl_ms)

    def make_block(self, path, wanted=0, hello=True):
        st = self.state(path)
        b = ControlBlock(self.instance, wanted, st.offers_out[:1024], st.acks_out[:4096],
                         st.rejections_out[:1024],
                         self.hello if hello and self.send_hello else None)
        del st.offers_out[:1024], st.acks_out[:4096], st.rejections_out[:1024]
        return b

    def has_pending_control(self, path):
        st = self.state(path)
        return bool(st.offers_out or st.acks_out or st.rejections_out)

    def send_control(self, path, wanted=0):
        self.send_raw(path, self.control_frame(path, self.make_block(path, wanted)))

    def control_frame(self, path, block):
        """The control frame carrying `block` (version 1; AuthPeer adds seq and MAC)."""
        return encode_control_frame(block)

    def data_frame(self, path, key_id, pk, plaintext, reply_key, block, aead):
        """The data frame sealing `plaintext` (version 1; AuthPeer adds seq and MAC)."""
        return self.seal_frame(key_id, pk, plaintext, reply_key, block, aead)

    def request_keys(self, path, n):
        self.state(path).key_request_at = time.monotonic()
        self.send_control(path, n)

    def seal_frame(self, key_id, pk, plaintext, reply_key=None, control=None, aead=None,
                   aad_override=None):
        """A data frame (§5) sealing `plaintext` to (key_id, pk); returns its bytes."""
        shared, enc = hpke.encap(pk)
        ctx, _, _ = hpke.key_schedule(hpke.MODE_BASE, aead or hpke.AEAD_CHACHA, shared, INFO)
        aad = data_frame_aad(key_id, enc, reply_key, control)
        ct = ctx.seal(aad if aad_override is None else aad_override, plaintext)
        return aad + enc_bin(ct)

    def their_aead(self, path):
        h = self.state(path).hello
        return h.aead if h else hpke.AEAD_CHACHA

    def take_key(self, path, reply_first=True):
        """§9: a reply key is used for the next message to that peer; else an offered key."""
        st = self.state(path)
        now = time.monotonic()
        while reply_first and st.reply_keys:
            kid, pk, deadline = st.reply_keys.popleft()
            if deadline > now:
                st.used.add(kid)
                return kid, pk, True
        while st.keys:
            kid, (pk, deadline) = st.keys.popitem(last=False)
            if deadline > now and kid not in st.used:
                st.used.add(kid)
                return kid, pk, False
        return None

    # -- sending messages ------------------------------------------------------------------

    def send(self, path, parts, pull=False):
        out = Outgoing(list(parts), pull)
        self.state(path).queue.append(out)
        self.flush(path)
        return out

    def _transmit(self, path, out, reply_key_used):
        st = self.state(path)
        reply_key = None
        if out.pull and not reply_key_used:
            reply_key = self.new_key(path, reply=True)
        wanted = 0
        if len(st.keys) < self.low_watermark and self._may_request(st):
            wanted = self.grant
            st.key_request_at = time.monotonic()
        block = self.make_block(path, wanted) if self.hello_in_blocks or wanted or \
            self.has_pending_control(path) else None
        frame = self.data_frame(path, out.key_id, out.key, encode_payload(out.parts), reply_key,
                                block, self.their_aead(path))
        out.frames.append(frame)
        st.unacked[out.key_id] = out
        self.send_raw(path, frame)

    def _may_request(self, st):
        return st.key_request_at is None or time.monotonic() - st.key_request_at > 1.0

    def flush(self, path):
        st = self.state(path)
        while st.queue:
            k = self.take_key(path)
            if k is None:
                if self._may_request(st):
                    self.request_keys(path, max(self.grant, len(st.queue)))
                break
            out = st.queue.popleft()
            out.key_id, out.key = k[0], k[1]
            self._transmit(path, out, reply_key_used=k[2])
        if self.has_pending_control(path):
            self.send_control(path)

    # -- receiving -------------------------------------------------------------------------

    def pump(self, until, timeout=10.0, what="condition"):
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out waiting for {what}; events: {self.events[-8:]}")
            got = self.recv_raw(min(50, int(left * 1000) + 1))
            if got is None:
                self.idle()
                continue
            path, frame = got
            self.handle(path, frame)
            self.flush(path)

    def drain(self, seconds):
        """Processes whatever arrives for `seconds`."""
        end = time.monotonic() + seconds
        try:
            self.pump(lambda: False, timeout=seconds)
        except TimeoutError:
            pass

    def idle(self):
        """Called when nothing arrived for a while (AuthPeer retries its handshakes here)."""

    def handle(self, path, frame):
        self.frames_in += 1
        st = self.state(path)
        try:
            kind, obj = decode_frame(frame, self.limits)
        except FrameError as e:
            self.events.append(("frame_error", path, e.code, e.key_id))
            if e.key_id is not None and e.code not in ("unsupported_version", "unknown_kind"):
                st.rejections_out.append((e.key_id, CODE["message_too_large"]
                                          if e.code == "message_too_large"
                                          else CODE["malformed_frame"]))
            return
        if kind == "control":
            st.log.append(("control", obj.hello is not None, False))
            self.apply_block(path, obj, "control_frame")
        else:
            st.log.append(("data", obj.control is not None and obj.control.hello is not None,
                           obj.reply_key is not None))
            self.handle_data(path, obj)

    def reject(self, path, key_id, reason):
        self.state(path).rejections_out.append((key_id, CODE[reason]))
        self.events.append(("sent_rejection", path, key_id, reason))

    def handle_data(self, path, f: DataFrame):
        """Opens, acknowledges or rejects `f`; returns whether it opened."""
        st = self.state(path)
        issued = st.issued.get(f.key_id)
        if issued is None:
            self.reject(path, f.key_id, "replayed_key" if f.key_id in st.opened else "unknown_key")
            return False
        if issued.expiry <= time.monotonic():
            del st.issued[f.key_id]
            self.reject(path, f.key_id, "expired_key")
            return False
        try:
            pt = hpke.open_base(f.enc, issued.sk, self.info, f.aad, f.ciphertext, self.hello.aead)
        except hpke.HpkeError as e:
            self.reject(path, f.key_id, str(e))
            return False
        del st.issued[f.key_id]               # one open, then the private key is gone
        st.opened.add(f.key_id)
        if f.control is not None:             # authenticated: acted on (§9)
            self.apply_block(path, f.control, "data_frame")
        if f.reply_key is not None:
            st.reply_keys.append((f.reply_key.id, f.reply_key.key,
                                  time.monotonic() + f.reply_key.ttl_ms / 1000 - EXPIRY_MARGIN_S))
        try:
            parts = decode_payload(pt, self.limits.max_parts)
        except FrameError as e:
            self.reject(path, f.key_id, e.code)
            return True
        st.acks_out.append(f.key_id)
        self.events.append(("message", path, parts, f.key_id, issued.reply, f.reply_key))
        if self.on_message:
            self.on_message(self, path, parts)
        return True

    def apply_block(self, path, b: ControlBlock, source):
        st = self.state(path)
        st.blocks.append((source, b))
        if st.instance is not None and st.instance != b.instance:
            # §9: a restarted peer: forget every key from or for the old instance.
            self.events.append(("restart", path, st.instance, b.instance))
            fresh = PathState()
            fresh.blocks = st.blocks
            self.paths[tuple(path)] = st = fresh
        st.instance = b.instance
        if b.hello is not None:
            st.hello = b.hello
        now = time.monotonic()
        for k in b.offers:
            if k.id not in st.used:           # §9: a replayed offer is ignored
                st.keys[k.id] = (k.key, now + k.ttl_ms / 1000 - EXPIRY_MARGIN_S)
        for a in b.acks:
            st.unacked.pop(a, None)
            self.events.append(("acked", path, a))
        seen = set()
        for kid, reason in b.rejections:
            if kid in seen:
                continue
            seen.add(kid)
            self.events.append(("rejected", path, kid, ERRC[reason]))
            out = st.unacked.get(kid)
            if out is None:
                continue
            name = ERRC[reason]
            if name in ("unknown_key", "expired_key", "low_order_point") and out.resends < 3:
                del st.unacked[kid]
                out.resends += 1
                st.queue.appendleft(out)
            elif name in ("invalid_argument", "limit_exceeded", "message_too_large"):
                del st.unacked[kid]
                self.events.append(("undeliverable", path, kid, name))
        if b.wanted and self.auto_offer:
            live = sum(1 for i in st.issued.values() if not i.reply)
            n = max(0, min(b.wanted, self.grant - live))
            st.offers_out.extend(self.new_key(path) for _ in range(n))

    # -- queries for tests -----------------------------------------------------------------

    def messages(self, path=None):
        return [e for e in self.events if e[0] == "message" and (path is None or e[1] == path)]

    def rejections_of(self, key_id):
        return [e[3] for e in self.events if e[0] == "rejected" and e[2] == key_id]

    def acked(self, key_id):
        return any(e[0] == "acked" and e[2] == key_id for e in self.events)

    def ack_count(self, key_id):
        return sum(1 for e in self.events if e[0] == "acked" and e[2] == key_id)
