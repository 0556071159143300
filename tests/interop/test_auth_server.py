"""Version 2 (§12): this package's responder (a ROUTER with an identity and an allow-list)
serving the C++ `echo_client --identity --server-key` over tcp."""

import time

import pytest

import cc_auth as auth
from cc_auth_peer import AuthPeer
from conftest import Spawned, check_hellos_v2, free_port, serve


@pytest.mark.parametrize("flow", ["push", "pull"])
def test_echo_client_against_python_responder(examples, zctx, identities, flow):
    ep = f"tcp://127.0.0.1:{free_port()}"
    me = identities["python_server"]
    peer = AuthPeer(zctx, "router", me.secret, allowed={identities["alice"].public})
    peer.bind(ep)
    peer.on_message = lambda p, path, parts: p.send(path, parts)
    try:
        client = Spawned([examples["echo_client"], "--connect", ep, "--flow", flow,
                          "--timeout", "5000", "--count", "10",
                          "--identity", identities["alice"].file, "--server-key", me.z85])
        rc, out = serve(peer, client, 30)
        assert rc == 0, out
        assert "frames rejected 0 |" in out, out
        msgs = peer.messages()
        assert len(msgs) == 10, (len(msgs), out)
        path = msgs[0][1]
        s = peer.sessions[path]
        assert s.S_I == identities["alice"].public and s.I_R == peer.instance
        assert s.recv_seqs == list(range(1, len(s.recv_seqs) + 1)), s.recv_seqs
        assert [e[0] for e in peer.events if e[0] in ("accepted", "established")] == \
            ["accepted", "established"], peer.events
        check_hellos_v2(peer.state(path))
        # §12.4 step 3: the client's first frame after our accept is under the session at once,
        # seq 1, a control frame with its hello (and its key request: it has messages queued).
        after = [f for p_, f in peer.received if p_ == path][1]
        first = auth.decode_frame2(after)
        assert isinstance(first, auth.Control2) and first.seq == 1, first
        assert first.block.hello is not None and first.block.wanted > 0
        st = peer.state(path)
        assert not st.unacked, f"{len(st.unacked)} echoes not acknowledged"
        assert all((m[5] is not None) == (flow == "pull") for m in msgs)
        assert not [e for e in peer.events if e[0] in ("dropped", "frame_error", "rejected",
                                                       "sent_rejection", "hello_not_v2")], \
            peer.events
    finally:
        peer.close()


def test_echo_client_not_allowed_is_refused(examples, zctx, identities):
    """Our responder refuses mallory with reason 17 (§12.4); the C++ client gives up: its
    messages are undeliverable and it exits non-zero without an echo."""
    ep = f"tcp://127.0.0.1:{free_port()}"
    me = identities["python_server"]
    peer = AuthPeer(zctx, "router", me.secret, allowed={identities["alice"].public})
    peer.bind(ep)
    try:
        client = Spawned([examples["echo_client"], "--connect", ep, "--timeout", "1500",
                          "--count", "1", "--identity", identities["mallory"].file,
                          "--server-key", me.z85])
        rc, out = serve(peer, client, 20)
        assert rc != 0, out
        assert not peer.messages() and not peer.sessions
        assert any(e[0] == "refusing" and e[2] == identities["mallory"].public
                   for e in peer.events), peer.events
    finally:
        peer.close()


def test_hello_request_makes_the_client_handshake_again(examples, zctx, identities):
    """§12.4 step 4 and §12.5, at the C++ initiator: a hello_request in the middle of a stream
    makes it send a new initiate (same instance, new nonce); the new session between the same
    instances carries everything over, and the stream completes."""
    ep = f"tcp://127.0.0.1:{free_port()}"
    me = identities["python_server"]
    peer = AuthPeer(zctx, "router", me.secret, allowed={identities["alice"].public})
    peer.bind(ep)

    def echo(p, path, parts):
        if len(p.messages()) == 3:
            # An initiator answers at most one hello_request per key_request_retry (1 s) after
            # its last initiate: wait that out, then ask.
            first_initiate = next(t for t, (_, f) in zip(arrivals, p.received)
                                  if f[:4] == b"\x98\x02\x03\x01")
            time.sleep(max(0.0, first_initiate + 1.1 - time.monotonic()))
            p.send_raw(path, auth.encode_hello_request(p.instance))
            # The echo waits for the new session: sent under the old one while the new one is
            # pending here, it would be dropped by the client, which switched on our accept
            # (see the report: only a retransmission, which this peer lacks, recovers it).
            deferred.append((path, parts))
            return
        p.send(path, parts)

    arrivals = []                               # when each frame of peer.received arrived
    handle = peer.handle
    peer.handle = lambda path, frame: (arrivals.append(time.monotonic()), handle(path, frame))
    deferred = []
    establish = peer._establish

    def establish_then_echo(path, s):
        establish(path, s)
        while deferred:
            peer.send(*deferred.pop())

    peer._establish = establish_then_echo
    peer.on_message = echo
    try:
        client = Spawned([examples["echo_client"], "--connect", ep, "--dealer", "--timeout",
                          "5000", "--count", "8", "--identity", identities["alice"].file,
                          "--server-key", me.z85])
        rc, out = serve(peer, client, 30)
        assert rc == 0, out
        assert len(peer.messages()) == 8
        initiates = [auth.decode_frame2(f) for _, f in peer.received
                     if f[:4] == b"\x98\x02\x03\x01"]
        assert len(initiates) == 2, peer.events
        assert initiates[0].instance == initiates[1].instance
        assert initiates[0].nonce != initiates[1].nonce and initiates[0].enc != initiates[1].enc
        est = [e for e in peer.events if e[0] == "established"]
        assert len(est) == 2 and not any(e[0] == "restart" for e in peer.events)
        assert not [e for e in peer.events if e[0] in ("frame_error", "rejected",
                                                       "sent_rejection")], peer.events
    finally:
        peer.close()
