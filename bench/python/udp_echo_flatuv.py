#!/usr/bin/env python3
"""UDP echo server on flatuv's Python binding, written as a pyuv user
would write it: start_recv, and in its callback send(address, data) back
(which sends at once when nothing is queued). The handle receives with
recvmmsg (UDP_RECVMMSG), as the C server does.

Usage: python3 udp_echo_flatuv.py PORT. Binds 127.0.0.1:PORT, prints
"listening PORT" when ready; exits cleanly (every handle closed, loop
freed) on SIGTERM or SIGINT.
"""
import signal
import sys

import flatuv


def main():
    port = int(sys.argv[1])
    loop = flatuv.Loop()
    server = flatuv.UDP(loop, flatuv.AF_INET, flags=flatuv.UDP_RECVMMSG)
    server.bind(("127.0.0.1", port))

    def on_datagram(handle, address, flags, data, error):
        if error is None:
            handle.send(address, data)

    server.start_recv(on_datagram)

    # As echo_flatuv.py: a signal wakes the loop, which closes everything.
    stop = flatuv.Async(loop, lambda a: loop.walk(lambda h: h.close()))
    for signo in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signo, lambda *args: stop.send())

    print("listening", port, flush=True)
    loop.run()
    loop.close()


if __name__ == "__main__":
    main()
