"""Echo over real loopback sockets, IPv4 and IPv6, with the asynchronous
API: many clients, large payloads verified byte for byte, write order,
shutdown and end of stream."""

import os

import pytest

import flatuv
from conftest import listener, run


def echo_server(loop, host):
    """An echo server that closes each connection at end of stream."""
    accepted = []

    def on_read(client, data, error):
        if data is None:
            assert error is None
            client.close()
        else:
            client.write(data)

    def on_connection(server, error):
        assert error is None
        client = server.accept()
        accepted.append(client)
        client.read_start(on_read)

    server, port = listener(loop, host, on_connection)
    return server, port, accepted


def test_echo_many_clients(loop, host):
    server, port, accepted = echo_server(loop, host)
    payloads = [os.urandom(1 + 997 * i) for i in range(20)]
    received = {}
    closed = []

    def start_client(i):
        client = flatuv.TCP(loop)
        received[i] = bytearray()

        def on_read(c, data, error):
            assert c is client
            if data is None:
                assert error is None
                c.close(lambda h: closed.append(i))
                return
            received[i] += data
            if len(received[i]) == len(payloads[i]):
                c.shutdown()

        def on_connect(c, error):
            assert c is client and error is None
            c.nodelay(True)
            c.read_start(on_read)
            c.write(payloads[i])

        client.connect((host, port), on_connect)

    for i in range(len(payloads)):
        start_client(i)
    remaining = [len(payloads)]

    def on_client_closed():
        remaining[0] -= 1

    def check_done(timer):
        if len(closed) == len(payloads):
            server.close()
            timer.close()

    poller = flatuv.Timer(loop)
    poller.start(check_done, 0.001, repeat=0.005)
    run(loop)
    assert sorted(closed) == list(range(len(payloads)))
    for i, p in enumerate(payloads):
        assert bytes(received[i]) == p
    assert len(accepted) == len(payloads)
    assert all(c.closed for c in accepted)


def test_large_write_then_shutdown_exact_bytes(loop, host):
    """8 MiB in writes of varying size; the reader counts exactly what
    arrives before end of stream; write callbacks run in order."""
    chunks = [os.urandom(n) for n in (1, 1000, 65536, 1 << 20, 3 << 20, 4 << 20 - 1)]
    total = sum(len(c) for c in chunks)
    received = bytearray()
    order = []
    done = []

    def on_server_read(c, data, error):
        if data is None:
            assert error is None
            done.append(len(received))
            c.close()
            server.close()
        else:
            received.extend(data)

    def on_connection(srv, error):
        srv.accept().read_start(on_server_read)

    server, port = listener(loop, host, on_connection)
    client = flatuv.TCP(loop)

    def on_connect(c, error):
        assert error is None
        for i, chunk in enumerate(chunks):
            c.write(chunk, lambda h, err, i=i: order.append((i, err)))
        assert c.write_queue_size > 0
        c.shutdown(lambda h, err: (order.append(("shutdown", err)), h.close()))

    client.connect((host, port), on_connect)
    run(loop)
    assert done == [total]
    assert bytes(received) == b"".join(chunks)
    assert order == [(i, None) for i in range(len(chunks))] + [("shutdown", None)]


def test_try_write_writev_and_buffer_types(loop, host):
    got = bytearray()

    def on_read(c, data, error):
        if data is None:
            c.close()
            server.close()
        else:
            got.extend(data)

    server, port = listener(loop, host, lambda s, e: s.accept().read_start(on_read))
    client = flatuv.TCP(loop)

    def on_connect(c, error):
        assert c.try_write(b"ab") == 2
        c.write(bytearray(b"cd"))
        c.write(memoryview(b"xxefxx")[2:4])
        c.writev([b"gh", bytearray(b"ij"), memoryview(b"kl")])
        c.write(b"")
        c.shutdown(lambda h, e: h.close())

    client.connect((host, port), on_connect)
    run(loop)
    assert bytes(got) == b"abcdefghijkl"


def test_read_stop_inside_callback_and_restart(loop, host):
    """read_stop from the read callback stops delivery; a new read_start
    with another callable gets the rest."""
    first, second = [], []
    conns = []  # an idle handle nobody references is closed by the GC

    def on_connection(srv, error):
        conn = srv.accept()
        conns.append(conn)

        def on_first(c, data, error):
            first.append(data)
            c.read_stop()
            c.write(b"go")  # tells the client to send the rest

        def on_second(c, data, error):
            if data is None:
                c.close()
                srv.close()
            else:
                second.append(data)

        conn.read_start(on_first)
        conn.data = on_second

    server, port = listener(loop, host, on_connection)
    client = flatuv.TCP(loop)

    def on_client_read(c, data, error):
        assert data == b"go"
        # The server stopped reading: restart it with the second callback.
        conn = conns[0]
        assert not conn.active
        conn.read_start(conn.data)
        c.write(b"rest")
        c.shutdown(lambda h, e: h.close())

    client.connect((host, port), lambda c, e: (c.read_start(on_client_read), c.write(b"one")))
    run(loop)
    assert first == [b"one"]
    assert b"".join(second) == b"rest"


def test_peer_reset_reports_connection_reset(loop, host):
    errors = []

    def on_read(c, data, error):
        errors.append(error)
        c.close()
        server.close()

    def on_connection(srv, error):
        conn = srv.accept()
        conn.read_start(on_read)

    server, port = listener(loop, host, on_connection)
    client = flatuv.TCP(loop)
    client.connect((host, port), lambda c, e: c.close_reset())
    run(loop)
    assert len(errors) == 1
    assert isinstance(errors[0], ConnectionResetError)
    assert isinstance(errors[0], flatuv.Error)
    assert errors[0].name == "ECONNRESET"


@pytest.mark.parametrize("size", [1, 1024, 65536, 1 << 20])
def test_echo_sizes(loop, host, size):
    """One client echoes `size` bytes, counting every byte back."""
    server, port, _ = echo_server(loop, host)
    payload = os.urandom(size)
    back = bytearray()

    def on_read(c, data, error):
        if data is None:
            c.close()
            server.close()
            return
        back.extend(data)
        if len(back) == size:
            c.shutdown()

    def on_connect(c, error):
        c.read_start(on_read)
        c.write(payload)

    flatuv.TCP(loop).connect((host, port), on_connect)
    run(loop)
    assert bytes(back) == payload
