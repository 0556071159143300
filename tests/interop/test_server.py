"""This package's peer as a server (ZeroMQ ROUTER) echoing for the C++ `echo_client` over tcp."""

import pytest

from cc_peer import Peer
from conftest import Spawned, check_hellos, free_port, serve


@pytest.mark.parametrize("flow", ["push", "pull"])
@pytest.mark.parametrize("args", [
    ["--count", "20"],
    ["--count", "3", "--size", "0"],
    ["--count", "3", "--size", str(1 << 20)],
], ids=["20x-text", "3x-0B", "3x-1MiB"])
def test_echo_client_against_python_server(examples, zctx, flow, args):
    ep = f"tcp://127.0.0.1:{free_port()}"
    peer = Peer(zctx, "router")
    peer.bind(ep)
    peer.on_message = lambda p, path, parts: p.send(path, parts)
    try:
        client = Spawned([examples["echo_client"], "--connect", ep, "--flow", flow,
                          "--timeout", "5000", *args])
        rc, out = serve(peer, client, 30)
        assert rc == 0, out
        assert "frames rejected 0 |" in out, out   # the C++ side refused none of our frames
        count = int(args[1])
        msgs = peer.messages()
        assert len(msgs) == count, (len(msgs), out)
        paths = {m[1] for m in msgs}
        assert len(paths) == 1 and all(paths), "one routing path, with its routing id"
        path = next(iter(paths))
        # §4: a hello reached us before (or with) the first reply key.
        check_hellos(peer.state(path))
        log = peer.state(path).log
        first_hello = next(i for i, f in enumerate(log) if f[1])
        assert all(i >= first_hello for i, f in enumerate(log) if f[2])
        if flow == "pull":
            # §9 pull: each request carries a reply key, and our echo was sealed to it.
            assert all(m[5] is not None for m in msgs)
        else:
            assert all(m[5] is None for m in msgs)
        # Every echo we sent was acknowledged by the C++ side; nothing was rejected.
        st = peer.state(path)
        assert not st.unacked, f"{len(st.unacked)} echoes not acknowledged"
        assert not [e for e in peer.events if e[0] in ("rejected", "sent_rejection",
                                                       "frame_error")], peer.events
        if "--size" in args:
            size = int(args[3])
            assert all(sum(len(p) for p in m[2]) in (size,) for m in msgs), \
                [[len(p) for p in m[2]] for m in msgs]
    finally:
        peer.close()
