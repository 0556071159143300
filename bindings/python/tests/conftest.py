"""Fixtures of the Python package's tests. ctest runs them with the build's programs named by
environment variables (bindings/python/CMakeLists.txt); run by hand, set the same:
    CRYPTCOM_LIBRARY=build/bindings/c/libcryptcom.so PYTHONPATH=bindings/python \
    CRYPTCOM_TOOL=build/tools/cryptcom CRYPTCOM_ECHO_SERVER=build/examples/echo_server \
    CRYPTCOM_ECHO_CLIENT=build/examples/echo_client CRYPTCOM_SOURCE_DIR=. \
    /usr/bin/python3 -m pytest bindings/python/tests
"""
import os
import subprocess
import time
import uuid

import pytest
import zmq


def required_path(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail("%s is not set: see bindings/python/tests/conftest.py" % name)
    return value


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def new_ipc():
    """Makes fresh ipc endpoints in /tmp; their files are removed afterwards."""
    paths = []

    def make():
        paths.append("/tmp/cryptcom-pytest-%s" % uuid.uuid4().hex[:12])
        return "ipc://" + paths[-1]

    yield make
    for path in paths:
        if os.path.exists(path):
            os.unlink(path)


@pytest.fixture
def ipc_endpoint(new_ipc):
    return new_ipc()


class Program:
    """A program of the build run in the background; killed at the end of the test."""

    def __init__(self, args):
        self.args = args
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)

    def wait_for_line(self, prefix, timeout=20):
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError("%s did not print %r; it printed %r" % (self.args[0], prefix, lines))

    def finish(self, timeout=30):
        out, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, out

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def programs():
    started = []

    def start(*args):
        p = Program([str(a) for a in args])
        started.append(p)
        return p

    yield start
    for p in started:
        p.kill()
