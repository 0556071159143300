"""A version 2 (authenticated mode) peer: cc_peer.Peer's rules of §9 over the sessions of
docs/PROTOCOL.md §12.4-§12.6, written from that document alone.

An initiator (a DEALER given the server's static public key) starts a handshake before it sends
anything; a responder (a ROUTER) answers initiates from the keys it allows. Every control and data
frame then carries a seq and a MAC of its session; frames that fail are dropped and recorded in
`events`, never answered (§12.6).
"""

import os
import time

import cc_hpke as hpke
import cc_auth as auth
from cc_auth import (Accept, Control2, Data2, HelloRequest, Initiate, Refuse, VersionError,
                     decode_frame2)
from cc_peer import PathState, Peer
from cc_wire import DataFrame, FrameError, Hello

HANDSHAKE_RETRY_S = 1.0           # §12.4: ours `key_request_retry`
HELLO_REQUEST_INTERVAL_S = 1.0    # §12.4 / §12.6: at most one hello_request per second per peer
MAX_PENDING = 4                   # §12.4 step 2: a responder MAY keep several pending sessions


class Session:
    """§12.4: S_I, S_R, I_I, I_R, N_I, N_R, the two MAC keys, the next seq and the highest
    accepted."""

    def __init__(self, prk, S_I, S_R, I_I, I_R, N_I, N_R, initiator):
        self.S_I, self.S_R, self.I_I, self.I_R, self.N_I, self.N_R = S_I, S_R, I_I, I_R, N_I, N_R
        self.k_ir, self.k_ri = auth.derive_session_keys(
            prk, auth.transcript(S_I, S_R, I_I, I_R, N_I, N_R))
        self.initiator = initiator
        self.send_key = self.k_ir if initiator else self.k_ri
        self.recv_key = self.k_ri if initiator else self.k_ir
        self.next_seq = 1
        self.max_seq = 0
        self.sent_seqs = []
        self.recv_seqs = []               # seqs accepted from the peer, in order

    @property
    def peer_instance(self):
        return self.I_R if self.initiator else self.I_I

    @property
    def peer_key(self):
        return self.S_R if self.initiator else self.S_I

    def take_seq(self):
        seq = self.next_seq
        self.next_seq += 1
        self.sent_seqs.append(seq)
        return seq

    def verifies(self, f):
        return auth.mac_ok(self.recv_key, f.covered, f.mac) and f.seq > self.max_seq


class AuthPeer(Peer):
    def __init__(self, ctx, kind, secret, server_key=None, allowed=(), allow_any=False,
                 hello=None, **kw):
        super().__init__(ctx, kind, hello=hello or Hello(max_version=2), **kw)
        self.info = auth.INFO_DATA
        self.secret = secret
        self.public = hpke.public_of(secret)
        self.server_key = server_key          # set: we are an initiator (§12.1)
        self.allowed = set(allowed)
        self.allow_any = allow_any
        self.sessions = {}                    # path -> established Session
        self.pending = {}                     # responder: path -> [Session], latest last
        self.initiates = {}                   # initiator: path -> (N_I, prk, sent at)
        self.hello_request_sent = {}          # path -> when we last sent one
        self.handshake_started = {}           # path -> when we last sent an initiate
        self.sent = []                        # (path, frame) of every frame we sent, in order
        self.received = []                    # (path, frame) of every frame received, in order

    @property
    def initiator(self):
        return self.server_key is not None

    def send_raw(self, path, frame):
        self.sent.append((tuple(path), frame))
        super().send_raw(path, frame)

    # -- frames under a session (§12.2) --------------------------------------------------------

    def control_frame(self, path, block):
        s = self.sessions[tuple(path)]
        return auth.encode_control2(s.take_seq(), block, s.send_key)

    def data_frame(self, path, key_id, pk, plaintext, reply_key, block, aead):
        s = self.sessions[tuple(path)]
        return auth.seal_data2(s.take_seq(), key_id, pk, plaintext, s.send_key, reply_key, block,
                               aead)

    def flush(self, path):
        path = tuple(path)
        if path in self.sessions:
            super().flush(path)
        elif self.initiator and self.state(path).queue and path not in self.initiates:
            self.start_handshake(path)        # §12.4 step 1: messages wait for the session

    def idle(self):
        now = time.monotonic()
        for path, (_, _, at) in list(self.initiates.items()):
            if now - at >= HANDSHAKE_RETRY_S and self.state(path).queue:
                self.start_handshake(path)    # no answer: a new initiate, new nonce and enc

    # -- the handshake (§12.4) ------------------------------------------------------------------

    def start_handshake(self, path=()):
        path = tuple(path)
        nonce = os.urandom(16)
        frame, prk, _ = auth.build_initiate(self.secret, self.public, self.server_key,
                                            self.instance, nonce)
        self.initiates[path] = (nonce, prk, time.monotonic())   # answers only to the latest
        self.handshake_started[path] = time.monotonic()
        self.events.append(("initiate", path, nonce))
        self.send_raw(path, frame)

    def _hello_request(self, path, why):
        now = time.monotonic()
        last = self.hello_request_sent.get(path)
        if last is None or now - last >= HELLO_REQUEST_INTERVAL_S:
            self.hello_request_sent[path] = now
            self.send_raw(path, auth.encode_hello_request(self.instance))
            self.events.append(("sent_hello_request", path, why))

    def _drop(self, path, why):
        self.events.append(("dropped", path, why))

    def handle(self, path, frame):
        self.frames_in += 1
        path = tuple(path)
        self.received.append((path, frame))
        try:
            f = decode_frame2(frame, self.limits)
        except VersionError as e:
            self._drop(path, f"version {e.version}")
            if e.version == 1:                # §12.6: answered by a hello_request only
                self._hello_request(path, "version 1 frame")
            return
        except FrameError as e:
            self.events.append(("frame_error", path, e.code, None))
            return
        if isinstance(f, HelloRequest):
            self.events.append(("hello_request", path, f.instance))
            if self.initiator:
                last = self.handshake_started.get(path)
                if last is None or time.monotonic() - last >= HANDSHAKE_RETRY_S:
                    self.start_handshake(path)
        elif isinstance(f, Initiate):
            if self.initiator:
                self._drop(path, "initiate to an initiator")
            else:
                self._answer_initiate(path, f)
        elif isinstance(f, (Accept, Refuse)):
            if self.initiator:
                self._handle_answer(path, f)
            else:
                self._drop(path, "answer to a responder")
        else:
            self._handle_session_frame(path, f)

    def _answer_initiate(self, path, f):
        try:
            S_I = auth.open_identity(self.secret, f)
            prk = auth.static_prk(self.secret, S_I)
        except hpke.HpkeError:
            return self._drop(path, "initiate: sealed identity does not open")
        k_init = auth.derive_k_init(prk, S_I, self.public, f.instance, f.nonce)
        if not auth.mac_ok(k_init, f.covered, f.mac):
            return self._drop(path, "initiate: MAC")
        N_R = os.urandom(16)
        s = Session(prk, S_I, self.public, f.instance, self.instance, f.nonce, N_R, False)
        if self.allow_any or S_I in self.allowed:
            pend = self.pending.setdefault(path, [])
            pend.append(s)
            del pend[:-MAX_PENDING]
            self.events.append(("accepted", path, S_I))
            self.send_raw(path, auth.encode_accept(self.instance, N_R, f.nonce, s.k_ri))
        else:
            self.events.append(("refusing", path, S_I))
            self.send_raw(path, auth.encode_refuse(self.instance, N_R, f.nonce,
                                                   auth.ACCESS_DENIED, s.k_ri))

    def _handle_answer(self, path, f):
        latest = self.initiates.get(path)
        if latest is None or f.peer_nonce != latest[0]:
            return self._drop(path, "answer to another initiate")
        N_I, prk, _ = latest
        s = Session(prk, self.public, self.server_key, self.instance, f.instance, N_I, f.nonce,
                    True)
        if not auth.mac_ok(s.k_ri, f.covered, f.mac):
            return self._drop(path, "answer: MAC")
        del self.initiates[path]
        if isinstance(f, Refuse):
            st = self.state(path)
            self.events.append(("refused", path, f.reason, f.instance))
            while st.queue:                   # §12.4 step 3: given up, access_denied
                out = st.queue.popleft()
                self.events.append(("undeliverable", path, out.key_id, "access_denied"))
            return
        self._establish(path, s)
        # §12.4 step 3: a frame under the session at once, with our hello and our key request.
        if self.state(path).queue or len(self.state(path).keys) < self.low_watermark:
            self.request_keys(path, self.grant)
        else:
            self.send_control(path, 0)

    def _establish(self, path, s):
        old = self.sessions.get(path)
        if old is not None and (old.peer_instance != s.peer_instance or
                                old.peer_key != s.peer_key):
            # §12.5: a new peer instance (or identity): what §9 does on a restart.
            fresh = PathState()
            fresh.blocks = self.state(path).blocks
            self.paths[path] = fresh
            self.events.append(("restart", path, old.peer_instance, s.peer_instance))
        self.sessions[path] = s
        self.events.append(("established", path, s.peer_key, s.peer_instance))

    def _handle_session_frame(self, path, f):
        s = self.sessions.get(path)
        if s is None or not s.verifies(f):
            candidates = self.pending.get(path, [])
            match = next((p for p in reversed(candidates) if p.verifies(f)), None)
            if match is None:
                if s is None:                 # pending sessions are not sessions yet
                    self._drop(path, "no session")
                    self._hello_request(path, "no session")
                else:
                    self._drop(path, "MAC or seq")
                return
            self.pending.pop(path)            # the live initiator proved itself (§12.4 step 2)
            self._establish(path, match)
            s = match
        block = f.block if isinstance(f, Control2) else f.control
        if block is not None and block.instance != s.peer_instance:
            return self._drop(path, "block names another instance")   # §12.2: malformed
        if block is not None and block.hello is not None and block.hello.max_version != 2:
            self.events.append(("hello_not_v2", path, block.hello))
        if isinstance(f, Control2):
            s.max_seq = f.seq
            s.recv_seqs.append(f.seq)
            self.state(path).log.append(("control", block.hello is not None, False))
            self.apply_block(path, block, "control_frame")
            return
        self.state(path).log.append(("data", block is not None and block.hello is not None,
                                     f.reply_key is not None))
        if self.handle_data(path, DataFrame(f.key_id, f.enc, f.reply_key, f.control,
                                            f.ciphertext, f.aad)):
            s.max_seq = f.seq                 # §12.4: a frame that did not open keeps its seq
            s.recv_seqs.append(f.seq)
