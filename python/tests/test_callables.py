"""Callables: every argument that takes a callback takes any callable, as
pyuv does (bound methods, functools.partial, instances with __call__,
builtins), and anything else is a TypeError naming its type."""

import functools

import pytest

import flatuv
from conftest import run


class Recorder:
    """Records each call by name; its bound methods and instances with a
    name (see __call__) are the callables under test."""

    def __init__(self):
        self.calls = []

    def method(self, *args):
        self.calls.append("method")

    def named(self, name, *args):
        self.calls.append(name)


class CallableObject:
    def __init__(self, recorder, name, then=None):
        self.recorder, self.name, self.then = recorder, name, then

    def __call__(self, *args):
        self.recorder.calls.append(self.name)
        if self.then is not None:
            self.then(*args)


def test_timers_asyncs_walk_and_close_take_any_callable(loop):
    rec = Recorder()
    t1, t2, t3 = flatuv.Timer(loop), flatuv.Timer(loop), flatuv.Timer(loop)
    t1.start(rec.method, 0)                                  # bound method
    t2.start(functools.partial(rec.named, "partial"), 0)     # partial
    t3.start(CallableObject(rec, "instance"), 0)             # __call__
    async_ = flatuv.Async(loop, CallableObject(rec, "async",
                                               lambda h: h.close()))
    async_.send()
    run(loop)
    loop.walk(functools.partial(rec.named, "walk"))
    t1.close(CallableObject(rec, "close"))
    t2.close(functools.partial(rec.named, "close2"))
    t3.close()
    run(loop)
    assert sorted(rec.calls) == sorted(
        ["method", "partial", "instance", "async", "close", "close2"]
        + ["walk"] * rec.calls.count("walk"))
    assert rec.calls.count("walk") >= 3


def test_streams_take_any_callable(loop):
    rec = Recorder()
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))

    def on_server_read(conn, data, error):
        if data is not None:
            conn.write(data)
        else:
            conn.close()

    def on_connection(srv, error):
        conn = srv.accept()
        conn.read_start(CallableObject(rec, "server read", on_server_read))
        srv.close()

    server.listen(CallableObject(rec, "listen", on_connection))
    client = flatuv.TCP(loop)
    client.set_water_marks(1, 0, functools.partial(rec.named, "drain"))

    def on_client_read(handle, data, error):
        if data == b"hi":
            handle.shutdown(functools.partial(rec.named, "shutdown"))
        elif data is None:
            handle.close()

    def on_connect(handle, error):
        handle.write(b"hi", rec.method)
        handle.read_start(CallableObject(rec, "client read", on_client_read))

    client.connect(server.getsockname(), CallableObject(rec, "connect", on_connect))
    run(loop)
    for name in ("listen", "connect", "method", "server read", "client read",
                 "shutdown"):
        assert name in rec.calls, name


@pytest.mark.parametrize("bad", ["f", 42, object(), [print]])
def test_non_callables_are_a_type_error(loop, bad):
    timer = flatuv.Timer(loop)
    with pytest.raises(TypeError, match="callable"):
        timer.start(bad, 0)
    with pytest.raises(TypeError, match="callable"):
        timer.close(bad)
    assert not timer.active and not timer.closing
    timer.close()
    run(loop)
