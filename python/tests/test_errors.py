"""flatuv.Error: every code of the header's table maps to the builtin
OSError subclass Python gives its errno, and real failures raise (or hand
to callbacks) the right class."""

import errno
import socket

import pytest

import flatuv
from conftest import free_port, listener, run

# Codes the C table must contain, with the builtin class Python maps each
# to (the same mapping the socket module uses).
EXPECTED = {
    "ECONNREFUSED": ConnectionRefusedError,
    "ECONNRESET": ConnectionResetError,
    "ECONNABORTED": ConnectionAbortedError,
    "EPIPE": BrokenPipeError,
    "ETIMEDOUT": TimeoutError,
    "EAGAIN": BlockingIOError,
    "EALREADY": BlockingIOError,
    "EINTR": InterruptedError,
    "EACCES": PermissionError,
    "EPERM": PermissionError,
    "ENOENT": FileNotFoundError,
    "EEXIST": FileExistsError,
    "EADDRINUSE": OSError,
    "EINVAL": OSError,
    "EOF": OSError,
    "UNKNOWN": OSError,
}


def test_every_code_in_the_table():
    assert len(flatuv.errorcode) >= 47
    for code, name in flatuv.errorcode.items():
        assert code < 0
        assert flatuv.err_name(code) == name
        assert getattr(flatuv, name) == code
        err = flatuv._make_error(code)
        assert isinstance(err, flatuv.Error)
        assert isinstance(err, OSError)
        builtin = type(OSError(-code, ""))
        assert isinstance(err, builtin), (name, type(err).__mro__)
        assert err.errno == -code
        assert err.code == code
        assert err.name == name
        assert err.strerror == flatuv.strerror(code)
        assert str(err) == "[%s] %s" % (name, flatuv.strerror(code))
        if name in EXPECTED:
            assert isinstance(err, EXPECTED[name])
    for name in EXPECTED:
        assert name in flatuv.errorcode.values()
    # POSIX codes are negative errno values.
    assert flatuv.ECONNREFUSED == -errno.ECONNREFUSED
    assert flatuv.EOF == -4095 and flatuv.UNKNOWN == -4094


def test_error_classes_are_shared_and_raisable():
    a = flatuv._make_error(flatuv.EAGAIN)
    b = flatuv._make_error(flatuv.EALREADY)
    assert type(a) is type(b)
    assert type(a).__name__ == "BlockingIOError"
    with pytest.raises(BlockingIOError):
        raise a
    with pytest.raises(flatuv.Error):
        raise b
    custom = flatuv._make_error(flatuv.EINVAL, "handle is closed")
    assert custom.strerror == "handle is closed" and custom.name == "EINVAL"


def test_unknown_code_names():
    assert flatuv.err_name(-123456) == "UNKNOWN"
    assert flatuv.strerror(-123456) == "unknown error"
    assert flatuv.translate_sys_error(errno.ECONNREFUSED) == flatuv.ECONNREFUSED
    assert flatuv.translate_sys_error(0) == 0


def test_connection_refused_async_and_sync(loop):
    port = free_port()
    seen = []
    tcp = flatuv.TCP(loop)
    tcp.connect(("127.0.0.1", port), lambda h, err: seen.append((h, err)))
    run(loop)
    assert len(seen) == 1 and seen[0][0] is tcp
    assert isinstance(seen[0][1], ConnectionRefusedError)
    assert seen[0][1].name == "ECONNREFUSED"
    assert not tcp.closed  # a refused connect does not close the handle
    tcp.close()

    sync = flatuv.TCP(loop)
    with pytest.raises(ConnectionRefusedError) as info:
        sync.connect_sync(("127.0.0.1", port), timeout=5)
    assert isinstance(info.value, flatuv.Error)
    assert info.value.errno == errno.ECONNREFUSED


def test_address_in_use_reported_by_listen(loop):
    first = flatuv.TCP(loop)
    first.bind(("127.0.0.1", 0))
    first.listen()
    port = first.getsockname()[1]
    second = flatuv.TCP(loop)
    second.bind(("127.0.0.1", port))  # deferred, as in libuv
    with pytest.raises(flatuv.Error) as info:
        second.listen()
    assert info.value.name == "EADDRINUSE"
    assert info.value.errno == errno.EADDRINUSE


def test_invalid_arguments(loop):
    tcp = flatuv.TCP(loop)
    with pytest.raises(flatuv.Error) as info:
        tcp.bind(("not an address", 0))
    assert info.value.name == "EINVAL"
    with pytest.raises(flatuv.Error) as info:
        tcp.bind(("127.0.0.1", 70000))
    assert info.value.name == "EINVAL"
    with pytest.raises(flatuv.Error) as info:
        tcp.getsockname()  # no socket yet
    assert info.value.name == "EBADF"
    with pytest.raises(flatuv.Error) as info:
        tcp.read_start(lambda *a: None)
    assert info.value.name == "ENOTCONN"
    with pytest.raises(flatuv.Error) as info:
        tcp.keepalive(True, 0)
    assert info.value.name == "EINVAL"


def test_messages_name_the_call_and_the_address(loop):
    # Issue 12: the message says which call failed and, for an address,
    # which one; the type and the errno attributes are what they were.
    tcp = flatuv.TCP(loop)
    with pytest.raises(flatuv.Error) as info:
        tcp.bind(("999.1.1.1", 0))
    err = info.value
    assert str(err) == "TCP.bind(('999.1.1.1', 0)): [EINVAL] invalid argument"
    assert type(err) is flatuv.Error
    assert (err.errno, err.name, err.code) == (errno.EINVAL, "EINVAL", flatuv.EINVAL)
    assert err.strerror == "invalid argument" and err.args == (errno.EINVAL, "invalid argument")
    with pytest.raises(flatuv.Error, match=r"^TCP\.bind\(\('127\.0\.0\.1', 70000\)\): \[EINVAL\]"):
        tcp.bind(("127.0.0.1", 70000))
    # A call without an address: its name alone.
    with pytest.raises(flatuv.Error) as info:
        tcp.getsockname()
    assert str(info.value).startswith("TCP.getsockname: [EBADF] ")
    # The subclass mapping stands, and the message names connect_sync.
    port = free_port()
    with pytest.raises(ConnectionRefusedError) as info:
        flatuv.TCP(loop).connect_sync(("127.0.0.1", port), timeout=5)
    assert isinstance(info.value, flatuv.Error)
    assert info.value.errno == errno.ECONNREFUSED and info.value.name == "ECONNREFUSED"
    assert str(info.value) == (
        "TCP.connect_sync(('127.0.0.1', %d)): [ECONNREFUSED] connection refused" % port)
    # An asynchronous connect's own errors are the call's too.
    with pytest.raises(flatuv.Error) as info:
        flatuv.TCP(loop).connect(("no such host", 80))
    assert str(info.value).startswith("TCP.connect(('no such host', 80)): [EINVAL] ")
    # Module functions, their spread address as given.
    with pytest.raises(flatuv.Error) as info:
        flatuv.ip4_addr("300.1.1.1", 1)
    assert str(info.value) == "ip4_addr('300.1.1.1', 1): [EINVAL] invalid argument"


def test_messages_name_the_call_on_the_object_s_class(loop):
    # Inherited methods name the class of the object (TCP.listen, not
    # Stream.listen); a closed handle's error names the call too.
    class MyTCP(flatuv.TCP):
        pass
    tcp = MyTCP(loop)
    with pytest.raises(flatuv.Error) as info:
        tcp.listen()
    assert str(info.value).startswith("MyTCP.listen: [")
    tcp.close()
    run(loop)
    with pytest.raises(flatuv.Error) as info:
        tcp.bind(("127.0.0.1", 0))
    assert info.value.name == "EINVAL"
    assert str(info.value) == "MyTCP.bind(('127.0.0.1', 0)): [EINVAL] handle is closed"
    # The C fast path of write names it as the general one does.
    idle = flatuv.TCP(loop)
    with pytest.raises(flatuv.Error) as info:
        idle.write(b"x")
    assert str(info.value).startswith("TCP.write: [")
    with pytest.raises(flatuv.Error) as info:
        idle.write(b"x", lambda *a: None)
    assert str(info.value).startswith("TCP.write: [")
    idle.close()
    run(loop)


def test_errors_given_to_callbacks_name_no_call(loop):
    err = flatuv._make_error(flatuv.ECONNREFUSED)
    assert str(err) == "[ECONNREFUSED] connection refused"
    assert isinstance(err, ConnectionRefusedError)


def test_timeout_accept_again_and_busy(loop):
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    with pytest.raises(BlockingIOError) as info:
        server.accept()
    assert info.value.name == "EAGAIN"
    with pytest.raises(TimeoutError) as info:
        server.accept_sync(timeout=0.05)
    assert info.value.name == "ETIMEDOUT"
    with pytest.raises(flatuv.Error) as info:
        loop.close()  # handles remain
    assert info.value.name == "EBUSY"


def test_broken_pipe_after_shutdown_and_already_reading(loop):
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = flatuv.TCP(loop)
    client.connect_sync(server.getsockname(), timeout=5)
    conn = server.accept_sync(timeout=5)
    conn.read_start(lambda *a: None)
    with pytest.raises(BlockingIOError) as info:
        conn.read_start(lambda *a: None)
    assert info.value.name == "EALREADY"
    client.shutdown()
    with pytest.raises(BrokenPipeError) as info:
        client.write(b"x")
    assert info.value.name == "EPIPE"
    with pytest.raises(flatuv.Error) as info:
        client.shutdown()
    assert info.value.name == "ENOTCONN"


def test_cancelled_write_callbacks_on_close(loop):
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = flatuv.TCP(loop)
    client.connect_sync(server.getsockname(), timeout=5)
    conn = server.accept_sync(timeout=5)
    statuses = []
    big = b"x" * (8 << 20)  # nobody reads: most of it stays queued
    client.write(big, lambda h, err: statuses.append(err))
    client.write(b"y", lambda h, err: statuses.append(err))
    assert client.write_queue_size > 0
    client.close(lambda h: statuses.append("closed"))
    run(loop)
    assert statuses[-1] == "closed"
    assert isinstance(statuses[1], flatuv.Error) and statuses[1].name == "ECANCELED"
    conn.close()


def test_socket_option_errors(loop):
    v4 = flatuv.TCP(loop, flatuv.AF_INET)
    with pytest.raises(flatuv.Error) as info:
        v4.set_ipv6only(True)
    assert info.value.name == "EAFNOSUPPORT"
    with pytest.raises(flatuv.Error) as info:
        v4.bind_to_device("nosuchdevice0")
    assert info.value.name in ("ENODEV", "EPERM")
    with pytest.raises(flatuv.Error) as info:
        v4.set_ttl(0)
    assert info.value.name == "EINVAL"


def test_python_argument_errors(loop):
    tcp = flatuv.TCP(loop)
    with pytest.raises(TypeError):
        tcp.bind("127.0.0.1:80")
    with pytest.raises(TypeError):
        tcp.bind((b"127.0.0.1", 0))
    with pytest.raises(TypeError):
        tcp.write("text is not bytes")
    with pytest.raises(TypeError):
        tcp.read_start(None)
    with pytest.raises(OverflowError):
        tcp.set_send_buffer_size(1 << 40)
    with pytest.raises(ValueError):
        flatuv.Timer(loop).start(lambda t: None, -1)
    with pytest.raises(TypeError):
        flatuv.Timer(loop).start(lambda t: None, "1")
    with pytest.raises(TypeError):
        flatuv.TCP(socket.socket())
