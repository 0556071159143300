"""Shared fixtures of the interop suite: where the build, the vectors and the spec are."""

import os
import pathlib
import socket
import sys
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from cc_wire import Hello  # noqa: E402 (after the path is set)


def build_dir():
    return pathlib.Path(os.environ.get("CRYPTCOM_BUILD_DIR", REPO / "build")).resolve()


@pytest.fixture(scope="session")
def examples():
    """Paths of echo_server and echo_client; missing binaries fail (never skip): this suite
    exists to run them."""
    d = build_dir() / "examples"
    out = {}
    for name in ("echo_server", "echo_client"):
        p = d / name
        assert p.is_file() and os.access(p, os.X_OK), (
            f"{p} not found: build the examples or set CRYPTCOM_BUILD_DIR")
        out[name] = str(p)
    return out


@pytest.fixture(scope="session")
def vectors_file():
    """The RFC 9180 vectors where they sit (never copied into the repo). As in the C++ suite:
    with CI set a missing file fails, otherwise the test says where it looked and skips."""
    d = os.environ.get("CRYPTCOM_VECTORS_DIR") or str(REPO.parent / "shared" / "vectors")
    p = pathlib.Path(d) / "hpke-x25519-sha256.json"
    if not p.is_file():
        msg = f"RFC 9180 vectors not found at {p} (set CRYPTCOM_VECTORS_DIR)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return p


@pytest.fixture(scope="session")
def protocol_md():
    return (REPO / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Spawned:
    """A C++ example as a subprocess, bounded in time; killed (by its own pid) if still running
    at the end."""

    def __init__(self, args):
        import subprocess
        self.args = args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def wait(self, timeout):
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out.decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=5)


def serve(peer, client, timeout):
    """Pumps the server peer until the client process exits; returns (rc, output)."""
    deadline = time.monotonic() + timeout
    while client.proc.poll() is None:
        assert time.monotonic() < deadline, "echo_client did not finish in time"
        peer.drain(0.05)
    peer.drain(0.1)
    return client.wait(5)


@pytest.fixture
def zctx():
    import zmq
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def spawn():
    procs = []

    def start(*args):
        p = Spawned(list(args))
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


def pytest_collection_finish(session):
    """Under ctest (CRYPTCOM_INTEROP_CTEST set), every test module must contribute tests: a
    module that fails to import or loses its tests fails the run instead of shrinking it."""
    if not os.environ.get("CRYPTCOM_INTEROP_CTEST"):
        return
    modules = {p.name for p in HERE.glob("test_*.py")}
    collected = {pathlib.Path(str(item.fspath)).name for item in session.items}
    missing = modules - collected
    if missing or not session.items:
        raise pytest.UsageError(f"interop: no tests collected from {sorted(missing) or 'any'}")


def check_hellos(state):
    """§4: a hello in every control frame and in every block with offers (the reference puts one
    in every block) with this version's values and the reference's defaults."""
    blocks = state.blocks
    assert blocks
    for source, b in blocks:
        if source == "control_frame" or b.offers:
            assert b.hello is not None, (source, b)
        if b.hello is not None:
            assert b.hello == Hello(max_version=1, features=0, aead=3,
                                    max_message_bytes=64 << 20, max_parts=1000), b.hello
    assert len({b.instance for _, b in blocks}) == 1


class Identity:
    """A CurveZMQ key pair in czmq's certificate format (README, "Authenticated mode"), made by
    pyzmq; `file` is the secret certificate the C++ examples load with --identity."""

    def __init__(self, directory, name):
        import zmq.auth
        from zmq.utils import z85
        _, self.file = zmq.auth.create_certificates(str(directory), name)
        public, secret = zmq.auth.load_certificate(self.file)
        self.z85 = public.decode()
        self.public, self.secret = z85.decode(public), z85.decode(secret)


@pytest.fixture(scope="session")
def identities(tmp_path_factory):
    d = tmp_path_factory.mktemp("identities")
    return {name: Identity(d, name) for name in ("server", "alice", "mallory", "python_server")}


def check_hellos_v2(state):
    """§12.2: the hello of a version 2 block says max_version 2; otherwise §4's rules as above."""
    assert state.blocks
    for source, b in state.blocks:
        if source == "control_frame" or b.offers:
            assert b.hello is not None, (source, b)
        if b.hello is not None:
            assert b.hello == Hello(max_version=2, features=0, aead=3,
                                    max_message_bytes=64 << 20, max_parts=1000), b.hello
    assert len({b.instance for _, b in state.blocks}) == 1
