"""Python against C++: the package's sockets and the C++ example programs speak the same
protocol (REQ/REP, ROUTER/DEALER, over ipc), and the Python examples work."""
import os
import subprocess
import sys

import zmq

import cryptcom

from conftest import required_path

EXAMPLES = os.path.join(required_path("CRYPTCOM_SOURCE_DIR"), "examples", "python")


def test_python_req_against_cpp_rep(ctx, ipc_endpoint, programs):
    server = programs(required_path("CRYPTCOM_ECHO_SERVER"), "--bind", ipc_endpoint, "--rep",
                      "--count", "4", "--quiet")
    server.wait_for_line("listening on")
    req = cryptcom.Socket(ctx, zmq.REQ)
    req.rcvtimeo = 10000
    req.connect(ipc_endpoint)
    for message in ([b"hello"], [b""], [b"two", b"parts"], [os.urandom(200000)]):
        req.send_multipart(message)
        assert req.recv_multipart() == message
    rc, out = server.finish()
    assert rc == 0 and "echoed 4 message(s)" in out, out


def test_python_router_against_cpp_dealers(ctx, ipc_endpoint, programs):
    router = cryptcom.Socket(ctx, zmq.ROUTER)
    router.bind(ipc_endpoint)
    clients = [programs(required_path("CRYPTCOM_ECHO_CLIENT"), "--connect", ipc_endpoint,
                        "--dealer", "--count", "20", "--size", "300") for _ in range(3)]
    poller = zmq.Poller()
    poller.register(router, zmq.POLLIN)
    senders = set()
    echoed = 0
    while echoed < 60:
        assert poller.poll(20000), "the C++ DEALERs stopped sending after %d" % echoed
        routing_id, *parts = router.recv_multipart(zmq.DONTWAIT)
        senders.add(routing_id)
        router.send_multipart([routing_id, *parts])
        echoed += 1
    assert len(senders) == 3
    for client in clients:
        rc, out = client.finish()
        assert rc == 0 and "20 of 20 echoes intact" in out, out


def run_example(name, *args):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args],
                          capture_output=True, text=True, timeout=60)


def test_python_example_client_against_cpp_router(ipc_endpoint, programs):
    server = programs(required_path("CRYPTCOM_ECHO_SERVER"), "--bind", ipc_endpoint,
                      "--count", "5", "--quiet")
    server.wait_for_line("listening on")
    done = run_example("echo_client.py", "--connect", ipc_endpoint, "--count", "5",
                       "--size", "1000")
    assert done.returncode == 0, done.stderr
    assert "5 of 5 echoes intact" in done.stdout
    assert server.finish()[0] == 0


def test_python_example_server_against_cpp_req(ipc_endpoint, programs):
    server = programs(sys.executable, os.path.join(EXAMPLES, "echo_server.py"), "--bind",
                      ipc_endpoint, "--count", "6", "--quiet")
    server.wait_for_line("listening on")
    client = programs(required_path("CRYPTCOM_ECHO_CLIENT"), "--connect", ipc_endpoint,
                      "--count", "6")
    rc, out = client.finish()
    assert rc == 0 and "6 of 6 echoes intact" in out, out
    rc, out = server.finish()
    assert rc == 0 and "echoed 6 message(s)" in out, out
