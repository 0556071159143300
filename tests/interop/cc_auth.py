"""Version 2, authenticated mode: the frames of docs/PROTOCOL.md §12.2 (encode and strict decode)
and the derivations of §12.3, written from that section alone. The session and handshake logic
(§12.4) is in cc_peer.AuthPeer.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Optional

import cc_hpke as hpke
from cc_msgpack import DecodeError, Reader, enc_array_header, enc_bin, enc_uint, NIL
from cc_wire import (U64, ControlBlock, FrameError, Limits, OfferedKey, TAG, _offered_key,
                     decode_control_block, encode_control_block, encode_offered_key,
                     read_head)

VERSION2 = 2
KIND_CONTROL = 1
KIND_DATA = 2
KIND_HANDSHAKE = 3
STEP_HELLO_REQUEST = 0
STEP_INITIATE = 1
STEP_ACCEPT = 2
STEP_REFUSE = 3
HANDSHAKE_COUNT = {STEP_HELLO_REQUEST: 4, STEP_INITIATE: 8, STEP_ACCEPT: 7, STEP_REFUSE: 8}

ACCESS_DENIED = 17                       # §12.2: refuse reasons 17 access_denied, 11 rate_limited
INFO_IDENTITY = b"cryptcom/2 identity"   # §12.3: 19 ASCII bytes
INFO_DATA = b"cryptcom/2 one-time key"   # §12.3: 23 ASCII bytes
SESSION_SALT = b"cryptcom/2 session"
LABEL_INITIATE = b"cryptcom/2 initiate"
LABEL_INITIATOR = b"cryptcom/2 initiator"
LABEL_RESPONDER = b"cryptcom/2 responder"
MAC_BYTES = 32
SEALED_IDENTITY_BYTES = 48


# ---------------------------------------------------------------------------------------------
# §12.3 derivations

def session_prk(ss):
    """prk = HKDF-Extract(salt = "cryptcom/2 session", IKM = ss); an all-zero ss fails."""
    if ss == bytes(32):
        raise hpke.HpkeError("low_order_point")
    return hpke.hkdf_extract(SESSION_SALT, ss)


def static_prk(own_secret, their_public):
    """ss = X25519 of one static secret with the other's public key, then prk."""
    return session_prk(hpke.dh(own_secret, their_public))


def derive_k_init(prk, S_I, S_R, I_I, N_I):
    return hpke.hkdf_expand(prk, LABEL_INITIATE + S_I + S_R + I_I + N_I, 32)


def transcript(S_I, S_R, I_I, I_R, N_I, N_R):
    th = S_I + S_R + I_I + I_R + N_I + N_R
    assert len(th) == 128
    return th


def derive_session_keys(prk, th):
    """(k_ir, k_ri): initiator -> responder, responder -> initiator."""
    return (hpke.hkdf_expand(prk, LABEL_INITIATOR + th, 32),
            hpke.hkdf_expand(prk, LABEL_RESPONDER + th, 32))


def mac(key, covered):
    return hmac.new(key, covered, hashlib.sha256).digest()


def mac_ok(key, covered, tag):
    return hmac.compare_digest(mac(key, covered), tag)   # constant time (§12.3)


# ---------------------------------------------------------------------------------------------
# Decoded frames. `covered` is what the MAC covers: every byte before the mac's bin header.

@dataclass
class HelloRequest:
    instance: bytes


@dataclass
class Initiate:
    instance: bytes
    nonce: bytes
    enc: bytes
    sealed_identity: bytes
    mac: bytes
    covered: bytes
    identity_aad: bytes              # every byte before the sealed_identity's bin header


@dataclass
class Accept:
    instance: bytes
    nonce: bytes
    peer_nonce: bytes
    mac: bytes
    covered: bytes


@dataclass
class Refuse:
    instance: bytes
    nonce: bytes
    peer_nonce: bytes
    reason: int
    mac: bytes
    covered: bytes


@dataclass
class Control2:
    seq: int
    block: ControlBlock
    mac: bytes
    covered: bytes


@dataclass
class Data2:
    seq: int
    key_id: bytes
    enc: bytes
    reply_key: Optional[OfferedKey]
    control: Optional[ControlBlock]
    mac: bytes
    covered: bytes
    ciphertext: bytes
    aad: bytes                       # every byte before the ciphertext's bin header (mac included)


class VersionError(FrameError):
    """A frame of another version (§12.6: a version 1 frame is answered by a hello_request)."""

    def __init__(self, version, detail):
        super().__init__("unsupported_version", detail)
        self.version = version


# ---------------------------------------------------------------------------------------------
# Encoding (shortest forms)

def _head(kind, count, third):
    return enc_array_header(count) + enc_uint(VERSION2) + enc_uint(kind) + enc_uint(third)


def encode_hello_request(instance):
    return _head(KIND_HANDSHAKE, 4, STEP_HELLO_REQUEST) + enc_bin(instance)


def initiate_identity_aad(instance, nonce, enc):
    return _head(KIND_HANDSHAKE, 8, STEP_INITIATE) + enc_bin(instance) + enc_bin(nonce) + \
        enc_bin(enc)


def build_initiate(s_I, S_I, S_R, I_I, N_I, ikmE=None):
    """The initiate of §12.4 step 1: (frame, prk, k_init). ikmE fixes the ephemeral key pair
    (DeriveKeyPair), as §12.8 does; None: a fresh random one."""
    shared, enc = hpke.encap(S_R, ikmE)
    ctx, _, _ = hpke.key_schedule(hpke.MODE_BASE, hpke.AEAD_CHACHA, shared, INFO_IDENTITY)
    aad = initiate_identity_aad(I_I, N_I, enc)
    sealed = ctx.seal(aad, S_I)
    assert len(sealed) == SEALED_IDENTITY_BYTES
    prk = static_prk(s_I, S_R)
    k_init = derive_k_init(prk, S_I, S_R, I_I, N_I)
    covered = aad + enc_bin(sealed)
    return covered + enc_bin(mac(k_init, covered)), prk, k_init


def encode_accept(I_R, N_R, N_I, k_ri):
    covered = _head(KIND_HANDSHAKE, 7, STEP_ACCEPT) + enc_bin(I_R) + enc_bin(N_R) + enc_bin(N_I)
    return covered + enc_bin(mac(k_ri, covered))


def encode_refuse(I_R, N_R, N_I, reason, k_ri):
    covered = _head(KIND_HANDSHAKE, 8, STEP_REFUSE) + enc_bin(I_R) + enc_bin(N_R) + \
        enc_bin(N_I) + enc_uint(reason)
    return covered + enc_bin(mac(k_ri, covered))


def encode_control2(seq, block, key):
    covered = _head(KIND_CONTROL, 5, seq) + encode_control_block(block)
    return covered + enc_bin(mac(key, covered))


def data2_covered(seq, key_id, enc, reply_key=None, control=None):
    return (_head(KIND_DATA, 9, seq) + enc_bin(key_id) + enc_bin(enc) +
            (encode_offered_key(reply_key) if reply_key else NIL) +
            (encode_control_block(control) if control else NIL))


def seal_data2(seq, key_id, pk, plaintext, key, reply_key=None, control=None,
               aead=hpke.AEAD_CHACHA, ikmE=None):
    """A version 2 data frame: MAC under `key` over the header, then the payload sealed to the
    one-time key with info "cryptcom/2 one-time key" and aad = everything up to the ciphertext's
    bin header, the mac included (§12.3)."""
    shared, enc = hpke.encap(pk, ikmE)
    ctx, _, _ = hpke.key_schedule(hpke.MODE_BASE, aead, shared, INFO_DATA)
    covered = data2_covered(seq, key_id, enc, reply_key, control)
    aad = covered + enc_bin(mac(key, covered))
    return aad + enc_bin(ctx.seal(aad, plaintext))


# ---------------------------------------------------------------------------------------------
# Strict decoding (§2 rules; §12.2's order: header, version, kind, step, then the count)

def decode_frame2(buf, limits=None):
    """Returns one of the dataclasses above; raises FrameError (VersionError for another
    version). Every failure means: drop, count, never answer (§12.6), except a version 1 frame."""
    limits = limits or Limits()
    buf = bytes(buf)
    r = Reader(buf)
    try:
        n, version, kind, kind_at = read_head(r)
        if version != VERSION2:
            raise VersionError(version, f"version {version}")
        if kind not in (KIND_CONTROL, KIND_DATA, KIND_HANDSHAKE):
            raise FrameError("unknown_kind", f"offset {kind_at}: kind {kind}")
        if kind == KIND_HANDSHAKE:
            if n < 3:
                r._fail(f"handshake frame of {n} elements")
            start = r.pos
            step = r.uint("step", 3)
            if n != HANDSHAKE_COUNT[step]:
                r._fail(f"handshake step {step} of {n} elements, expected "
                        f"{HANDSHAKE_COUNT[step]}", offset=0)
            return _handshake(r, buf, step)
        if kind == KIND_CONTROL:
            if n != 5:
                r._fail(f"control frame of {n} elements, expected 5")
        elif n != 9:
            r._fail(f"data frame of {n} elements, expected 9")
        start = r.pos
        seq = r.uint("seq", U64)
        if seq == 0:
            r._fail("seq 0", offset=start)
        if kind == KIND_CONTROL:
            block = decode_control_block(r, limits)
            covered = buf[:r.pos]
            tag = r.bin("mac", MAC_BYTES)
            r.end()
            return Control2(seq, block, tag, covered)
        key_id = r.bin("key_id", 16)
        if len(buf) > limits.max_frame_bytes:
            r._fail(f"frame of {len(buf)} bytes above {limits.max_frame_bytes}",
                    code="message_too_large")
        enc = r.bin("enc", 32)
        reply_key = None if r.nil() else _offered_key(r, "reply_key")
        control = None if r.nil() else decode_control_block(r, limits)
        covered = buf[:r.pos]
        tag = r.bin("mac", MAC_BYTES)
        aad_end = r.pos
        ct = r.bin("ciphertext")
        if len(ct) < TAG:
            r._fail(f"ciphertext of {len(ct)} bytes, shorter than the tag", offset=aad_end)
        r.end()
        return Data2(seq, key_id, enc, reply_key, control, tag, covered, ct, buf[:aad_end])
    except DecodeError as e:
        raise FrameError(e.code, str(e)) from e


def _handshake(r, buf, step):
    instance = r.bin("instance", 16)
    if step == STEP_HELLO_REQUEST:
        r.end()
        return HelloRequest(instance)
    nonce = r.bin("nonce", 16)
    if step == STEP_INITIATE:
        enc = r.bin("enc", 32)
        identity_aad = buf[:r.pos]
        sealed = r.bin("sealed_identity", SEALED_IDENTITY_BYTES)
        covered = buf[:r.pos]
        tag = r.bin("mac", MAC_BYTES)
        r.end()
        return Initiate(instance, nonce, enc, sealed, tag, covered, identity_aad)
    peer_nonce = r.bin("peer_nonce", 16)
    reason = None
    if step == STEP_REFUSE:
        start = r.pos
        reason = r.uint("reason", 255)
        if reason == 0:
            r._fail("reason 0", offset=start)
    covered = buf[:r.pos]
    tag = r.bin("mac", MAC_BYTES)
    r.end()
    if step == STEP_ACCEPT:
        return Accept(instance, nonce, peer_nonce, tag, covered)
    return Refuse(instance, nonce, peer_nonce, reason, tag, covered)


def open_identity(s_R, f: Initiate):
    """§12.4 step 2: decapsulates sealed_identity with the responder's static secret; returns
    S_I (raises HpkeError on failure: the frame is dropped)."""
    S_I = hpke.open_base(f.enc, s_R, INFO_IDENTITY, f.identity_aad, f.sealed_identity)
    if len(S_I) != 32:
        raise hpke.HpkeError("sealed identity is not a public key")
    return S_I
