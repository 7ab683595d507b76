"""The synchronous calls with timeouts: connect_sync, accept_sync, send,
recv; they release the GIL while they wait."""

import os
import threading
import time

import pytest

import flatuv


@pytest.fixture
def pair(loop, host):
    server = flatuv.TCP(loop)
    server.bind((host, 0))
    server.listen()  # no callback: accept_sync
    client = flatuv.TCP(loop)
    client.connect_sync(server.getsockname(), timeout=5)
    conn = server.accept_sync(timeout=5)
    yield client, conn
    for h in (client, conn, server):
        if not h.closed:
            h.close()


def test_send_recv_both_ways(pair, host):
    client, conn = pair
    assert client.getpeername() == conn.getsockname()
    assert conn.getpeername() == client.getsockname()
    assert client.getpeername()[0] == host
    payload = os.urandom(200_000)
    client.send(payload, timeout=5)
    got = bytearray()
    while len(got) < len(payload):
        got += conn.recv(65536, timeout=5)
    assert bytes(got) == payload
    conn.send(b"pong", timeout=None)
    assert client.recv(10, timeout=5) == b"pong"


def test_recv_timeout_and_eof(pair):
    client, conn = pair
    start = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        conn.recv(10, timeout=0.05)
    assert info.value.name == "ETIMEDOUT"
    assert time.monotonic() - start >= 0.04
    with pytest.raises(TimeoutError):
        conn.recv(10, timeout=0)  # 0: do not wait
    client.shutdown()
    assert conn.recv(10, timeout=5) == b""  # end of stream


def test_recv_size_limits(pair):
    client, conn = pair
    client.send(b"abcdef", timeout=5)
    assert conn.recv(2, timeout=5) == b"ab"
    with pytest.raises(ValueError):
        conn.recv(-1, timeout=5)
    with pytest.raises(OverflowError):
        conn.recv(1 << 70, timeout=5)
    # A huge size is served from a bounded buffer, not allocated.
    assert conn.recv(1 << 40, timeout=5) == b"cdef"


def test_busy_while_reading_asynchronously(pair):
    client, conn = pair
    conn.read_start(lambda *a: None)
    with pytest.raises(flatuv.Error) as info:
        conn.recv(10, timeout=0.01)
    assert info.value.name == "EBUSY"
    conn.read_stop()
    client.send(b"x", timeout=5)
    assert conn.recv(10, timeout=5) == b"x"


def test_blocking_calls_release_the_gil(pair):
    """While recv waits, another Python thread runs and sends."""
    client, conn = pair
    progress = []

    def sender():
        progress.append("running")
        client.send(b"from a thread", timeout=5)

    thread = threading.Thread(target=sender)
    thread.start()
    data = conn.recv(100, timeout=10)
    thread.join(10)
    assert progress == ["running"]
    assert data == b"from a thread"


def test_close_refused_while_another_thread_blocks(pair):
    client, conn = pair
    started = threading.Event()
    result = []

    def reader():
        started.set()
        result.append(conn.recv(10, timeout=10))

    thread = threading.Thread(target=reader)
    thread.start()
    started.wait(5)
    # Until the reader is inside recv the close may still win; either way
    # nothing crashes. Wait for it by watching the handle's blocking state.
    deadline = time.monotonic() + 5
    refused = False
    while time.monotonic() < deadline and thread.is_alive():
        try:
            conn.close()
        except flatuv.Error as e:
            assert e.name == "EBUSY"
            refused = True
            break
        else:
            break  # closed before the reader got in: recv raises
    client.send(b"done", timeout=5)
    thread.join(10)
    assert not thread.is_alive()
    if refused:
        assert result == [b"done"]


def test_connect_sync_timeout_argument_checks(loop):
    tcp = flatuv.TCP(loop)
    with pytest.raises(ValueError):
        tcp.connect_sync(("127.0.0.1", 1), timeout=-1)
    with pytest.raises(TypeError):
        tcp.connect_sync(("127.0.0.1", 1), timeout="1")
    with pytest.raises(OverflowError):
        tcp.connect_sync(("127.0.0.1", 1), timeout=1e12)
