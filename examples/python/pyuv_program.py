"""A program written in pyuv's documented style, not against flatuv.

It imports ``pyuv`` and uses pyuv's documented API (pyuv 1.x: Loop, Idle,
Prepare, Check, Timer, TCP, Pipe, their callbacks' arguments). It runs
unchanged on flatuv: ``examples/python/run_pyuv_program.sh`` makes the name
``pyuv`` import flatuv and compares what the program printed with
``pyuv_program.expected``::

    python3 -c 'import sys, runpy, flatuv; sys.modules["pyuv"] = flatuv;
                runpy.run_path("examples/python/pyuv_program.py", run_name="__main__")'

Every line it prints is independent of timing:

1. idle, prepare and check handles in the order of a loop iteration; the
   idle handle keeps the loop from blocking;
2. timers: a repeating one stopped after three ticks, one-shot ones firing
   in order of their timeouts;
3. a TCP echo server that accepts into a handle it made (``accept(client)``),
   with bound methods and callable objects as callbacks;
4. the same over a pipe (a Unix domain socket) in a temporary directory.
"""

import os
import tempfile

import pyuv


def loop_phases(loop):
    order = []
    idle, prepare, check = pyuv.Idle(loop), pyuv.Prepare(loop), pyuv.Check(loop)
    iterations = [0]

    def on_check(handle):
        order.append("check")
        iterations[0] += 1
        if iterations[0] == 2:
            for h in (idle, prepare, check):
                h.stop()
                h.close()

    idle.start(lambda handle: order.append("idle"))
    prepare.start(lambda handle: order.append("prepare"))
    check.start(on_check)
    loop.run()  # nothing else is active, yet idle keeps the loop turning
    print("phases", ",".join(order))
    print("idle closed:", idle.closed)


def timers(loop):
    fired, ticks = [], [0]
    repeating = pyuv.Timer(loop)

    def on_tick(timer):
        ticks[0] += 1
        if ticks[0] == 3:
            timer.stop()
            timer.close()

    repeating.start(on_tick, 0.005, 0.005)
    for seconds in (0.030, 0.010, 0.020):
        def on_fire(timer, seconds=seconds):
            fired.append("%d" % round(seconds * 1000))
            timer.close()
        pyuv.Timer(loop).start(on_fire, seconds, 0)
    loop.run()
    print("repeating timer ticked %d times" % ticks[0])
    print("one-shot timers fired", ",".join(fired))


class Recorder:
    """A callable object: pyuv calls anything callable."""

    def __init__(self, log, name):
        self.log, self.name = log, name

    def __call__(self, handle, error):
        self.log.append("%s:%s" % (self.name, "ok" if error is None else error))


class EchoServer:
    """Serves one connection: bound methods as callbacks."""

    def __init__(self, server, make_client):
        self.server, self.make_client = server, make_client
        server.listen(self.on_connection)

    def on_connection(self, server, error):
        assert error is None, error
        self.client = self.make_client()
        server.accept(self.client)
        self.client.start_read(self.on_read)

    def on_read(self, client, data, error):
        if data is None:
            client.shutdown(self.on_shutdown)
        else:
            client.write(data)

    def on_shutdown(self, client, error):
        client.close()
        self.server.close()


MESSAGES = [b"hello ", b"from ", b"a pyuv program"]


def client_run(client, connect, log):
    received = []

    def on_read(handle, data, error):
        if data is None:
            log.append("eof")
            handle.close()
        else:
            received.append(data)

    def on_connect(handle, error):
        assert error is None, error
        log.append("connected")
        for i, message in enumerate(MESSAGES, 1):
            handle.write(message, Recorder(log, "write%d" % i))
        handle.shutdown(Recorder(log, "shutdown"))
        handle.start_read(on_read)

    connect(client, on_connect)
    return received


def tcp_echo(loop):
    log = []
    server = pyuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    host, port = server.getsockname()
    EchoServer(server, lambda: pyuv.TCP(loop))
    received = client_run(pyuv.TCP(loop),
                          lambda c, cb: c.connect((host, port), cb), log)
    loop.run()
    print("tcp:", " ".join(log))
    print("tcp echo:", b"".join(received))


def pipe_echo(loop):
    log = []
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "echo.sock")
        server = pyuv.Pipe(loop)
        server.bind(path)
        print("pipe name matches:", server.getsockname() == path)
        EchoServer(server, lambda: pyuv.Pipe(loop))
        received = client_run(pyuv.Pipe(loop),
                              lambda c, cb: c.connect(path, cb), log)
        loop.run()
    print("pipe:", " ".join(log))
    print("pipe echo:", b"".join(received))


def main():
    loop = pyuv.Loop.default_loop()
    loop_phases(loop)
    timers(loop)
    tcp_echo(loop)
    pipe_echo(loop)


if __name__ == "__main__":
    main()
