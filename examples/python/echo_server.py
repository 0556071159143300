#!/usr/bin/env python3
"""echo_server.py: a cryptcom ROUTER in Python that sends every message back to its sender, the
Python twin of examples/echo_server.cpp (and interoperable with it and with echo_client).

    echo_server.py --bind tcp://127.0.0.1:5555 [--count N] [--quiet]

Prints "listening on ENDPOINT" once bound, serves until it has echoed --count messages (0: until
interrupted), waiting in a zmq.Poller as a pyzmq program would, then prints the protocol's counters.
Needs the cryptcom package and libcryptcom (README.md, "Python").
"""
import argparse
import sys

import zmq

import cryptcom


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bind", required=True, help="where to listen (tcp port * picks one)")
    parser.add_argument("--count", type=int, default=0, help="exit after N echoes (0: never)")
    parser.add_argument("--quiet", action="store_true", help="do not print each message")
    args = parser.parse_args()

    ctx = zmq.Context()
    server = cryptcom.Socket(ctx, zmq.ROUTER)
    server.bind(args.bind)
    print("listening on", server.last_endpoint.decode(), flush=True)

    poller = zmq.Poller()
    poller.register(server, zmq.POLLIN)
    echoed = 0
    try:
        while args.count == 0 or echoed < args.count:
            if not poller.poll(200):
                continue
            # A ROUTER sees the sender's routing id first; sending it back routes the echo.
            parts = server.recv_multipart(zmq.DONTWAIT)
            if not args.quiet:
                print("echo: %d part(s), last %r" % (len(parts), parts[-1][:40]), flush=True)
            server.send_multipart(parts)
            echoed += 1
    except KeyboardInterrupt:
        pass
    server.close()  # lingers until the last echo is acknowledged
    stats = server.stats()
    print("echo_server.py: echoed %d message(s); keys generated %d, used %d, destroyed %d; "
          "frames rejected %d" % (echoed, stats["keys_generated"], stats["keys_used"],
                                  stats["keys_destroyed"],
                                  sum(v for k, v in stats.items() if k.startswith("rejected_"))))
    while True:
        event = server.poll_event()
        if event is None:
            break
        print("echo_server.py event:", event.detail)
    ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
