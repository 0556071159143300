"""cryptcom.Socket over real sockets in one process: what a pyzmq program does with it."""
import datetime
import errno
import time

import pytest
import zmq

import cryptcom


def pair(ctx, server_type, client_type, **client_options):
    server = cryptcom.Socket(ctx, server_type)
    server.rcvtimeo = 10000
    server.bind("tcp://127.0.0.1:*")
    client = cryptcom.Socket(ctx, client_type, **client_options)
    client.rcvtimeo = 10000
    client.connect(server.last_endpoint)
    return server, client


def test_req_rep_round_trip(ctx):
    rep, req = pair(ctx, zmq.REP, zmq.REQ)
    req.send(b"hello")
    assert rep.recv() == b"hello"
    rep.send_string("h\u00e9llo")
    assert req.recv_string() == "h\u00e9llo"
    req.send_json({"n": 1})
    assert rep.recv_json() == {"n": 1}
    rep.send(bytearray(b"from a bytearray"))
    assert req.recv(copy=False).bytes == b"from a bytearray"
    assert isinstance(req, zmq.Socket)
    assert req.type == zmq.REQ and rep.getsockopt(zmq.TYPE) == zmq.REP


def test_router_dealer_multipart_with_empty_parts(ctx):
    router, dealer = pair(ctx, zmq.ROUTER, zmq.DEALER)
    dealer.send_multipart([b"first", b"", b"x" * 100000])
    routing_id, *parts = router.recv_multipart()
    assert parts == [b"first", b"", b"x" * 100000]
    router.send_multipart([routing_id, b"back", b""])
    assert dealer.recv_multipart() == [b"back", b""]


def test_poller_wakes_only_for_application_messages(ctx):
    router, dealer = pair(ctx, zmq.ROUTER, zmq.DEALER)
    poller = zmq.Poller()
    poller.register(router, zmq.POLLIN)
    poller.register(dealer, zmq.POLLIN)
    assert poller.poll(100) == []  # key requests and offers travel, nothing for the application
    dealer.send(b"ping")
    events = dict(poller.poll(10000))
    assert events == {router: zmq.POLLIN}
    routing_id, body = router.recv_multipart(zmq.DONTWAIT)
    assert body == b"ping"
    router.send_multipart([routing_id, b"pong"])
    assert dict(poller.poll(10000)) == {dealer: zmq.POLLIN}
    assert dealer.recv(zmq.DONTWAIT) == b"pong"
    assert router.poll(50) == 0  # Socket.poll works too
    assert zmq.select([dealer], [], [], 0.05)[0] == []


def test_own_options_at_construction_and_readable(ctx):
    s = cryptcom.Socket(ctx, zmq.DEALER, key_ttl=30000, flow="push", pool_target=16,
                        pool_low_watermark=8, delivery_timeout=datetime.timedelta(seconds=5),
                        prefetch_keys=False)
    assert s.getsockopt(cryptcom.KEY_TTL) == 30000
    assert s.getsockopt(cryptcom.FLOW) == cryptcom.FLOW_PUSH
    assert s.getsockopt(cryptcom.POOL_TARGET) == 16
    assert s.getsockopt(cryptcom.DELIVERY_TIMEOUT) == 5000
    assert s.getsockopt(cryptcom.PREFETCH_KEYS) == 0
    assert s.getsockopt(cryptcom.CIPHER) == cryptcom.CIPHER_CHACHA20_POLY1305
    assert len(s.instance) == 16 and s.instance != bytes(16)
    with pytest.raises(zmq.ZMQError) as e:
        s.setsockopt(cryptcom.KEY_TTL, 1000)
    assert e.value.errno == errno.EINVAL and "keyword argument" in str(e.value)
    with pytest.raises(TypeError):
        cryptcom.Socket(ctx, zmq.DEALER, no_such_option=1)
    with pytest.raises(zmq.ZMQError) as e:  # refused by the engine: watermark above target
        cryptcom.Socket(ctx, zmq.DEALER, pool_target=4, pool_low_watermark=8)
    assert e.value.errno == errno.EINVAL


def test_zeromq_options_pass_through_or_are_refused(ctx):
    s = cryptcom.Socket(ctx, zmq.DEALER)
    s.rcvtimeo = 50
    assert s.rcvtimeo == 50 and s.getsockopt(zmq.RCVTIMEO) == 50
    s.setsockopt(zmq.ROUTING_ID, b"me\x00")
    assert s.getsockopt(zmq.ROUTING_ID) == b"me\x00"  # binary, kept whole
    s.linger = 0
    assert s.linger == 0
    assert s.fileno() > 0  # ZMQ_FD of the pollable end
    with pytest.raises(zmq.Again):
        s.recv()  # after RCVTIMEO
    with pytest.raises(zmq.ZMQError) as e:
        s.setsockopt(zmq.CONFLATE, 1)
    assert e.value.errno == errno.EINVAL and "not supported" in str(e.value)
    with pytest.raises(TypeError):
        s.setsockopt(zmq.ROUTING_ID, "text")


def test_unsupported_socket_type_says_why(ctx):
    with pytest.raises(zmq.ZMQError) as e:
        cryptcom.Socket(ctx, zmq.STREAM)
    assert e.value.errno == errno.EINVAL and "not supported" in str(e.value)


def test_errors_of_zeromq_come_through(ctx):
    rep, req = pair(ctx, zmq.REP, zmq.REQ)
    with pytest.raises(zmq.ZMQError) as e:
        req.recv()  # REQ must send first
    assert e.value.errno == zmq.EFSM
    small = cryptcom.Socket(ctx, zmq.DEALER, max_message_size=8)
    with pytest.raises(zmq.ZMQError) as e:
        small.send(b"nine byte")
    assert e.value.errno == errno.EMSGSIZE and "max_message_size" in str(e.value)
    with pytest.raises(TypeError):
        req.send("text needs send_string")


def test_undeliverable_message_is_reported_with_its_number(ctx):
    s = cryptcom.Socket(ctx, zmq.DEALER, delivery_timeout=300, retransmit_after=100)
    s.linger = 0
    s.connect("tcp://127.0.0.1:9")  # nobody answers
    assert s.poll_event() is None
    s.send(b"first")
    s.send(b"second")
    events = []
    deadline = time.monotonic() + 10
    while len(events) < 2 and time.monotonic() < deadline:
        e = s.poll_event()
        if e is None:
            time.sleep(0.05)
        else:
            events.append(e)
    assert sorted(e.message for e in events) == [1, 2]
    assert all(e.kind == "message_undeliverable" and e.reason == "undeliverable" for e in events)
    assert all(e.detail and e.route == [] for e in events)
    assert s.stats()["messages_undeliverable"] == 2


def test_stats_count_the_traffic(ctx):
    rep, req = pair(ctx, zmq.REP, zmq.REQ)
    for i in range(5):
        req.send(b"%d" % i)
        rep.send(rep.recv())
        assert req.recv() == b"%d" % i
    stats = req.stats()
    assert stats["messages_sent"] == 5 and stats["messages_received"] == 5
    assert stats["messages_opened"] == 5 and stats["keys_used"] == 5  # one reply key each
    assert rep.stats()["keys_used"] == 5  # one offered key per request
    assert all(isinstance(v, int) for v in stats.values())


def test_close_keeps_events_and_stats_and_refuses_the_rest(ctx):
    rep, req = pair(ctx, zmq.REP, zmq.REQ)
    req.send(b"x")
    assert rep.recv() == b"x"
    rep.close()
    rep.close()  # idempotent
    assert rep.closed
    assert rep.stats()["messages_received"] == 1
    assert rep.poll_event() is None
    with pytest.raises(zmq.ZMQError) as e:
        rep.send(b"y")
    assert e.value.errno == errno.ENOTSOCK


def test_context_destroy_closes_cryptcom_sockets():
    context = zmq.Context()
    s = cryptcom.Socket(context, zmq.DEALER)
    s.connect("tcp://127.0.0.1:9")
    context.destroy(linger=0)  # would hang in zmq_ctx_term if the socket stayed open
    assert s.closed and context.closed


def test_cryptcom_context_makes_cryptcom_sockets():
    context = cryptcom.Context()
    context.setsockopt(zmq.LINGER, 0)  # context-wide defaults still apply
    server = context.socket(zmq.REP)
    client = context.socket(zmq.REQ, key_ttl=20000)
    assert isinstance(server, cryptcom.Socket) and client.getsockopt(cryptcom.KEY_TTL) == 20000
    assert client.linger == 0
    server.bind("tcp://127.0.0.1:*")
    client.connect(server.last_endpoint)
    client.rcvtimeo = server.rcvtimeo = 10000
    client.send(b"via the context")
    assert server.recv() == b"via the context"
    context.destroy()


def test_library_version_is_the_package_version():
    assert cryptcom.library_version()[:2] == (0, 2)
    assert cryptcom.__version__.startswith("0.2.")


def test_io_threads_are_set_per_context_and_sockets_still_talk():
    ctx = zmq.Context()
    try:
        assert cryptcom.io_threads(ctx) == 1
        cryptcom.set_io_threads(ctx, 2)
        assert cryptcom.io_threads(ctx) == 2
        with pytest.raises(zmq.ZMQError) as bad:
            cryptcom.set_io_threads(ctx, 0)
        assert bad.value.errno == errno.EINVAL
        assert cryptcom.io_threads(ctx) == 2
        rep, req = pair(ctx, zmq.REP, zmq.REQ)
        req.send(b"over two threads")
        assert rep.recv() == b"over two threads"
        rep.close()
        req.close()
    finally:
        ctx.term()
