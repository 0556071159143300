"""Version 2 (§12): this package's responder (a ROUTER with an identity and an allow-list)
serving the C++ `echo_client --identity --server-key` over tcp."""

import pytest

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
