"""Frames the C++ `echo_server` must refuse, produced by this package's peer, and what §3, §4 and
§9 say must come back; plus the hello/AEAD negotiation of §4 and §8."""

import os

import pytest

import cc_hpke as hpke
from cc_msgpack import enc_array_header, enc_bin, enc_uint, NIL
from cc_peer import Peer
from cc_wire import Hello, encode_control_frame, encode_payload, INFO
from conftest import Spawned, free_port


@pytest.fixture(scope="module")
def endpoint(examples):
    ep = f"tcp://127.0.0.1:{free_port()}"
    p = Spawned([examples["echo_server"], "--bind", ep, "--quiet"])
    yield ep
    p.stop()


@pytest.fixture
def client(zctx, endpoint):
    peers = []

    def make(**kw):
        peer = Peer(zctx, "dealer", **kw)
        peer.connect(endpoint)
        peer.request_keys((), 64)
        peer.pump(lambda: len(peer.state(()).keys) >= 8, 10, what="offers")
        peers.append(peer)
        return peer

    yield make
    for p in peers:
        p.close()


def key(peer):
    kid, pk, _ = peer.take_key(())
    return kid, pk


def rejection(peer, kid, timeout=5):
    peer.pump(lambda: peer.rejections_of(kid), timeout, what="a rejection")
    return peer.rejections_of(kid)


def expect_echo(peer, kid, parts, timeout=5):
    peer.pump(lambda: any(m[2] == parts for m in peer.messages()), timeout, what="the echo")
    peer.pump(lambda: peer.acked(kid), timeout, what="the acknowledgement")


def test_trailing_byte_is_malformed_and_key_stays_live(client):
    peer = client()
    kid, pk = key(peer)
    frame = peer.seal_frame(kid, pk, encode_payload([b"genuine"]))
    peer.send_raw((), frame + b"\x00")
    assert rejection(peer, kid) == ["malformed_frame"]
    assert not peer.messages()
    peer.send_raw((), frame)                        # the genuine copy opens under the same key
    expect_echo(peer, kid, [b"genuine"])


def test_tampered_frame_fails_authentication_and_key_stays_live(client):
    peer = client()
    kid, pk = key(peer)
    frame = peer.seal_frame(kid, pk, encode_payload([b"genuine"]))
    bad = bytearray(frame)
    bad[-1] ^= 0x01
    peer.send_raw((), bytes(bad))
    assert rejection(peer, kid) == ["authentication_failed"]
    peer.send_raw((), frame)
    expect_echo(peer, kid, [b"genuine"])


@pytest.mark.parametrize("plaintext", [
    b"\x90",                                # empty array
    b"\x91\xa2hi",                         # a str part
    b"\x91\xc4\x02hi\x00",                 # trailing byte after the payload
    b"\xc4\x02hi",                         # not an array
    b"",                                   # nothing
], ids=["empty", "str-part", "trailing", "not-array", "no-bytes"])
def test_invalid_payload_is_invalid_argument(client, plaintext):
    peer = client()
    kid, pk = key(peer)
    peer.send_raw((), peer.seal_frame(kid, pk, plaintext))
    assert rejection(peer, kid) == ["invalid_argument"]
    assert not peer.acked(kid)
    # The key is used up (§4); a frame under it again gets the same answer (§9), nothing opens.
    peer.send_raw((), peer.seal_frame(kid, pk, encode_payload([b"x"])))
    peer.pump(lambda: len(peer.rejections_of(kid)) >= 2, 5, what="second rejection")
    assert peer.rejections_of(kid)[1] == "invalid_argument"
    assert not peer.acked(kid)
    assert not peer.messages()


def test_max_parts_boundary(client):
    peer = client()
    hello = peer.state(()).hello
    assert hello is not None and hello.max_parts == 1000
    kid, pk = key(peer)
    peer.send_raw((), peer.seal_frame(kid, pk, encode_payload([b""] * (hello.max_parts + 1))))
    assert rejection(peer, kid) == ["limit_exceeded"]
    kid, pk = key(peer)                     # exactly max_parts is fine
    peer.send_raw((), peer.seal_frame(kid, pk, encode_payload([b""] * hello.max_parts)))
    expect_echo(peer, kid, [b""] * hello.max_parts, timeout=10)


def test_replayed_frame_is_refused_and_not_delivered_twice(client):
    peer = client()
    kid, pk = key(peer)
    frame = peer.seal_frame(kid, pk, encode_payload([b"once"]))
    peer.send_raw((), frame)
    expect_echo(peer, kid, [b"once"])
    acks_before = peer.ack_count(kid)
    # A copy of a delivered message (§9): acknowledged again, not delivered again, not rejected.
    peer.send_raw((), frame)
    peer.pump(lambda: peer.ack_count(kid) > acks_before, 5, what="a second acknowledgement")
    peer.drain(0.3)
    assert len(peer.messages()) == 1
    assert not peer.rejections_of(kid)


def test_unknown_key(client):
    peer = client()
    _, pk = hpke.generate_key_pair()
    kid = os.urandom(16)
    peer.send_raw((), peer.seal_frame(kid, pk, encode_payload([b"x"])))
    assert rejection(peer, kid) == ["unknown_key"]


def test_key_of_another_connection(client):
    owner, thief = client(), client()
    kid, pk = key(owner)
    thief.send_raw((), thief.seal_frame(kid, pk, encode_payload([b"stolen"])))
    assert rejection(thief, kid) == ["unknown_key"]
    assert not thief.messages()
    owner.send_raw((), owner.seal_frame(kid, pk, encode_payload([b"mine"])))
    expect_echo(owner, kid, [b"mine"])


def test_other_version_and_kind_are_dropped_unanswered(client):
    """§3: unsupported_version / unknown_kind: dropped, nothing sent back, no key touched."""
    peer = client()
    kid, pk = key(peer)
    frame = peer.seal_frame(kid, pk, encode_payload([b"after"]))
    peer.send_raw((), b"\x97\x02" + frame[2:])           # version 2, same layout
    peer.send_raw((), b"\x97\x01\x03" + frame[3:])       # kind 3
    peer.send_raw((), b"\x92\x01")                       # malformed, no key id: dropped
    n = peer.frames_in
    peer.drain(0.5)
    assert peer.frames_in == n and not peer.rejections_of(kid)
    peer.send_raw((), frame)
    expect_echo(peer, kid, [b"after"])


def test_wide_encodings_are_accepted_and_authenticated(client):
    """§2: any integer/bin/array width is accepted; §5: the associated data is the bytes as
    written, whatever widths the sender chose."""
    peer = client()
    kid, pk = key(peer)
    payload = enc_array_header(2, 32) + enc_bin(b"wide", 32) + enc_bin(b"", 16)
    shared, enc = hpke.encap(pk)
    ctx, _, _ = hpke.key_schedule(0, hpke.AEAD_CHACHA, shared, INFO)
    aad = (enc_array_header(7, 16) + enc_uint(1, "u64") + enc_uint(2, "i32") + enc_bin(kid, 16) +
           enc_bin(enc, 32) + NIL + NIL)
    ct = ctx.seal(aad, payload)
    peer.send_raw((), aad + enc_bin(ct, 32))
    expect_echo(peer, kid, [b"wide", b""])


def test_peer_without_hello_interoperates(client):
    """§4: blocks of 5 elements (a peer of the first publication, which never sends a hello)
    are valid; the C++ side then seals to our keys with ChaCha20-Poly1305 (§8) and knows no
    limits. Our key request, our offers and our acks all travel without a hello."""
    peer = client(send_hello=False)
    for pull in (False, True):
        out = peer.send((), [b"old", b""], pull=pull)
        peer.pump(lambda: len(peer.messages()) == 1 + pull, 5, what="echo")
        assert peer.messages()[-1][2] == [b"old", b""]
        peer.pump(lambda: peer.acked(out.key_id), 5, what="ack")
    assert all(b.hello is not None for _, b in peer.state(()).blocks)
    assert not [e for e in peer.events if e[0] in ("rejected", "sent_rejection")]


def cpu_has_aes():
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return " aes" in flags and " pclmulqdq" in flags


@pytest.mark.parametrize("pull", [False, True], ids=["offered-key", "reply-key"])
def test_hello_announcing_aes256gcm(client, pull):
    """§4/§8: we announce AES-256-GCM; the C++ side must seal to our keys (offered and reply)
    with it. Our peer opens only with the AEAD it announced, so an echo that opens proves it."""
    peer = client(hello=Hello(aead=hpke.AEAD_AES256GCM))
    out = peer.send((), [b"aes"], pull=pull)
    if not cpu_has_aes():
        # §8: a sender whose CPU lacks AES-256-GCM reports the message undeliverable instead.
        peer.drain(1.0)
        assert not peer.messages()
        return
    peer.pump(lambda: peer.messages(), 5, what="an AES-256-GCM echo")
    msg = peer.messages()[0]
    assert msg[2] == [b"aes"] and msg[4] == pull
    peer.pump(lambda: peer.acked(out.key_id), 5, what="ack")
    assert not [e for e in peer.events if e[0] in ("sent_rejection", "frame_error")]


def test_announced_limits_are_honoured(client):
    """§4: once it has our hello, the C++ side refuses to send us a message above our
    max_message_bytes or max_parts: the echo is not sent (reported undeliverable on its side),
    while messages within the limits still are."""
    peer = client(hello=Hello(max_message_bytes=16, max_parts=2))
    peer.send((), [b"x" * 16])
    peer.pump(lambda: peer.messages(), 5, what="echo within the limits")
    peer.send((), [b"x" * 17])            # above max_message_bytes
    peer.send((), [b"a", b"b", b"c"])      # above max_parts
    peer.send((), [b"y" * 8, b"z" * 8])    # within both
    peer.pump(lambda: len(peer.messages()) == 2, 5, what="the last echo")
    peer.drain(0.5)
    assert [m[2] for m in peer.messages()] == [[b"x" * 16], [b"y" * 8, b"z" * 8]]
    assert not [e for e in peer.events if e[0] in ("sent_rejection", "frame_error")]
