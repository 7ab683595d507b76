"""A typed program over flatuv, for `mypy --strict` against the installed
package's stubs (python/run_tests.sh runs it, and test_typing.py runs it
as a program): an echo server and client with callbacks, properties,
enums, synchronous calls, errors and the module functions."""

from typing import List, Optional, Tuple

import flatuv


def echo(loop: flatuv.Loop, payload: bytes) -> bytes:
    """Sends payload through an echo server on the loop; returns the echo."""
    received: List[bytes] = []
    server = flatuv.TCP(loop, flatuv.AF_INET)
    server.bind(("127.0.0.1", 0))
    server.nodelay(True)

    def on_read(client: flatuv.TCP, data: Optional[bytes],
                error: Optional[flatuv.Error]) -> None:
        if data is None:
            client.close()
        else:
            client.write(data)

    def on_connection(listener: flatuv.TCP, error: Optional[flatuv.Error]) -> None:
        assert error is None
        listener.accept().read_start(on_read)

    server.listen(on_connection, backlog=16)
    host, port = server.getsockname()

    client = flatuv.TCP(loop)

    def on_echo(stream: flatuv.TCP, data: Optional[bytes],
                error: Optional[flatuv.Error]) -> None:
        if data is not None:
            received.append(data)
            if sum(map(len, received)) >= len(payload):
                stream.close()
                server.close()

    def on_connect(tcp: flatuv.TCP, error: Optional[flatuv.Error]) -> None:
        assert error is None
        tcp.read_start(on_echo)
        tcp.write(payload, lambda stream, err: None)
        tcp.writev([b""], None)

    client.connect((host, port), on_connect)
    watchdog = flatuv.Timer(loop)
    watchdog.start(lambda timer: loop.stop(), 10.0)
    watchdog.unref()
    loop.run()
    watchdog.close()
    loop.run(flatuv.RUN_NOWAIT)
    return b"".join(received)


def properties(loop: flatuv.Loop) -> Tuple[bool, float, flatuv.HandleType]:
    timer = flatuv.Timer(loop)
    timer.repeat = 0.25
    repeat: float = timer.repeat
    active: bool = timer.active or timer.closing
    kind: flatuv.HandleType = timer.type
    due: float = timer.due_in
    assert due >= 0 and repeat == 0.25
    timer.close()
    return active, repeat, kind


def synchronous(loop: flatuv.Loop) -> bytes:
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = flatuv.TCP(loop)
    client.connect_sync(server.getsockname(), timeout=5)
    conn: flatuv.TCP = server.accept_sync(timeout=None)
    client.send(b"ping", timeout=5.0)
    data: bytes = conn.recv(4, timeout=5)
    state: flatuv.TCPState = conn.state()
    linger: Tuple[bool, int] = conn.get_linger()
    assert state == flatuv.TCPState.ESTABLISHED and not linger[0]
    assert conn.readable and conn.writable and not conn.congested
    assert conn.write_queue_size == 0
    for handle in (server, client, conn):
        handle.close()
    loop.run()
    return data


def errors() -> str:
    try:
        flatuv.ip4_addr("not an address", 1)
    except flatuv.Error as error:
        code: int = error.code
        return "%s %s" % (error.name, flatuv.errorcode[code])
    return ""


def main() -> None:
    with flatuv.Loop() as loop:
        assert echo(loop, b"hello") == b"hello"
        properties(loop)
        assert synchronous(loop) == b"ping"
        timeout: Optional[float] = loop.backend_timeout()
        assert timeout is None or timeout >= 0
        assert loop.alive() is False
    assert errors() == "EINVAL EINVAL"
    name: str = flatuv.tcp_state_name(flatuv.TCPState.LISTEN)
    assert name == "LISTEN" and flatuv.version_string() == flatuv.__version__
    print("typing sample: ok")


if __name__ == "__main__":
    main()
