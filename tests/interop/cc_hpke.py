"""RFC 9180 HPKE, written for this interop test: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, and the
AEADs ChaCha20-Poly1305 / AES-128-GCM / AES-256-GCM / export-only. The key schedule
(LabeledExtract / LabeledExpand) is built on the standard library's HMAC-SHA256; X25519 and the
AEADs come from python3-cryptography.
"""

import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

KEM_X25519 = 0x0020
KDF_SHA256 = 0x0001
AEAD_AES128GCM = 0x0001
AEAD_AES256GCM = 0x0002
AEAD_CHACHA = 0x0003
AEAD_EXPORT_ONLY = 0xFFFF

MODE_BASE = 0x00
MODE_PSK = 0x01

NH = 32
NN = 12
NK = {AEAD_AES128GCM: 16, AEAD_AES256GCM: 32, AEAD_CHACHA: 32, AEAD_EXPORT_ONLY: 0}


class HpkeError(Exception):
    pass


def i2osp(n, w):
    return n.to_bytes(w, "big")


def hkdf_extract(salt, ikm):
    if not salt:
        salt = b"\x00" * NH
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def labeled_extract(suite_id, salt, label, ikm):
    return hkdf_extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id, prk, label, info, length):
    return hkdf_expand(prk, i2osp(length, 2) + b"HPKE-v1" + suite_id + label + info, length)


KEM_SUITE = b"KEM" + i2osp(KEM_X25519, 2)


def hpke_suite(aead_id):
    return b"HPKE" + i2osp(KEM_X25519, 2) + i2osp(KDF_SHA256, 2) + i2osp(aead_id, 2)


def public_of(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def derive_key_pair(ikm):
    """RFC 9180 §7.1.3 DeriveKeyPair for X25519: (sk, pk)."""
    prk = labeled_extract(KEM_SUITE, b"", b"dkp_prk", ikm)
    sk = labeled_expand(KEM_SUITE, prk, b"sk", b"", 32)
    return sk, public_of(sk)


def generate_key_pair():
    sk = X25519PrivateKey.generate()
    return (sk.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption()),
            sk.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw))


def dh(sk, pk):
    try:
        out = X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))
    except ValueError as e:  # OpenSSL refuses an all-zero result
        raise HpkeError("low_order_point") from e
    if out == b"\x00" * 32:
        raise HpkeError("low_order_point")
    return out


def extract_and_expand(dh_value, kem_context):
    prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh_value)
    return labeled_expand(KEM_SUITE, prk, b"shared_secret", kem_context, 32)


def encap(pkR, ikmE=None):
    skE, pkE = derive_key_pair(ikmE) if ikmE is not None else generate_key_pair()
    shared = extract_and_expand(dh(skE, pkR), pkE + pkR)
    return shared, pkE


def decap(enc, skR):
    pkR = public_of(skR)
    return extract_and_expand(dh(skR, enc), enc + pkR)


class Context:
    def __init__(self, aead_id, key, base_nonce, exporter_secret):
        self.aead_id, self.key, self.base_nonce, self.exporter_secret = (
            aead_id, key, base_nonce, exporter_secret)
        self.seq = 0

    def _aead(self):
        if self.aead_id == AEAD_CHACHA:
            return ChaCha20Poly1305(self.key)
        if self.aead_id in (AEAD_AES128GCM, AEAD_AES256GCM):
            return AESGCM(self.key)
        raise HpkeError("export-only context cannot seal or open")

    def _nonce(self):
        return bytes(a ^ b for a, b in zip(self.base_nonce, i2osp(self.seq, NN)))

    def seal(self, aad, pt):
        ct = self._aead().encrypt(self._nonce(), pt, aad)
        self.seq += 1
        return ct

    def open(self, aad, ct):
        try:
            pt = self._aead().decrypt(self._nonce(), ct, aad)
        except Exception as e:
            raise HpkeError("authentication_failed") from e
        self.seq += 1
        return pt

    def export(self, exporter_context, length):
        return labeled_expand(hpke_suite(self.aead_id), self.exporter_secret, b"sec",
                              exporter_context, length)


def key_schedule(mode, aead_id, shared_secret, info, psk=b"", psk_id=b""):
    """Returns (context, key_schedule_context, secret)."""
    suite = hpke_suite(aead_id)
    psk_id_hash = labeled_extract(suite, b"", b"psk_id_hash", psk_id)
    info_hash = labeled_extract(suite, b"", b"info_hash", info)
    ksc = bytes([mode]) + psk_id_hash + info_hash
    secret = labeled_extract(suite, shared_secret, b"secret", psk)
    key = labeled_expand(suite, secret, b"key", ksc, NK[aead_id])
    base_nonce = labeled_expand(suite, secret, b"base_nonce", ksc, NN) if aead_id != AEAD_EXPORT_ONLY else b""
    exporter_secret = labeled_expand(suite, secret, b"exp", ksc, NH)
    return Context(aead_id, key, base_nonce, exporter_secret), ksc, secret


def seal_base(pkR, info, aad, pt, aead_id=AEAD_CHACHA, ikmE=None):
    """Single-shot base-mode seal: (enc, ct)."""
    shared, enc = encap(pkR, ikmE)
    ctx, _, _ = key_schedule(MODE_BASE, aead_id, shared, info)
    return enc, ctx.seal(aad, pt)


def open_base(enc, skR, info, aad, ct, aead_id=AEAD_CHACHA):
    shared = decap(enc, skR)
    ctx, _, _ = key_schedule(MODE_BASE, aead_id, shared, info)
    return ctx.open(aad, ct)
