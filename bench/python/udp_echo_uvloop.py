#!/usr/bin/env python3
"""UDP echo server on uvloop: create_datagram_endpoint with a
DatagramProtocol whose datagram_received sends the data straight back
(uvloop's sendto tries the send at once and queues only what the kernel
refuses).

Usage: python3 udp_echo_uvloop.py PORT. Binds 127.0.0.1:PORT, prints
"listening PORT" when ready; exits cleanly on SIGTERM or SIGINT.
"""
import asyncio
import signal
import sys

import uvloop


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


async def serve(port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signo in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signo, stop.set_result, None)
    transport, _ = await loop.create_datagram_endpoint(
        Echo, local_addr=("127.0.0.1", port))
    print("listening", port, flush=True)
    await stop
    transport.close()


if __name__ == "__main__":
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(serve(int(sys.argv[1])))
    finally:
        loop.close()
