"""Shared fixtures. The tests run against the installed wheel (see
python/run_tests.sh); test_installed_package checks that it is the one
imported."""

import gc
import os
import socket
import subprocess
import sys
import textwrap

import pytest

import flatuv

# How long any single loop run in a test may take before the test fails
# instead of hanging.
RUN_LIMIT = 10.0


def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAVE_IPV6 = _ipv6_loopback()
FAMILIES = [
    pytest.param("127.0.0.1", id="ipv4"),
    pytest.param("::1", id="ipv6",
                 marks=pytest.mark.skipif(not HAVE_IPV6, reason="no IPv6 loopback")),
]


def run(loop, limit=RUN_LIMIT):
    """Runs the loop to completion, failing the test rather than hanging:
    a watchdog timer (unreferenced, so it does not keep the loop alive)
    stops the loop after `limit` seconds."""
    expired = []

    def expire(timer):
        expired.append(True)
        loop.stop()

    watchdog = flatuv.Timer(loop)
    watchdog.start(expire, limit)
    watchdog.unref()
    try:
        loop.run()
    finally:
        watchdog.close()
    assert not expired, "the loop was still running after %.1f s" % limit


# A child process that hangs fails its test after this many seconds; the
# programs run in children finish in well under one.
CHILD_TIMEOUT = 60


def run_child(source, timeout=CHILD_TIMEOUT):
    """Runs Python source in a fresh interpreter, for what could crash or
    hang the test process: returns (returncode, stdout, stderr), a crash
    showing as a negative return code (the signal). A hang raises
    subprocess.TimeoutExpired, which fails the test."""
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c",
                           textwrap.dedent(source)],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def close_all(loop):
    """Closes every handle of the loop, runs it until they are freed and
    frees it."""
    if loop.closed:
        return
    loop.walk(lambda h: h.close())
    loop.run()
    loop.close()


@pytest.fixture
def loop():
    lp = flatuv.Loop()
    yield lp
    close_all(lp)
    assert lp.closed


@pytest.fixture(params=FAMILIES)
def host(request):
    return request.param


def listener(loop, host, on_connection):
    """A TCP server on host, port 0, listening; returns (server, port)."""
    server = flatuv.TCP(loop)
    server.bind((host, 0))
    server.listen(on_connection)
    return server, server.getsockname()[1]


def free_port(host="127.0.0.1"):
    """A port with no listener (bound and released at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def open_fds():
    """What the process's fds refer to ("socket:[inode]", ...), so that a
    freed fd number reused (by this very listing) is not mistaken for it."""
    targets = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue  # the listing's own fd, closed by now
        if not target.startswith("/proc/"):
            targets.add(target)
    return targets


def fd_target(fd):
    return os.readlink("/proc/self/fd/%d" % fd)


def collect():
    for _ in range(3):
        gc.collect()
