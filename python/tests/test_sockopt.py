"""Socket options, read back with the options themselves and with the
standard socket module on the same fd."""

import os
import socket

import pytest

import flatuv
from conftest import HAVE_IPV6, run


@pytest.fixture
def connected(loop):
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = flatuv.TCP(loop)
    client.connect_sync(server.getsockname(), timeout=5)
    conn = server.accept_sync(timeout=5)
    return server, client, conn


def sock_of(handle):
    """A socket object on a dup of the handle's fd, to read options."""
    return socket.socket(fileno=os.dup(handle.fileno()))


def test_nodelay_keepalive(connected):
    _, client, _ = connected
    client.nodelay(True)
    with sock_of(client) as s:
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    client.nodelay(False)
    with sock_of(client) as s:
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    client.keepalive(True, 30)
    with sock_of(client) as s:
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    client.keepalive_ex(True, idle=7, interval=3, count=4)
    with sock_of(client) as s:
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 7
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 3
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 4
    client.keepalive(False)
    with sock_of(client) as s:
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    with pytest.raises(flatuv.Error):
        client.keepalive_ex(True, idle=0, interval=1, count=1)
    client.simultaneous_accepts(True)


def test_nodelay_before_the_socket_exists(loop):
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = flatuv.TCP(loop)
    client.nodelay(True)  # remembered until the socket is created
    client.connect_sync(server.getsockname(), timeout=5)
    with sock_of(client) as s:
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_linger_ttl_reuseaddr_buffers(connected):
    _, client, _ = connected
    assert client.get_linger() == (False, 0)
    client.set_linger(True, 5)
    assert client.get_linger() == (True, 5)
    client.set_ttl(17)
    assert client.get_ttl() == 17
    with sock_of(client) as s:
        assert s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) == 17
    client.set_reuseaddr(False)
    assert client.get_reuseaddr() is False
    client.set_reuseaddr(True)
    assert client.get_reuseaddr() is True
    client.set_send_buffer_size(65536)
    client.set_recv_buffer_size(65536)
    assert client.get_send_buffer_size() == 2 * 65536  # Linux doubles it
    assert client.get_recv_buffer_size() == 2 * 65536
    with pytest.raises(flatuv.Error):
        client.set_send_buffer_size(0)


@pytest.mark.skipif(not HAVE_IPV6, reason="no IPv6 loopback")
def test_ipv6only(loop):
    v6 = flatuv.TCP(loop, flatuv.AF_INET6)
    v6.set_ipv6only(True)
    assert v6.get_ipv6only() is True
    v6.set_ipv6only(False)
    assert v6.get_ipv6only() is False
    flag = flatuv.TCP(loop)
    flag.bind(("::", 0), flatuv.TCP_IPV6ONLY)
    assert flag.get_ipv6only() is True
    with pytest.raises(flatuv.Error):
        flatuv.TCP(loop).bind(("127.0.0.1", 0), flatuv.TCP_IPV6ONLY)


def test_state_pending_bytes_socket_error(connected):
    server, client, conn = connected
    assert server.state() == flatuv.TCPState.LISTEN
    assert client.state() == flatuv.TCPState.ESTABLISHED
    assert flatuv.tcp_state_name(client.state()) == "ESTABLISHED"
    assert client.pending_bytes() == 0
    conn.send(b"12345", timeout=5)
    # The bytes are in client's receive queue once recv could read them;
    # pending_bytes reads the same queue.
    for _ in range(1000):
        if client.pending_bytes() == 5:
            break
        client.recv(0, timeout=0.01) if False else None
        os.sched_yield()
    assert client.pending_bytes() == 5
    assert client.socket_error() == 0
    client.shutdown()
    assert conn.recv(10, timeout=5) == b""
    assert conn.state() == flatuv.TCPState.CLOSE_WAIT


def test_bind_to_device(loop):
    tcp = flatuv.TCP(loop, flatuv.AF_INET)
    try:
        tcp.bind_to_device("lo")
    except flatuv.Error as e:  # needs CAP_NET_RAW on some kernels
        assert e.name == "EPERM"
        return
    tcp.bind_to_device(None)
    tcp.bind_to_device("")
    with pytest.raises(TypeError):
        tcp.bind_to_device(b"lo")


def test_detach_and_open_elsewhere(loop, connected):
    _, client, conn = connected
    fd = client.detach()
    assert fd >= 0
    with pytest.raises(flatuv.Error) as info:
        client.fileno()
    assert info.value.name == "EBADF"
    other = flatuv.TCP(loop)
    other.open(fd)
    with pytest.raises(flatuv.Error) as info:
        other.open(fd)
    assert info.value.name == "EBUSY"
    other.send(b"moved", timeout=5)
    assert conn.recv(10, timeout=5) == b"moved"


def test_socketpair_open_and_sockaddr_calls(loop):
    fd0, fd1 = flatuv.socketpair(flatuv.SOCK_STREAM, 0, flatuv.NONBLOCK_PIPE, flatuv.NONBLOCK_PIPE)
    a, b = flatuv.TCP(loop), flatuv.TCP(loop)
    a.open(fd0)
    b.open(fd1)
    got = []
    b.read_start(lambda h, data, err: (got.append(data), a.close(), b.close()))
    a.write(b"over a pair")
    run(loop)
    assert got == [b"over a pair"]

    addr = flatuv.ip4_addr("127.0.0.1", 4242)
    assert len(addr) == 16 and flatuv.ip_name(addr) == "127.0.0.1"
    addr6 = flatuv.ip6_addr("::1", 4242)
    assert flatuv.ip_name(addr6) == "::1"
    server = flatuv.TCP(loop)
    server.bind_addr(flatuv.ip4_addr("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    name = server.getsockname_addr()
    assert flatuv.ip_name(name) == "127.0.0.1"
    assert int.from_bytes(name[2:4], "big") == port
    client = flatuv.TCP(loop)
    done = []
    client.connect_addr(flatuv.ip4_addr("127.0.0.1", port), lambda h, err: done.append(err))
    run(loop)
    assert done == [None]
    assert flatuv.ip_name(client.getpeername_addr()) == "127.0.0.1"
    with pytest.raises(ValueError):
        server.bind_addr(b"\x02")
    with pytest.raises(flatuv.Error):
        flatuv.ip_name(b"\x00" * 16)  # AF_UNSPEC: no address family
