#!/usr/bin/env python3
"""echo_client.py: sends messages to an echo server through a cryptcom REQ socket and checks
every echo, the Python twin of examples/echo_client.cpp.

    echo_client.py --connect tcp://127.0.0.1:5555 [--count N] [--size BYTES] [--timeout MS]

Exits 0 when every message came back intact, 1 on a mismatch, 2 when an echo did not come
within --timeout. Needs the cryptcom package and libcryptcom (README.md, "Python").
"""
import argparse
import os
import sys
import time

import zmq

import cryptcom


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connect", required=True, help="the echo server's endpoint")
    parser.add_argument("--count", type=int, default=10, help="messages to send (default 10)")
    parser.add_argument("--size", type=int, default=0, help="random bytes after the number")
    parser.add_argument("--timeout", type=int, default=10000, help="ms to wait for each echo")
    args = parser.parse_args()

    ctx = zmq.Context()
    client = cryptcom.Socket(ctx, zmq.REQ)  # was: ctx.socket(zmq.REQ)
    client.rcvtimeo = args.timeout
    client.connect(args.connect)

    good = bad = 0
    start = time.monotonic()
    for i in range(1, args.count + 1):
        message = b"#%d " % i + (os.urandom(args.size) if args.size else b"hello")
        client.send(message)
        try:
            echo = client.recv()
        except zmq.Again:
            print("echo_client.py: no echo for message %d within %d ms: lost"
                  % (i, args.timeout), file=sys.stderr)
            return 2
        if echo == message:
            good += 1
        else:
            bad += 1
            print("echo_client.py: message %d came back different" % i, file=sys.stderr)
    seconds = time.monotonic() - start
    client.close()
    print("echo_client.py: %d of %d echoes intact, %d mismatched, in %.3f s"
          % (good, args.count, bad, seconds))
    ctx.term()
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
