"""The cryptcom tool: inspect shows what a wiretap on a zmq_proxy sees (and nothing sealed),
live and from a capture file; keygen writes czmq zcert files; echo-server/echo-client run the
examples."""
import ctypes
import json
import os
import signal
import stat
import struct
import subprocess
import threading
import time

import pytest
import zmq
import zmq.auth

import cryptcom

from conftest import required_path


def tool(*args, timeout=60):
    return subprocess.run([required_path("CRYPTCOM_TOOL"), *[str(a) for a in args]],
                          capture_output=True, text=True, timeout=timeout)


class Proxy:
    """A plain ZeroMQ broker: ROUTER frontend, DEALER backend (connected to the worker), and a
    PUSH capture socket, as an operator would run zmq_proxy; stopped through its control socket."""

    def __init__(self, ctx, frontend, backend, capture):
        self.ctx = ctx
        self.sockets = [ctx.socket(t) for t in (zmq.ROUTER, zmq.DEALER, zmq.PUSH, zmq.PAIR)]
        f, b, c, control = self.sockets
        f.bind(frontend)
        b.connect(backend)
        c.bind(capture)
        control.bind("inproc://proxy-control")
        self.thread = threading.Thread(target=zmq.proxy_steerable, args=(f, b, c, control))
        self.thread.start()

    def stop(self):
        stopper = self.ctx.socket(zmq.PAIR)
        stopper.connect("inproc://proxy-control")
        stopper.send(b"TERMINATE")
        self.thread.join(10)
        stopper.close(0)
        for s in self.sockets:
            s.close(0)


def test_inspect_shows_the_wire_of_a_broker_and_nothing_sealed(ctx, programs, tmp_path, new_ipc):
    worker, frontend, capture = new_ipc(), new_ipc(), new_ipc()
    server = programs(required_path("CRYPTCOM_ECHO_SERVER"), "--bind", worker, "--rep",
                      "--quiet", "--count", "8")
    server.wait_for_line("listening on")
    capture_file = tmp_path / "wire.capture"
    # PUSH capture, PULL reader: nothing is lost while the reader connects.
    tap = programs(required_path("CRYPTCOM_TOOL"), "inspect", "--capture", capture, "--socket",
                   "pull", "--json", "--all-ids", "--write", capture_file)
    proxy = Proxy(ctx, frontend, worker, capture)
    try:
        client = cryptcom.Socket(ctx, zmq.REQ)
        client.rcvtimeo = 10000
        client.connect(frontend)
        secrets = [b"PLAINTEXT-SECRET-%02d" % i for i in range(8)]
        for s in secrets:
            client.send(s)
            assert client.recv() == s
        client.close()
        assert server.finish()[0] == 0
        time.sleep(0.5)  # the last acknowledgements cross the broker
    finally:
        proxy.stop()
    # The proxy's TERMINATE is the last message: once the tool has stored it, interrupt it.
    deadline = time.monotonic() + 10
    while b"TERMINATE" not in capture_file.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    tap.process.send_signal(signal.SIGINT)
    rc, out = tap.finish()
    assert rc == 0, out
    lines = [json.loads(line) for line in out.splitlines()]
    messages, summary = lines[:-1], lines[-1]["summary"]
    data = [m["frame"] for m in messages if m["frame"]["kind"] == "data"]
    control = [m["frame"] for m in messages if m["frame"]["kind"] == "control"]

    # Requests and replies, each sealed to its own one-time key; none opened.
    assert summary["opened"] == 0
    # zmq_proxy_steerable copies its control command to the capture: shown as not cryptcom.
    others = [m["frame"] for m in messages if m["frame"]["kind"] == "unknown"]
    assert [f["head"] for f in others] == [b"TERMINATE".hex()], others
    assert summary["other_frames"] == 1
    assert summary["distinct_data_keys"] == 16 and len(data) >= 16
    assert all(len(f["key_id"]) == 32 and len(f["enc"]) == 64 for f in data)
    # One 19-byte message sealed with REQ/REP's empty first part (PROTOCOL.md §11): a two-part
    # payload (1 byte of array, 2 of the empty part, 2 of the text's header) plus the 16-byte tag.
    assert all(f["ciphertext_size"] == 19 + 16 + 5 for f in data)
    requests = [f for f in data if f["reply_key"] is not None]  # REQ pulls: a reply key each
    assert len(requests) >= 8 and all(f["reply_key"]["ttl_ms"] > 0 for f in requests)
    # The worker offered keys before the first request could be sealed; both ends announced
    # their instances; what was opened was acknowledged.
    assert summary["keys_offered"] >= 1 and summary["keys_requested"] >= 1
    assert len(summary["instances"]) == 2
    assert summary["acknowledgements"] >= 8
    offered = {k["id"] for f in control for k in f["control"]["offers"]}
    offered |= {k["id"] for f in data if f["control"] for k in f["control"]["offers"]}
    assert {f["key_id"] for f in requests} <= offered  # requests use keys the worker offered
    # The broker's envelope is shown, outside the cryptcom frame: the client's routing id (from
    # the ROUTER frontend) and nothing else (the REQ's empty part is sealed, PROTOCOL.md §11).
    assert all([e["size"] for e in m["envelope"]] == [5]
               for m in messages if m["frame"]["kind"] != "unknown")

    # Nothing of the plaintext on the wire, nor in what the tool printed.
    wire = capture_file.read_bytes()
    assert all(s not in wire for s in secrets) and b"PLAINTEXT" not in out.encode()

    # The capture file reads back to the same view, in JSON and as a table.
    again = tool("inspect", "--file", capture_file, "--json", "--all-ids")
    assert again.returncode == 0 and again.stdout == out
    table = tool("inspect", "--file", capture_file)
    assert table.returncode == 0
    assert "what the wire shows" in table.stdout and "not opened" in table.stdout
    assert "none opened: this tool holds no key" in table.stdout


def write_capture(path, messages):
    with open(path, "wb") as f:
        f.write(b"CRYPTCOM-CAPTURE 1\n")
        for frames in messages:
            f.write(struct.pack(">QI", 1700000000000000, len(frames)))
            for frame in frames:
                f.write(struct.pack(">I", len(frame)) + frame)


def test_inspect_reports_frames_that_are_not_cryptcom(tmp_path):
    path = tmp_path / "odd.capture"
    # The worked example of docs/PROTOCOL.md section 10, then garbage, then a future version.
    example = bytes.fromhex(
        "93010195c410000102030405060708090a0b0c0d0e0f029193c410101112131415161718191a1b1c1d1e1f"
        "c420202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3fcdea6091c4104041"
        "4243444546474849 4a4b4c4d4e4f9192c410505152535455565758595a5b5c5d5e5f06".replace(" ", ""))
    write_capture(path, [[b"id", b"", example], [b"\x00\x01garbage"], [b"\x93\x03\x01\x90"]])
    out = tool("inspect", "--file", path, "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    first = lines[0]
    assert first["envelope"] == [{"size": 2, "hex": "6964"}, {"size": 0, "hex": ""}]
    c = first["frame"]["control"]
    assert first["frame"]["kind"] == "control" and first["frame"]["size"] == 120
    assert c["instance"] == "000102030405060708090a0b0c0d0e0f" and c["wanted"] == 2
    assert c["offers"] == [{"id": "101112131415161718191a1b1c1d1e1f",
                            "key": bytes(range(0x20, 0x40)).hex(), "ttl_ms": 60000}]
    assert c["acks"] == ["404142434445464748494a4b4c4d4e4f"]
    assert c["rejections"] == [{"id": "505152535455565758595a5b5c5d5e5f",
                                "reason": "expired_key"}]
    assert lines[1]["frame"]["kind"] == "unknown" and "malformed" in lines[1]["frame"]["error"]
    assert "unsupported_version" in lines[2]["frame"]["error"]
    assert lines[3]["summary"]["other_frames"] == 2

    broken = tmp_path / "broken.capture"
    broken.write_bytes(b"not a capture")
    out = tool("inspect", "--file", broken)
    assert out.returncode == 1 and "not a cryptcom capture file" in out.stderr
    write_capture(broken, [[b"x" * 10]])
    broken.write_bytes(broken.read_bytes()[:-3])  # cut short
    out = tool("inspect", "--file", broken)
    assert out.returncode == 1 and "cut short" in out.stderr


def test_keygen_writes_zcert_files(tmp_path):
    name = tmp_path / "alice"
    out = tool("keygen", name, "--meta", "name=alice", "--meta", "email=alice@example.org")
    assert out.returncode == 0, out.stderr
    secret_path = tmp_path / "alice_secret"
    assert stat.S_IMODE(os.stat(secret_path).st_mode) == 0o600
    public, none = zmq.auth.load_certificate(str(name))
    public2, secret = zmq.auth.load_certificate(str(secret_path))
    assert none is None and public == public2 and len(public) == 40 and len(secret) == 40
    assert zmq.curve_public(secret) == public  # a real CurveZMQ pair
    text = name.read_text()
    assert 'metadata\n    name = "alice"\n    email = "alice@example.org"\ncurve\n' in text
    assert "secret-key" not in text
    assert public.decode() in out.stdout and secret.decode() not in out.stdout

    # czmq itself reads them (libczmq4's zcert_load also loads NAME_secret when present).
    czmq = ctypes.CDLL("libczmq.so.4")
    czmq.zcert_load.restype = ctypes.c_void_p
    czmq.zcert_load.argtypes = [ctypes.c_char_p]
    for f in ("zcert_public_txt", "zcert_secret_txt"):
        getattr(czmq, f).restype = ctypes.c_char_p
        getattr(czmq, f).argtypes = [ctypes.c_void_p]
    czmq.zcert_meta.restype = ctypes.c_char_p
    czmq.zcert_meta.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    czmq.zcert_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    cert = ctypes.c_void_p(czmq.zcert_load(str(secret_path).encode()))
    assert cert.value, "zcert_load refused the file"
    assert czmq.zcert_public_txt(cert) == public and czmq.zcert_secret_txt(cert) == secret
    assert czmq.zcert_meta(cert, b"email") == b"alice@example.org"
    czmq.zcert_destroy(ctypes.byref(cert))

    again = tool("keygen", name)
    assert again.returncode == 1 and "exists" in again.stderr
    assert zmq.auth.load_certificate(str(name))[0] == public  # untouched
    forced = tool("keygen", name, "--force")
    assert forced.returncode == 0 and zmq.auth.load_certificate(str(name))[0] != public
    assert tool("keygen", name, "--meta", "bad key=x").returncode == 64
    assert tool("keygen").returncode == 64


def test_keygen_certificates_secure_a_curve_layer_under_cryptcom(ctx, tmp_path):
    """What the files serve today: ZeroMQ's CURVE on the connection under cryptcom sockets (its
    options pass through), with the server authenticated by its public key."""
    assert tool("keygen", tmp_path / "server").returncode == 0
    assert tool("keygen", tmp_path / "client").returncode == 0
    server_public, server_secret = zmq.auth.load_certificate(str(tmp_path / "server_secret"))
    client_public, client_secret = zmq.auth.load_certificate(str(tmp_path / "client_secret"))

    def client_of(endpoint, server_key):
        c = cryptcom.Socket(ctx, zmq.REQ)
        c.linger = 0
        c.rcvtimeo = 10000 if server_key == server_public else 1000
        c.curve_serverkey = server_key
        c.curve_publickey = client_public
        c.curve_secretkey = client_secret
        c.connect(endpoint)
        return c

    server = cryptcom.Socket(ctx, zmq.REP)
    server.curve_server = 1
    server.curve_secretkey = server_secret
    server.rcvtimeo = 10000
    server.bind("tcp://127.0.0.1:*")
    endpoint = server.last_endpoint
    good = client_of(endpoint, server_public)
    good.send(b"over curve and cryptcom")
    assert server.recv() == b"over curve and cryptcom"
    server.send(b"both layers")
    assert good.recv() == b"both layers"
    assert server.getsockopt(zmq.MECHANISM) == zmq.CURVE

    # A client that expects another server key never gets through the CURVE handshake.
    wrong = client_of(endpoint, zmq.curve_keypair()[0])
    wrong.send(b"to an impostor?")
    with pytest.raises(zmq.Again):
        wrong.recv()


def test_echo_server_and_client_through_the_tool(ipc_endpoint, programs):
    server = programs(required_path("CRYPTCOM_TOOL"), "echo-server", "--bind", ipc_endpoint,
                      "--count", "3", "--quiet")
    server.wait_for_line("listening on")
    client = tool("echo-client", "--connect", ipc_endpoint, "--count", "3", "--size", "64")
    assert client.returncode == 0 and "3 of 3 echoes intact" in client.stdout, client.stderr
    assert server.finish()[0] == 0


def test_bench_through_the_tool():
    out = tool("bench", "--help")
    if os.environ.get("CRYPTCOM_HAS_BENCH") == "1":
        assert out.returncode == 0 and "usage" in out.stdout.lower(), out.stderr
    else:  # a build without the benchmark says so
        assert out.returncode == 1 and "cryptcom_bench is not installed" in out.stderr


def test_usage():
    assert tool("--help").returncode == 0
    assert tool("no-such-command").returncode == 64
    assert tool("version").stdout.strip() == "cryptcom " + cryptcom.__version__
    assert tool("inspect").returncode == 64  # neither --capture nor --file
