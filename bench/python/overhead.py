#!/usr/bin/env python3
"""Per-call overhead of flatuv's Python binding, in nanoseconds per call.

    python3 overhead.py [--number N] [--repeat R]

Calls (best of R timeit repeats of N calls each):
  - tcp.nodelay(True)            a flatuv method that does one setsockopt(2)
  - sock.setsockopt(TCP_NODELAY) the same system call on a stdlib socket
  - tcp.has_ref()                a flatuv method that makes no system call
  - _flatuv.fuv_has_ref(tcp)     the SWIG function under it, no Python layer
  - write + callback             a write on a socketpair whose callback runs
                                 from the loop: libffi closure, bridge, GIL,
                                 Python call; with and without the GIL being
                                 released around the loop's wait, which
                                 prices the per-callback GIL hand-over.
"""
import argparse
import socket
import sys
import timeit

import flatuv
from flatuv import _flatuv


def write_callbacks(loop, writer, reader, n):
    """ns per write whose callback runs from the loop (reader drains)."""
    done = [0]
    data = b"x"

    def on_write(h, err):
        done[0] += 1

    def on_read(h, data, err):
        pass

    reader.read_start(on_read)
    start = timeit.default_timer()
    for i in range(n):
        writer.write(data, on_write)
        if i % 64 == 63:
            loop.run(flatuv.RUN_NOWAIT)
    while done[0] < n:
        loop.run(flatuv.RUN_NOWAIT)
    elapsed = timeit.default_timer() - start
    reader.read_stop()
    return elapsed / n * 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--number", type=int, default=200000)
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()

    loop = flatuv.Loop()
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    tcp = flatuv.TCP(loop)
    tcp.connect_sync(server.getsockname(), timeout=5)
    conn = server.accept_sync(timeout=5)
    sock = socket.create_connection(server.getsockname())
    peer = server.accept_sync(timeout=5)

    n, r = args.number, args.repeat
    g = {"tcp": tcp, "sock": sock, "socket": socket, "_flatuv": _flatuv}
    rows = [
        ("tcp.nodelay(True)", min(timeit.repeat("tcp.nodelay(True)", globals=g,
                                                number=n, repeat=r)) / n * 1e9),
        ("sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)",
         min(timeit.repeat("sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)",
                           setup="from socket import IPPROTO_TCP, TCP_NODELAY",
                           globals=g, number=n, repeat=r)) / n * 1e9),
        ("tcp.has_ref()", min(timeit.repeat("tcp.has_ref()", globals=g,
                                            number=n, repeat=r)) / n * 1e9),
        ("_flatuv.fuv_has_ref(tcp)",
         min(timeit.repeat("_flatuv.fuv_has_ref(tcp)", globals=g,
                           number=n, repeat=r)) / n * 1e9),
    ]
    fd0, fd1 = flatuv.socketpair(flatuv.SOCK_STREAM, 0, flatuv.NONBLOCK_PIPE,
                                 flatuv.NONBLOCK_PIPE)
    a, b = flatuv.TCP(loop), flatuv.TCP(loop)
    a.open(fd0)
    b.open(fd1)
    writes = max(n // 4, 1000)
    for release in (True, False):
        _flatuv._set_release_gil(release)
        cost = min(write_callbacks(loop, a, b, writes) for _ in range(r))
        rows.append(("write(b'x', cb) + its callback, GIL %s" %
                     ("released in run()" if release else "kept (no threads)"), cost))
    _flatuv._set_release_gil(True)

    width = max(len(name) for name, _ in rows)
    print("%-*s  ns/call" % (width, "call"))
    for name, ns in rows:
        print("%-*s  %7.1f" % (width, name, ns))
    ratio = rows[0][1] / rows[1][1]
    print("flatuv nodelay / socket.setsockopt: %.2fx" % ratio)

    sock.close()
    peer.close()
    loop.walk(lambda h: h.close())
    loop.run()
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
