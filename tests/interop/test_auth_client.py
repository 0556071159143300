"""Version 2 (§12): this package's initiator (a DEALER with an identity and the server's key)
against the C++ `echo_server --identity --allow`, over tcp."""

import os
import time

import pytest
import zmq

import cc_auth as auth
import cc_auth_peer as auth_peer
from cc_auth_peer import AuthPeer
from cc_peer import Peer
from cc_wire import ControlBlock, Hello, encode_control_frame, encode_payload
from conftest import Spawned, check_hellos_v2, free_port


def start_server(examples, identities, flow="push"):
    ep = f"tcp://127.0.0.1:{free_port()}"
    p = Spawned([examples["echo_server"], "--bind", ep, "--flow", flow, "--quiet",
                 "--identity", identities["server"].file, "--allow", identities["alice"].z85])
    return p, ep


@pytest.fixture(scope="module", params=["push", "pull"])
def server(request, examples, identities):
    p, ep = start_server(examples, identities, request.param)
    yield request.param, ep
    p.stop()


@pytest.fixture(scope="module")
def push_server(examples, identities):
    """For the tests whose point does not depend on the flow."""
    p, ep = start_server(examples, identities)
    yield "push", ep
    p.stop()


@pytest.fixture
def initiator(zctx, identities):
    peers = []

    def make(name="alice", ep=None, **kw):
        peer = AuthPeer(zctx, "dealer", identities[name].secret,
                        server_key=identities["server"].public, **kw)
        peer.connect(ep)
        peers.append(peer)
        return peer

    yield make
    for p in peers:
        p.close()


def raw_dealer(zctx, ep):
    s = zctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(ep)
    return s


def recv_frames(sock, seconds, until=None):
    """Every frame that arrives within `seconds` (or the first `until` frames, sooner)."""
    out, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0 and len(out) != until:
        if sock.poll(int(left * 1000) + 1, zmq.POLLIN):
            out.append(sock.recv_multipart()[-1])
    return out


def established(peer, timeout=10):
    peer.pump(lambda: () in peer.sessions, timeout, what="the handshake")
    return peer.sessions[()]


def test_handshake_keys_message_ack_and_echo(server, initiator, identities):
    """§12.4 end to end: initiate, accept, our first control frame (hello, key request), the
    server's offers, one message sealed under info "cryptcom/2 one-time key", its
    acknowledgement and the echo (sealed to our reply key when pulled), which we acknowledge."""
    flow, ep = server
    pull = flow == "pull"
    peer = initiator(ep=ep)
    parts = [b"", b"authenticated", b"\x00" * 300]
    out = peer.send((), parts, pull=pull)
    assert [e[0] for e in peer.events] == ["initiate"], "nothing but an initiate before a session"
    assert len(peer.sent) == 1 and peer.sent[0][1][:4] == b"\x98\x02\x03\x01"

    s = established(peer)
    assert s.S_R == identities["server"].public and s.S_I == identities["alice"].public
    assert s.I_I == peer.instance and len(s.I_R) == 16
    # §12.4 step 3: the first frame under the session is a control frame, seq 1, key request.
    first = auth.decode_frame2(peer.sent[1][1])
    assert isinstance(first, auth.Control2) and first.seq == 1 and first.block.wanted > 0
    assert first.block.hello.max_version == 2

    peer.pump(lambda: peer.messages(), 10, what="the echo")
    _, _, got, key_id, sealed_to_reply_key, reply_key = peer.messages()[0]
    assert got == parts
    assert sealed_to_reply_key == pull and reply_key is None
    peer.pump(lambda: peer.acked(out.key_id), 10, what="the acknowledgement")
    peer.flush(())                                         # our acknowledgement of the echo
    assert not peer.state(()).acks_out

    # Every frame the server sent under the session verified, numbered 1, 2, 3, ... (§12.4),
    # its blocks name its instance I_R and say max_version 2 (§12.2).
    assert s.recv_seqs == list(range(1, len(s.recv_seqs) + 1)), s.recv_seqs
    assert {b.instance for _, b in peer.state(()).blocks} == {s.I_R}
    check_hellos_v2(peer.state(()))
    # Ours went out 1, 2, 3, ... too, and nothing was refused or dropped on our side.
    assert s.sent_seqs == list(range(1, len(s.sent_seqs) + 1))
    assert not [e for e in peer.events if e[0] in ("dropped", "frame_error", "rejected",
                                                   "sent_rejection", "hello_not_v2")], peer.events


def test_many_messages_one_session(server, initiator):
    """20 messages at once over one handshake: each echoed once, each acknowledged; (push) after
    2.5 s (the reference retransmits unacknowledged frames after 2 s) no copy of an echo arrived,
    so the server verified our acknowledgements (they ride on frames with our seq and MAC)."""
    flow, ep = server
    peer = initiator(ep=ep)
    outs = [peer.send((), [f"#{i}".encode()], pull=(flow == "pull")) for i in range(20)]
    peer.pump(lambda: len(peer.messages()) >= 20, 15, what="20 echoes")
    assert sorted(m[2][0] for m in peer.messages()) == sorted(f"#{i}".encode() for i in range(20))
    peer.pump(lambda: all(peer.acked(o.key_id) for o in outs), 10, what="20 acks")
    if flow == "push":                                   # once is enough for this point
        peer.drain(2.5)
    assert len(peer.messages()) == 20
    assert len([e for e in peer.events if e[0] == "initiate"]) == 1
    assert not [e for e in peer.events if e[0] in ("dropped", "frame_error", "rejected",
                                                   "sent_rejection")], peer.events


def test_not_on_allow_list_is_refused_with_a_verified_mac(push_server, initiator, identities):
    """§12.4 step 2: a proven identity the server does not accept gets a refuse, reason 17
    access_denied, whose MAC verifies under the k_ri an accept would have had; the initiator
    gives up its queued messages and no session exists."""
    _, ep = push_server
    peer = initiator("mallory", ep=ep)
    peer.send((), [b"let me in"])
    peer.pump(lambda: any(e[0] == "refused" for e in peer.events), 10, what="the refuse")
    refused = next(e for e in peer.events if e[0] == "refused")
    assert refused[2] == auth.ACCESS_DENIED
    assert () not in peer.sessions and not peer.state(()).queue
    assert any(e[0] == "undeliverable" and e[3] == "access_denied" for e in peer.events)
    assert not [e for e in peer.events if e[0] == "dropped"], peer.events
    # The refuse itself, checked apart from the peer's logic: [2, 3, 3, I_R, N_R, N_I, 17, mac]
    # with the MAC under k_ri of th = S_I || S_R || I_I || I_R || N_I || N_R (§12.3).
    assert len(peer.received) == 1
    f = auth.decode_frame2(peer.received[0][1])
    assert isinstance(f, auth.Refuse) and f.reason == 17
    initiate = auth.decode_frame2(peer.sent[0][1])
    assert f.peer_nonce == initiate.nonce and f.nonce != initiate.nonce
    prk = auth.static_prk(identities["mallory"].secret, identities["server"].public)
    _, k_ri = auth.derive_session_keys(prk, auth.transcript(
        identities["mallory"].public, identities["server"].public, peer.instance, f.instance,
        initiate.nonce, f.nonce))
    assert auth.mac(k_ri, f.covered) == f.mac
    # Nothing else comes: the server keeps nothing of the handshake.
    peer.drain(0.3)
    assert peer.frames_in == 1


def test_version_1_frame_gets_a_hello_request(push_server, zctx, initiator):
    """§12.6: a version 1 frame to an endpoint with an identity is dropped and answered only by a
    hello_request carrying its instance id, at most once per second per peer."""
    _, ep = push_server
    sock = raw_dealer(zctx, ep)
    try:
        block = ControlBlock(os.urandom(16), 8, [], [], [], Hello())
        sock.send(encode_control_frame(block))
        got = recv_frames(sock, 2.0, until=1)
        assert len(got) == 1, got
        hr = auth.decode_frame2(got[0])
        assert isinstance(hr, auth.HelloRequest)
        # Two more within the same second: no second hello_request, no offer, nothing.
        sock.send(encode_control_frame(block))
        sock.send(encode_control_frame(block))
        assert recv_frames(sock, 0.5) == []
        # After the second is over, the next version 1 frame is answered again.
        time.sleep(0.6)
        sock.send(encode_control_frame(block))
        got = recv_frames(sock, 2.0, until=1)
        assert [auth.decode_frame2(f) for f in got] == [hr]
        # The instance it names is the server's: the one an accept names.
        peer = initiator(ep=ep)
        peer.start_handshake()
        assert established(peer).I_R == hr.instance
    finally:
        sock.close(0)


def test_version_1_peer_learns_nothing_but_a_hello_request(push_server, zctx):
    """A base-mode Peer against the authenticated server: its key request gets no offer; what
    comes back is a frame of another version (§3: unsupported_version, dropped)."""
    _, ep = push_server
    peer = Peer(zctx, "dealer")
    peer.connect(ep)
    try:
        peer.request_keys((), 8)
        peer.pump(lambda: peer.events, 3, what="an answer")
        assert peer.events == [("frame_error", (), "unsupported_version", None)]
        assert not peer.state(()).keys
    finally:
        peer.close()


def test_session_frame_without_session_gets_a_hello_request(push_server, zctx):
    """§12.4 step 4: a version 2 control frame from a peer the server has no session with (a MAC
    under a key it never agreed) is dropped and answered with a hello_request."""
    _, ep = push_server
    sock = raw_dealer(zctx, ep)
    try:
        block = ControlBlock(os.urandom(16), 8, [], [], [], Hello(max_version=2))
        sock.send(auth.encode_control2(1, block, os.urandom(32)))
        got = recv_frames(sock, 1.0)
        assert [type(auth.decode_frame2(f)) for f in got] == [auth.HelloRequest]
    finally:
        sock.close(0)


def test_hello_request_to_an_initiator_renews_the_session(push_server, initiator):
    """§12.4 step 4 and §12.5: a hello_request makes the initiator handshake again; the new
    session between the same instances carries keys and messages over (seq starts at 1)."""
    _, ep = push_server
    peer = initiator(ep=ep)
    peer.send((), [b"one"])
    peer.pump(lambda: peer.messages(), 10, what="the first echo")
    first = peer.sessions[()]
    time.sleep(HELLO_GAP)
    peer.handle((), auth.encode_hello_request(first.I_R))   # as if the server had asked
    peer.pump(lambda: peer.sessions[()] is not first, 10, what="a new session")
    second = peer.sessions[()]
    assert second.I_R == first.I_R and second.N_R != first.N_R
    assert not any(e[0] == "restart" for e in peer.events)
    peer.send((), [b"two"])                             # to a key offered in the first session
    peer.pump(lambda: len(peer.messages()) >= 2, 10, what="the second echo")
    assert peer.messages()[1][2] == [b"two"]
    assert not [e for e in peer.events if e[0] in ("rejected", "dropped")], peer.events
    assert second.recv_seqs[0] == 1 and second.sent_seqs[0] == 1


HELLO_GAP = 1.05   # §12.4: an initiator answers hello_requests at most once per key_request_retry


def test_bad_mac_dropped_unanswered_bad_ciphertext_rejected(push_server, initiator):
    """§12.6: a data frame whose MAC fails is dropped and never answered (no rejection); one
    whose MAC verifies but whose ciphertext does not open gets an authenticated rejection
    authentication_failed, keeps its key live, and does not use up its seq (§12.4)."""
    _, ep = push_server
    peer = initiator(ep=ep)
    peer.start_handshake()
    s = established(peer)
    peer.pump(lambda: len(peer.state(()).keys) >= 2, 10, what="offers")
    kid, pk, _ = peer.take_key(())
    pt = encode_payload([b"genuine"])
    seq = s.take_seq()
    frame = auth.seal_data2(seq, kid, pk, pt, s.send_key)
    bad_mac = bytearray(frame)
    bad_mac[0x40] ^= 1                                    # inside the mac (0x3c-0x5b)
    peer.send_raw((), bytes(bad_mac))
    peer.drain(0.5)
    assert not peer.rejections_of(kid) and not peer.messages()
    bad_ct = bytearray(frame)
    bad_ct[-1] ^= 1
    peer.send_raw((), bytes(bad_ct))
    peer.pump(lambda: peer.rejections_of(kid), 5, what="a rejection")
    assert peer.rejections_of(kid) == ["authentication_failed"]
    peer.send_raw((), frame)                             # same seq, same key: still accepted
    peer.pump(lambda: peer.messages(), 5, what="the echo")
    assert peer.messages()[0][2] == [b"genuine"]
    peer.pump(lambda: peer.acked(kid), 5, what="the acknowledgement")


def test_replayed_seq_is_dropped(push_server, initiator):
    """§12.4: a frame whose seq is not above the highest accepted is dropped: a copy of an opened
    data frame under an old seq is neither echoed nor acknowledged again."""
    _, ep = push_server
    peer = initiator(ep=ep)
    peer.send((), [b"once"])
    peer.pump(lambda: peer.messages(), 10, what="the echo")
    out_frame = next(f for _, f in peer.sent
                     if isinstance(auth.decode_frame2(f), auth.Data2))
    kid = auth.decode_frame2(out_frame).key_id
    peer.pump(lambda: peer.acked(kid), 5, what="the acknowledgement")
    acks = peer.ack_count(kid)
    peer.send_raw((), out_frame)
    peer.drain(0.6)
    assert len(peer.messages()) == 1 and peer.ack_count(kid) == acks
    assert not peer.rejections_of(kid)


def test_pending_session_is_not_a_session(push_server, zctx, identities):
    """§12.4 step 2 and 4: after an accept the server holds the session as pending; a frame that
    does not verify under it is answered with a hello_request (the server has no session yet),
    and the frame that does verify establishes it."""
    _, ep = push_server
    peer = AuthPeer(zctx, "dealer", identities["alice"].secret,
                    server_key=identities["server"].public)
    peer.connect(ep)
    try:
        peer.start_handshake()                 # the rest by hand: the peer's logic would answer
        nonce, prk, _ = peer.initiates[()]
        got = recv_frames(peer.sock, 5.0, until=1)
        accept = auth.decode_frame2(got[0])
        s = auth_peer.Session(prk, peer.public, identities["server"].public, peer.instance,
                              accept.instance, nonce, accept.nonce, True)
        assert isinstance(accept, auth.Accept) and auth.mac_ok(s.k_ri, accept.covered, accept.mac)
        block = ControlBlock(peer.instance, 8, [], [], [], Hello(max_version=2))
        peer.send_raw((), auth.encode_control2(1, block, os.urandom(32)))
        got = recv_frames(peer.sock, 5.0, until=1)
        assert [auth.decode_frame2(f) for f in got] == [auth.HelloRequest(accept.instance)]
        peer.send_raw((), auth.encode_control2(1, block, s.k_ir))   # seq 1 is still unused
        got = recv_frames(peer.sock, 5.0, until=1)
        assert got, "no answer to the frame that verifies under the pending session"
        f = auth.decode_frame2(got[0])
        assert isinstance(f, auth.Control2) and f.seq == 1 and auth.mac_ok(s.k_ri, f.covered, f.mac)
        assert f.block.instance == accept.instance and len(f.block.offers) == 8
    finally:
        peer.close()


def test_block_naming_another_instance_is_dropped(push_server, initiator):
    """§12.2: a block of a version 2 frame must name the sender's instance of the session; one
    naming another is malformed and the frame dropped (no offers), and it uses up no seq."""
    _, ep = push_server
    peer = initiator(ep=ep, grant=8)                       # asks for 8: far from its allowance
    peer.start_handshake()
    s = established(peer)
    peer.pump(lambda: len(peer.state(()).keys) >= 8, 5, what="the first offers")
    n = len(peer.state(()).keys)
    peer.send_raw((), auth.encode_control2(
        s.take_seq(), ControlBlock(os.urandom(16), 8, [], [], [], Hello(max_version=2)),
        s.send_key))
    peer.drain(0.5)
    assert len(peer.state(()).keys) == n and not [e for e in peer.events if e[0] == "restart"]
    peer.send_raw((), auth.encode_control2(
        s.take_seq(), ControlBlock(peer.instance, 8, [], [], [], Hello(max_version=2)),
        s.send_key))
    peer.pump(lambda: len(peer.state(()).keys) > n, 5, what="offers for the genuine block")
