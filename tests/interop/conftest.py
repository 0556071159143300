"""Shared fixtures of the interop suite: where the build, the vectors and the spec are."""

import os
import pathlib
import socket
import sys

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
