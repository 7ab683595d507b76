#!/usr/bin/env python3
"""Echo server on flatuv's Python binding, written as a user would write it:
read_start, and in the read callback write(data) back.

Usage: python3 echo_flatuv.py PORT. Prints "listening PORT" when ready;
exits cleanly (every handle closed, loop freed) on SIGTERM or SIGINT.
"""
import signal
import sys

import flatuv


def main():
    port = int(sys.argv[1])
    loop = flatuv.Loop()
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", port))

    def on_read(client, data, error):
        if data is not None:
            client.write(data)
        else:
            client.close()

    def on_connection(server, error):
        if error is None:
            client = server.accept()
            client.nodelay(True)
            client.read_start(on_read)

    server.listen(on_connection, backlog=511)

    # A signal interrupts the loop's wait; its handler wakes the loop, which
    # closes everything, and run() returns.
    stop = flatuv.Async(loop, lambda a: loop.walk(lambda h: h.close()))
    for signo in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signo, lambda *args: stop.send())

    print("listening", server.getsockname()[1], flush=True)
    loop.run()
    loop.close()


if __name__ == "__main__":
    main()
