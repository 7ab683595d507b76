#!/usr/bin/env python3
"""A TCP echo server on flatuv, in Python.

    python3 echo_server.py [--once N] [PORT] [IP]

Listens on IP (default 127.0.0.1; "::1" or "::" for IPv6) and PORT (default
7000; 0 picks a free port). Prints "listening PORT" once it accepts
connections. Every byte a client sends is written back; when the client
finishes sending, the server shuts down its side after the last echo and
closes the connection. With --once N it stops listening after N connections
and exits once they are closed. Ctrl-C (or SIGTERM) stops it cleanly.

Needs the flatuv package: pip install ./python (from the repository).
"""
import argparse
import signal
import sys

import flatuv


def main():
    p = argparse.ArgumentParser(description="flatuv echo server")
    p.add_argument("--once", type=int, default=0, metavar="N",
                   help="stop listening after N connections")
    p.add_argument("port", type=int, nargs="?", default=7000)
    p.add_argument("ip", nargs="?", default="127.0.0.1")
    args = p.parse_args()

    loop = flatuv.Loop()
    server = flatuv.TCP(loop)
    server.bind((args.ip, args.port))
    accepted = [0]

    def on_read(client, data, error):
        if data is not None:
            client.write(data)
            client.data["bytes"] += len(data)
            return
        if error is not None:  # the peer is gone: nothing more to send
            print("%s: %s" % (client.data["peer"], error), file=sys.stderr)
            client.close()
            return
        # End of stream: shut down after the last echo, then close.
        print("%s: echoed %d bytes" % (client.data["peer"], client.data["bytes"]))
        client.shutdown(lambda c, err: c.close())

    def on_connection(server, error):
        if error is not None:
            print("accept: %s" % error, file=sys.stderr)
            return
        client = server.accept()
        host, port = client.getpeername()
        client.data = {"peer": "[%s]:%d" % (host, port), "bytes": 0}
        client.nodelay(True)
        client.read_start(on_read)
        accepted[0] += 1
        if args.once and accepted[0] >= args.once:
            server.close()

    server.listen(on_connection)

    # A signal interrupts the loop's wait for events; the handler runs in
    # Python and closes the listener and every connection.
    def stop(signo, frame):
        loop.walk(lambda handle: handle.close())

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print("listening %d" % server.getsockname()[1], flush=True)
    loop.run()
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
