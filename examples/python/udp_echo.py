#!/usr/bin/env python3
"""A UDP echo server and client on flatuv, in Python, in pyuv's style.

    python3 udp_echo.py [COUNT] [PORT] [IP]

The server binds IP (default 127.0.0.1) and PORT (default 0: a free port)
and sends every datagram back to its sender; the client sends COUNT
(default 3) datagrams to it, one after each echo, prints each echo with
the address it came from, and both close after the last. Written against
pyuv's API only (UDP(loop), bind, start_recv, send, getsockname), so it
runs unchanged with `import pyuv as flatuv`.

Needs the flatuv package: pip install ./python (from the repository).
"""
import sys

try:
    import flatuv
except ImportError:  # the same program on pyuv
    import pyuv as flatuv


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    ip = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"

    loop = flatuv.Loop.default_loop()
    server = flatuv.UDP(loop)
    server.bind((ip, port))
    server_addr = server.getsockname()
    client = flatuv.UDP(loop)
    client.bind((ip, 0))
    echoed = []

    def on_server_recv(handle, address, flags, data, error):
        if error is not None:
            print("server: %s" % error, file=sys.stderr)
            return
        handle.send(address, data)

    def on_client_recv(handle, address, flags, data, error):
        if error is not None:
            print("client: %s" % error, file=sys.stderr)
            return
        echoed.append(data)
        print("echo %r from %s:%d" % (data.decode(), address[0], address[1]))
        if len(echoed) == count:
            server.close()
            client.close()
        else:
            client.send(server_addr, b"datagram %d" % (len(echoed) + 1))

    def on_sent(handle, error):
        if error is not None:
            print("send: %s" % error, file=sys.stderr)

    server.start_recv(on_server_recv)
    client.start_recv(on_client_recv)
    print("server on %s:%d" % server_addr)
    client.send(server_addr, b"datagram 1", on_sent)
    loop.run()
    print("echoed %d datagrams" % len(echoed))
    return 0 if len(echoed) == count else 1


if __name__ == "__main__":
    sys.exit(main())
