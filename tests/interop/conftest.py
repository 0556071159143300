"""Shared fixtures of the interop suite: where the build, the vectors and the spec are."""

import os
import pathlib
import socket
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


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
