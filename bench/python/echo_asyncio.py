#!/usr/bin/env python3
"""Echo server on asyncio (stdlib), with asyncio.Protocol and TCP_NODELAY;
echo_uvloop.py runs the same code on uvloop.

Usage: python3 echo_asyncio.py PORT. Prints "listening PORT" when ready;
exits cleanly on SIGTERM or SIGINT.
"""
import asyncio
import signal
import socket
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        self.transport.close()


async def serve(port):
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()
    for signo in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signo, stopped.set_result, None)
    server = await loop.create_server(Echo, "127.0.0.1", port, backlog=511)
    print("listening", server.sockets[0].getsockname()[1], flush=True)
    await stopped
    server.close()
    await server.wait_closed()


def main(loop_factory=None):
    port = int(sys.argv[1])
    if loop_factory is None:
        asyncio.run(serve(port))
    else:
        loop = loop_factory()
        try:
            loop.run_until_complete(serve(port))
        finally:
            loop.close()


if __name__ == "__main__":
    main()
