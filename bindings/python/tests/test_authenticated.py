"""Authenticated mode from Python: identities as keyword arguments, attributes and setsockopt,
who sent a message, the application's verdict, refusals, a ZAP handler written with pyzmq."""
import threading
import time

import pytest
import zmq
import zmq.auth

import cryptcom


def wait_event(sock, kind, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = sock.poll_event()
        if event is None:
            time.sleep(0.005)
        elif event.kind == kind:
            return event
    return None


def test_options_as_keywords_attributes_and_setsockopt(ctx):
    public, secret = zmq.curve_keypair()
    server_public, _ = zmq.curve_keypair()
    s = cryptcom.Socket(ctx, zmq.DEALER, identity_secret_key=secret, server_key=server_public)
    assert s.identity_public_key == public
    assert s.getsockopt(cryptcom.SERVER_KEY) == server_public
    r = cryptcom.Socket(ctx, zmq.ROUTER)
    assert r.identity_public_key == b""  # base mode
    r.identity_secret_key = secret.decode()  # str works too
    r.allow_key = [zmq.curve_keypair()[0], zmq.curve_keypair()[0]]
    assert r.identity_policy == cryptcom.POLICY_ALLOW_LIST
    r.identity_policy = "ask"
    assert r.getsockopt(cryptcom.IDENTITY_POLICY) == cryptcom.POLICY_ASK
    r.setsockopt(cryptcom.ZAP_DOMAIN, "global")
    assert r.getsockopt(cryptcom.ZAP_DOMAIN) == b"global" and r.zap == 1
    with pytest.raises(zmq.ZMQError) as bad:
        r.server_key = b"short"
    assert bad.value.errno == zmq.EINVAL and "32 bytes or 40 characters" in str(bad.value)
    with pytest.raises(zmq.ZMQError) as hidden:
        r.getsockopt(cryptcom.IDENTITY_SECRET_KEY)
    assert "write-only" in str(hidden.value)
    r.bind("inproc://cryptcom-pytest-auth-options")
    with pytest.raises(zmq.ZMQError) as late:
        r.accept_any_identity = True
    assert "before the socket's first bind" in str(late.value)
    with pytest.raises(zmq.ZMQError):
        cryptcom.Socket(ctx, zmq.DEALER, server_key="not a key")


def test_the_server_knows_who_sent_each_message(ctx, tmp_path):
    # Keys from czmq certificate files, as `cryptcom keygen` and zmq.auth write them.
    server_public_file, server_secret_file = zmq.auth.create_certificates(str(tmp_path), "server")
    client_public, client_secret = zmq.curve_keypair()
    server_public, server_secret = zmq.auth.load_certificate(server_secret_file)
    server = cryptcom.Socket(ctx, zmq.ROUTER, identity_secret_key=server_secret,
                             allow_key=client_public)
    server.rcvtimeo = 10000
    server.bind("tcp://127.0.0.1:*")
    client = cryptcom.Socket(ctx, zmq.DEALER, identity_secret_key=client_secret,
                             server_key=server_public)
    client.rcvtimeo = 10000
    client.connect(server.last_endpoint)
    client.send_multipart([b"hello", b"world"])
    routing_id, *body = server.recv_multipart()
    assert body == [b"hello", b"world"]
    assert server.peer_identity([routing_id]) == cryptcom.Identity(key=client_public, user_id="")
    server.send_multipart([routing_id, b"reply"])
    assert client.recv() == b"reply"
    assert client.peer_identity().key == server_public
    event = wait_event(server, "peer_authenticated")
    assert event is not None and event.peer_key == client_public and event.route == [routing_id]


def test_a_client_off_the_list_is_refused_and_the_application_can_decide(ctx):
    server_public, server_secret = zmq.curve_keypair()
    yes_public, yes_secret = zmq.curve_keypair()
    no_public, no_secret = zmq.curve_keypair()
    server = cryptcom.Socket(ctx, zmq.ROUTER, identity_secret_key=server_secret,
                             identity_policy="ask")
    server.rcvtimeo = 10000
    server.bind("tcp://127.0.0.1:*")
    clients = {}
    for public, secret in ((yes_public, yes_secret), (no_public, no_secret)):
        c = cryptcom.Socket(ctx, zmq.DEALER, identity_secret_key=secret, server_key=server_public)
        c.connect(server.last_endpoint)
        c.send(b"from " + public[:4])
        clients[public] = c
    for _ in range(2):
        check = wait_event(server, "identity_check")
        assert check is not None and check.peer_key in clients
        server.resolve_identity(check.route, check.peer_key, check.peer_key == yes_public)
    routing_id, body = server.recv_multipart()
    assert body == b"from " + yes_public[:4]
    assert server.peer_identity([routing_id]).key == yes_public
    refused = wait_event(clients[no_public], "peer_refused")
    assert refused is not None and refused.reason == "access_denied"


def test_a_zap_handler_written_with_pyzmq_decides_and_names_the_user(ctx):
    server_public, server_secret = zmq.curve_keypair()
    alice_public, alice_secret = zmq.curve_keypair()
    handler = ctx.socket(zmq.REP)
    handler.bind("inproc://zeromq.zap.01")
    stop = threading.Event()
    requests = []

    def serve():
        while not stop.is_set():
            if not handler.poll(20):
                continue
            version, request_id, domain, address, routing_id, mechanism, key = \
                handler.recv_multipart()
            requests.append((domain, mechanism, key))
            ok = zmq.utils.z85.encode(key) == alice_public
            handler.send_multipart([version, request_id, b"200" if ok else b"400",
                                    b"OK" if ok else b"no", b"alice" if ok else b"", b""])

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        server = cryptcom.Socket(ctx, zmq.ROUTER, identity_secret_key=server_secret,
                                 zap_domain="pytest")
        server.rcvtimeo = 10000
        server.bind("tcp://127.0.0.1:*")
        client = cryptcom.Socket(ctx, zmq.DEALER, identity_secret_key=alice_secret,
                                 server_key=server_public)
        client.connect(server.last_endpoint)
        client.send(b"it is me")
        routing_id, body = server.recv_multipart()
        assert body == b"it is me"
        assert server.peer_identity([routing_id]) == cryptcom.Identity(alice_public, "alice")
        assert requests and requests[0][0] == b"pytest" and requests[0][1] == b"CURVE"
    finally:
        stop.set()
        thread.join()
        handler.close(linger=0)
