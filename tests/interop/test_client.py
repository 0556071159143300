"""This package's peer as a client (ZeroMQ DEALER) against the C++ `echo_server` over tcp."""

import pytest

from cc_peer import Peer
from cc_wire import Hello
from conftest import Spawned, check_hellos, free_port

SIZES = [0, 1, 1024, 65536, 1 << 20]
MULTIPART = [
    [b"", b"abcd"],                 # a leading empty part
    [b"a", b"", b"b"],              # an empty part in the middle
    [b"abcd", b""],                 # an empty part at the end
    [b"", b"abcd", b""],            # README/§11.3's example
    [b"", b"", b""],                # only empty parts
    [bytes([i]) * i for i in range(1, 20)],
]


@pytest.fixture(scope="module", params=["push", "pull"])
def server(request, examples):
    ep = f"tcp://127.0.0.1:{free_port()}"
    p = Spawned([examples["echo_server"], "--bind", ep, "--flow", request.param, "--quiet"])
    yield request.param, ep
    p.stop()


def echo(peer, parts, pull, timeout=10.0):
    n0 = len(peer.messages())
    out = peer.send((), parts, pull=pull)
    peer.pump(lambda: len(peer.messages()) > n0, timeout, what=f"echo of {len(parts)} parts")
    _, _, got, key_id, sealed_to_reply_key, reply_key = peer.messages()[n0]
    assert got == parts
    # The echo is sealed to the key §9 says: the reply key we attached (pull), else an offered one
    assert sealed_to_reply_key == pull
    assert reply_key is None, "§9: a message sealed to a reply key carries no reply key"
    peer.pump(lambda: peer.acked(out.key_id), timeout, what="acknowledgement")
    return out


@pytest.mark.parametrize("size", SIZES)
def test_echo_sizes(server, zctx, size):
    flow, ep = server
    peer = Peer(zctx, "dealer")
    peer.connect(ep)
    try:
        echo(peer, [bytes((i * 7 + 3) & 0xFF for i in range(size))], pull=(flow == "pull"))
        check_hellos(peer.state(()))
    finally:
        peer.close()


def test_echo_multipart(server, zctx):
    flow, ep = server
    peer = Peer(zctx, "dealer")
    peer.connect(ep)
    try:
        for parts in MULTIPART:
            echo(peer, parts, pull=(flow == "pull"))
    finally:
        peer.close()


def test_fifty_in_a_row(server, zctx):
    """50 messages sent at once; every echo comes back exactly once, each ours is acknowledged,
    and since ours acknowledge the echoes, nothing is retransmitted to us (the reference resends
    an unacknowledged frame after 2 s, to the same key: our peer would answer replayed_key)."""
    flow, ep = server
    pull = flow == "pull"
    peer = Peer(zctx, "dealer", grant=64)
    peer.connect(ep)
    try:
        outs = [peer.send((), [f"#{i}".encode(), b"x" * i], pull=pull) for i in range(50)]
        peer.pump(lambda: len(peer.messages()) >= 50, 20, what="50 echoes")
        got = sorted(int(m[2][0][1:]) for m in peer.messages())
        assert got == list(range(50))
        for m in peer.messages():
            i = int(m[2][0][1:])
            assert m[2] == [f"#{i}".encode(), b"x" * i] and m[4] == pull
        peer.pump(lambda: all(peer.acked(o.key_id) for o in outs), 10, what="50 acks")
        peer.drain(2.6)
        assert len(peer.messages()) == 50
        assert not [e for e in peer.events if e[0] in ("sent_rejection", "rejected",
                                                       "frame_error")], peer.events
        assert len({o.key_id for o in outs}) == 50, "each key used once"
        check_hellos(peer.state(()))
    finally:
        peer.close()
