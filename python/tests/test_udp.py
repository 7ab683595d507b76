"""UDP (issue 13) in pyuv's style, over real loopback sockets: echo with
the sender's address, empty datagrams, connected UDP, errors that name the
call and the address, the synchronous calls, options, try_send, GC of a
receiving handle, send callbacks and closing with sends queued."""

import gc

import pytest

import flatuv
from conftest import FAMILIES, run


def bound(loop, host="127.0.0.1", **kw):
    udp = flatuv.UDP(loop, **kw)
    udp.bind((host, 0))
    return udp, udp.getsockname()


@pytest.mark.parametrize("host", FAMILIES)
def test_echo_ping_pong_with_the_senders_address(loop, host):
    server, server_addr = bound(loop, host)
    client, client_addr = bound(loop, host)
    got, sent = [], []

    def on_server(handle, address, flags, data, error):
        assert handle is server and error is None and flags == 0
        assert address == client_addr
        handle.send(address, data.upper(),
                    lambda h, err: sent.append((h, err)))

    def on_client(handle, address, flags, data, error):
        assert error is None
        got.append((address, data))
        if len(got) == 3:
            server.close()
            client.close()

    server.start_recv(on_server)
    client.start_recv(on_client)
    for word in (b"ping", b"pong", b"bye"):
        client.send(server_addr, word)
    run(loop)
    assert got == [(server_addr, b"PING"), (server_addr, b"PONG"),
                   (server_addr, b"BYE")]
    assert [e for _, e in sent] == [None, None, None]
    assert all(h is server for h, _ in sent)


def test_an_empty_datagram_is_empty_bytes(loop):
    server, addr = bound(loop)
    client, client_addr = bound(loop)
    got = []

    def on_recv(handle, address, flags, data, error):
        got.append((address, data, error))
        handle.close()
        client.close()

    server.recv_start(on_recv)
    client.send(addr, b"")
    run(loop)
    assert got == [(client_addr, b"", None)]
    assert isinstance(got[0][1], bytes)


def test_connected_udp(loop):
    server, addr = bound(loop)
    client = flatuv.UDP(loop)
    client.connect(addr)
    assert client.getpeername() == addr
    got = []

    def on_recv(handle, address, flags, data, error):
        got.append(data)
        if len(got) == 2:
            handle.close()

    server.start_recv(on_recv)
    client.send(None, b"one")
    client.sendlines(None, [b"t", b"wo"])
    with pytest.raises(flatuv.Error) as info:
        client.send(addr, b"x")
    assert info.value.name == "EISCONN"
    with pytest.raises(flatuv.Error) as info:
        client.connect(addr)
    assert info.value.name == "EISCONN"
    run(loop)
    assert got == [b"one", b"two"]
    client.connect(None)  # disconnects
    with pytest.raises(flatuv.Error) as info:
        client.getpeername()
    assert info.value.name == "ENOTCONN"
    with pytest.raises(flatuv.Error) as info:
        client.send(None, b"nowhere")
    assert info.value.name == "EDESTADDRREQ"
    with pytest.raises(flatuv.Error) as info:
        client.connect(None)
    assert info.value.name == "ENOTCONN"
    client.close()
    run(loop)


def test_bind_errors_name_the_call_and_the_address(loop):
    udp = flatuv.UDP(loop)
    with pytest.raises(flatuv.Error) as info:
        udp.bind(("999.1.1.1", 0))
    assert info.value.name == "EINVAL"
    assert str(info.value) == "UDP.bind(('999.1.1.1', 0)): [EINVAL] invalid argument"
    with pytest.raises(flatuv.Error) as info:
        udp.bind(("127.0.0.1", 70000))
    assert info.value.name == "EINVAL"
    assert str(info.value).startswith("UDP.bind(('127.0.0.1', 70000))")
    with pytest.raises(TypeError):
        udp.bind("127.0.0.1")
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    other = flatuv.UDP(loop)
    with pytest.raises(flatuv.Error) as info:
        other.bind(("127.0.0.1", port))
    assert info.value.name == "EADDRINUSE"
    # With REUSEADDR on both, two sockets share the port.
    a, b = flatuv.UDP(loop), flatuv.UDP(loop)
    a.bind(("127.0.0.1", 0), flatuv.UDP_REUSEADDR)
    b.bind(("127.0.0.1", a.getsockname()[1]), flatuv.UV_UDP_REUSEADDR)
    with pytest.raises(flatuv.Error) as info:
        udp.send(("127.0.0.1", 0), b"x")
    assert info.value.name == "EINVAL"
    for h in (udp, other, a, b):
        h.close()
    run(loop)


def test_sync_calls_and_recv_sync_timeout(loop):
    server, addr = bound(loop)
    client, client_addr = bound(loop)
    with pytest.raises(flatuv.Error) as info:
        server.recv_sync(timeout=0.05)
    assert info.value.name == "ETIMEDOUT"
    assert isinstance(info.value, TimeoutError)
    client.send_sync(addr, b"hello", timeout=1)
    data, sender = server.recv_sync(timeout=1)
    assert (data, sender) == (b"hello", client_addr)
    client.send_sync(addr, b"")
    assert server.recv_sync(timeout=1) == (b"", client_addr)
    client.send_sync(addr, b"truncated")
    assert server.recv_sync(4, timeout=1) == (b"trun", client_addr)
    server.recv_start(lambda *a: None)
    with pytest.raises(flatuv.Error) as info:
        server.recv_sync(timeout=0)
    assert info.value.name == "EBUSY"
    server.close()
    client.close()
    run(loop)


def test_try_send_and_try_send_many(loop):
    server, addr = bound(loop)
    client = flatuv.UDP(loop)
    assert client.try_send(addr, b"abc") == 3
    assert client.try_send_many(addr, [b"1", b"22", b""]) == 3
    assert [server.recv_sync(timeout=1)[0] for _ in range(4)] == \
        [b"abc", b"1", b"22", b""]
    with pytest.raises(flatuv.Error) as info:
        client.try_send(None, b"x")
    assert info.value.name == "EDESTADDRREQ"
    server.close()
    client.close()
    run(loop)


def test_options(loop):
    udp, _ = bound(loop)
    udp.set_broadcast(True)
    udp.set_broadcast(False)
    udp.set_ttl(10)
    assert udp.get_ttl() == 10
    udp.set_multicast_ttl(3)
    udp.set_multicast_loop(True)
    udp.set_multicast_interface("127.0.0.1")
    udp.set_multicast_interface()
    with pytest.raises(flatuv.Error) as info:
        udp.set_membership("127.0.0.1", flatuv.UV_JOIN_GROUP)
    assert info.value.name == "EINVAL"
    try:
        udp.set_membership("239.255.0.1", flatuv.JOIN_GROUP, "127.0.0.1")
        udp.set_membership("239.255.0.1", flatuv.Membership.LEAVE_GROUP, "127.0.0.1")
    except flatuv.Error as e:  # no multicast route in the sandbox
        assert e.name in ("ENODEV", "EADDRNOTAVAIL", "ENOBUFS")
    udp.set_tos(0x20)
    assert udp.get_tos() == 0x20
    udp.set_ecn(1)
    assert udp.get_ecn() == 1
    udp.set_recv_dest(True)
    with pytest.raises(flatuv.Error) as info:
        udp.recv_dest()
    assert info.value.name == "ENOENT"
    assert udp.using_recvmmsg() is False
    assert udp.send_queue_size == 0 and udp.send_queue_count == 0
    udp.close()
    mm = flatuv.UDP(loop, flatuv.AF_INET, flatuv.UDP_RECVMMSG)
    assert mm.using_recvmmsg() is True
    mm.close()
    run(loop)


def test_broadcast_to_loopback_needs_set_broadcast(loop):
    udp, _ = bound(loop)
    try:
        udp.try_send(("255.255.255.255", 9), b"x")
    except flatuv.Error as e:
        assert e.name in ("EACCES", "ENETUNREACH")
    udp.close()
    run(loop)


def test_recv_dest_in_the_callback(loop):
    server, addr = bound(loop)
    server.set_recv_dest(True)
    client = flatuv.UDP(loop)
    dests = []

    def on_recv(handle, address, flags, data, error):
        dests.append(handle.recv_dest())
        handle.close()
        client.close()

    server.start_recv(on_recv)
    client.send(addr, b"x")
    run(loop)
    assert dests == [addr]


def test_gc_of_a_receiving_handle_does_not_crash(loop):
    server, addr = bound(loop)
    got = []
    server.start_recv(lambda h, a, f, d, e: (got.append(d), h.close()))
    del server
    gc.collect()
    sender = flatuv.UDP(loop)
    sender.send(addr, b"still there")
    del sender
    gc.collect()
    run(loop)
    assert got == [b"still there"]
    # A receiving handle nobody holds, never sent to: the loop's end.
    udp, _ = bound(loop)
    udp.start_recv(lambda *a: None)
    del udp
    gc.collect()
    loop.walk(lambda h: h.close())
    run(loop)


def test_send_callback_and_close_with_sends_queued(loop):
    # Loopback takes every datagram at once, so sends are queued only when
    # one is already: each send's callback still runs, after close with
    # None (handed to the kernel) or ECANCELED (queued), and the dropped
    # client lives until they have.
    server, addr = bound(loop)
    client = flatuv.UDP(loop, flatuv.AF_INET)
    results = []
    client.set_send_buffer_size(4096)
    for i in range(200):
        req = client.send(addr, b"x" * 1000, lambda h, err: results.append(err))
    assert isinstance(req, flatuv.Request)
    assert req.type == flatuv.ReqType.UDP_SEND
    queued = client.send_queue_count
    assert client.send_queue_size >= 1000 * queued
    client.close()
    del client, req
    gc.collect()
    server.close()
    run(loop)
    assert len(results) == 200
    assert all(e is None or e.name == "ECANCELED" for e in results)
    assert len([e for e in results if e is not None]) == queued


def test_a_bad_callback_and_a_closed_handle(loop):
    udp = flatuv.UDP(loop)
    with pytest.raises(TypeError):
        udp.start_recv(None)
    with pytest.raises(TypeError):
        udp.send(("127.0.0.1", 9), b"x", 42)
    udp.close()
    with pytest.raises(flatuv.Error):
        udp.send(("127.0.0.1", 9), b"x")
    run(loop)
