#!/usr/bin/env python3
"""A TCP echo client on flatuv, in Python, with the synchronous calls.

    python3 echo_client.py [--count K] [--size BYTES] [PORT] [IP]

Connects to IP (default 127.0.0.1) and PORT (default 7000) and sends K
messages (default 5) one at a time, each waiting for its whole echo and
checking it byte for byte. Messages are text of at least BYTES bytes.
Then it shuts down its side, waits for the server to close, and exits 0 if
every echo matched, 1 otherwise. Every wait has a 10 s timeout.

Needs the flatuv package: pip install ./python (from the repository).
"""
import argparse
import sys

import flatuv

TIMEOUT = 10.0


def message(i, size):
    text = "message %d from flatuv's Python echo client\n" % i
    if len(text) < size:
        text += "." * (size - len(text) - 1) + "\n"
    return text.encode()


def main():
    p = argparse.ArgumentParser(description="flatuv echo client")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--size", type=int, default=0)
    p.add_argument("port", type=int, nargs="?", default=7000)
    p.add_argument("ip", nargs="?", default="127.0.0.1")
    args = p.parse_args()

    loop = flatuv.Loop()
    tcp = flatuv.TCP(loop)
    failed = 0
    try:
        tcp.connect_sync((args.ip, args.port), timeout=TIMEOUT)
        tcp.nodelay(True)
        for i in range(args.count):
            sent = message(i, args.size)
            tcp.send(sent, timeout=TIMEOUT)
            echo = bytearray()
            while len(echo) < len(sent):
                chunk = tcp.recv(len(sent) - len(echo), timeout=TIMEOUT)
                if not chunk:
                    raise ConnectionError("the server closed early")
                echo += chunk
            if bytes(echo) != sent:
                failed += 1
                print("echo %d differs" % i, file=sys.stderr)
        tcp.shutdown()
        if tcp.recv(1, timeout=TIMEOUT) != b"":
            failed += 1
            print("unexpected bytes after the last echo", file=sys.stderr)
    except flatuv.Error as e:
        print("echo_client: %s" % e, file=sys.stderr)
        failed += 1
    finally:
        tcp.close()
        loop.run()
        loop.close()
    print("%d messages, %d echoes matched" % (args.count, args.count - failed
                                              if failed <= args.count else 0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
