"""Lifetime rules: identity of callback objects, active handles kept alive,
idle handles closed by the GC, double close, use after close, loops and
handles collected in any order, exceptions and Ctrl-C in callbacks, and
flat memory over many create/close cycles."""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import weakref

import pytest

import flatuv
from conftest import collect, fd_target, listener, open_fds, run


def test_callbacks_get_the_objects_the_user_holds(loop, host):
    seen = {}

    def on_read(c, data, error):
        seen["read"] = c
        c.close(lambda h: seen.setdefault("close", h))

    def on_connection(server, error):
        seen["server"] = server
        seen["accepted"] = server.accept()
        seen["accepted"].read_start(on_read)

    server, port = listener(loop, host, on_connection)
    client = flatuv.TCP(loop)

    def on_connect(c, error):
        seen["connect"] = c
        c.write(b"x", lambda h, err: seen.setdefault("write", h))
        c.shutdown(lambda h, err: (seen.setdefault("shutdown", h), h.close(),
                                   server.close()))

    client.connect((host, port), on_connect)
    run(loop)
    assert seen["server"] is server
    assert seen["connect"] is client and seen["write"] is client
    assert seen["shutdown"] is client
    assert seen["read"] is seen["accepted"] and seen["close"] is seen["accepted"]
    assert seen["accepted"].loop is loop and server.loop is loop


def test_del_of_an_active_server_keeps_it_listening(loop):
    connections = []

    def on_connection(server, error):
        connections.append(id(server))
        server.accept().close()
        server.close()

    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen(on_connection)
    port = server.getsockname()[1]
    server_id = id(server)
    ref = weakref.ref(server)
    del server
    collect()
    assert ref() is not None  # listening: alive without user references
    client = flatuv.TCP(loop)
    client.connect(("127.0.0.1", port), lambda c, e: c.close())
    run(loop)
    assert connections == [server_id]
    del client
    collect()
    assert ref() is None  # closed and freed: nothing holds it any more


def test_active_timer_lives_and_is_released_after_firing(loop):
    fired = []
    timer = flatuv.Timer(loop)
    timer.start(lambda t: fired.append(t), 0)
    ref = weakref.ref(timer)
    del timer
    collect()
    assert ref() is not None
    run(loop)
    assert len(fired) == 1 and fired[0] is ref()
    del fired[:]
    collect()
    # Inactive and unreferenced: the GC closed it; the close finishes on
    # the next run.
    assert ref() is None
    count = []
    loop.walk(count.append)
    assert count == []


def test_gc_closes_idle_open_handles(loop):
    before = open_fds()
    tcp = flatuv.TCP(loop)
    tcp.bind(("127.0.0.1", 0))
    socket_fd = fd_target(tcp.fileno())
    assert socket_fd.startswith("socket:") and socket_fd in open_fds()
    ref = weakref.ref(tcp)
    del tcp
    collect()
    assert ref() is None
    assert socket_fd not in open_fds()
    handles = []
    loop.walk(handles.append)
    assert handles == []  # closing
    loop.run(flatuv.RUN_NOWAIT)  # the close completes in the loop
    assert open_fds() == before


def test_double_close_and_use_after_close(loop):
    closes = []
    timer = flatuv.Timer(loop)
    timer.close(lambda t: closes.append(t))
    assert timer.closed and timer.closing
    with pytest.raises(flatuv.Error) as info:
        timer.close()  # closing
    assert info.value.name == "EINVAL"
    run(loop)
    assert closes == [timer]
    assert timer.closed and not timer.closing and not timer.active
    for call in (timer.close, timer.stop, timer.again, timer.ref, timer.unref,
                 lambda: timer.start(lambda t: None, 1), lambda: timer.repeat,
                 lambda: timer.due_in, timer.has_ref, timer.fileno,
                 lambda: timer.type):
        with pytest.raises(flatuv.Error) as info:
            call()
        assert info.value.name == "EINVAL"
        assert "closed" in info.value.strerror
    assert closes == [timer]


def test_close_with_pending_writes_then_gc(loop):
    """A handle closed with writes queued stays alive until its close
    callback, even without references, and every callback runs once."""
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = flatuv.TCP(loop)
    client.connect_sync(server.getsockname(), timeout=5)
    conn = server.accept_sync(timeout=5)
    events = []
    client.write(b"z" * (16 << 20), lambda h, e: events.append(("write", e.name)))
    client.close(lambda h: events.append(("close", h)))
    ref = weakref.ref(client)
    del client
    collect()
    assert ref() is not None
    run(loop)
    assert events[0] == ("write", "ECANCELED")
    assert events[1][0] == "close" and events[1][1] is not None
    del events[:]
    collect()
    assert ref() is None
    conn.close()
    server.close()


def test_write_without_callback_keeps_the_handle_until_sent(loop):
    """A dropped handle with bytes queued is kept until they are sent, then
    closed by the GC; the peer gets every byte."""
    size = 32 << 20
    got = [0]
    ended = []

    def on_read(c, data, error):
        if data is None:
            ended.append(error)
            c.close()
            server.close()
        else:
            got[0] += len(data)

    def on_connection(srv, error):
        srv.accept().read_start(on_read)

    server, port = listener(loop, "127.0.0.1", on_connection)
    client = flatuv.TCP(loop)
    client.connect_sync(("127.0.0.1", port), timeout=5)
    client.write(b"q" * size)
    assert client.write_queue_size > 0
    ref = weakref.ref(client)
    del client
    collect()
    assert ref() is not None  # writing: kept
    run(loop)  # the server reads everything, then the GC closes the client
    assert got[0] == size
    assert ended == [None]
    assert ref() is None


def test_loop_and_handles_collected_in_any_order():
    """Cycles of a loop and its handles, collected by the GC: every fd is
    closed and nothing crashes, whichever finalizer runs first."""
    before = open_fds()
    for shape in range(6):
        loop = flatuv.Loop()
        handles = [flatuv.TCP(loop), flatuv.Timer(loop), flatuv.TCP(loop)]
        handles[0].bind(("127.0.0.1", 0))
        handles[2].bind(("::1" if shape % 2 else "127.0.0.1", 0)) if shape % 3 else None
        if shape == 0:
            loop.data = handles
        elif shape == 1:
            for handle in handles:
                handle.data = loop
            del handle
            loop.data = handles[::-1]
        elif shape == 2:
            handles[0].data = handles
            handles[1].data = loop
        elif shape == 3:
            loop.data = loop
            handles[2].data = handles[2]
        elif shape == 4:
            handles[1].close()  # closing when collected
            loop.data = handles
        else:
            handles[0].listen(lambda s, e: None)  # active: held
            handles[0].close()  # closing again releases it
            loop.data = handles
        del handles, loop
        collect()
    assert open_fds() <= before


def test_loop_collected_while_handles_are_referenced():
    """The loop outlives its handles' Python references in either order."""
    loop = flatuv.Loop()
    tcp = flatuv.TCP(loop)
    tcp.bind(("127.0.0.1", 0))
    loop_ref = weakref.ref(loop)
    del loop
    collect()
    assert loop_ref() is not None  # the handle keeps it
    assert tcp.loop is loop_ref()
    del tcp
    collect()
    assert loop_ref() is None


def test_exception_in_callback_stops_run_and_propagates(loop):
    class Boom(Exception):
        pass

    ticks = []

    def tick(timer):
        ticks.append(len(ticks))
        if len(ticks) == 2:
            raise Boom("from a callback")

    timer = flatuv.Timer(loop)
    timer.start(tick, 0, repeat=0.001)
    with pytest.raises(Boom) as info:
        loop.run()
    assert "from a callback" in str(info.value)
    assert info.value.__traceback__ is not None
    assert ticks == [0, 1]
    # The loop is usable: it carries on where it stopped.
    other = flatuv.Timer(loop)
    other.start(lambda t: (timer.close(), t.close()), 0.005)
    loop.run()
    assert len(ticks) >= 3
    assert not loop.alive()


def test_exception_in_walk_callback_raises_from_walk(loop):
    flatuv.Timer(loop)
    keep = flatuv.TCP(loop)
    with pytest.raises(ZeroDivisionError):
        loop.walk(lambda h: 1 / 0)
    # A failed walk does not stop a later run.
    fired = []
    t = flatuv.Timer(loop)
    t.start(lambda h: fired.append(1), 0)
    loop.run()
    assert fired == [1]
    del keep


# The child Python must treat SIGINT as an interactive one does, raising
# KeyboardInterrupt: Python keeps an ignored SIGINT ignored, and a test run
# started as a background job of a non-interactive shell inherits exactly
# that, so without this line these tests would measure how they were
# launched rather than flatuv.
SIGINT_AS_INTERACTIVE = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n")


def test_ctrl_c_during_run_raises_keyboard_interrupt_and_loop_stays_usable():
    script = SIGINT_AS_INTERACTIVE + textwrap.dedent("""
        import sys, flatuv
        loop = flatuv.Loop()
        server = flatuv.TCP(loop)
        server.bind(("127.0.0.1", 0))
        server.listen(lambda s, e: None)   # keeps the loop waiting in poll
        t = flatuv.Timer(loop)
        t.start(lambda t: (print("ready", flush=True)), 0)
        try:
            loop.run()
            print("run returned", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        fired = []
        t.start(lambda t: (fired.append(1), server.close(), t.close()), 0)
        loop.run()
        print("usable" if fired else "not usable", flush=True)
        loop.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.split() == ["interrupted", "usable"], (out, err)


def test_ctrl_c_arriving_between_callbacks_still_interrupts_an_idle_loop():
    # The signal is raised as the last act of a callback: CPython only looks
    # at pending signals at certain bytecodes, so it is still pending when
    # the loop goes back to wait, too late for EINTR. The loop's wake-up fd,
    # given to signal.set_wakeup_fd during run(), must end that wait.
    script = SIGINT_AS_INTERACTIVE + textwrap.dedent("""
        import os, signal, flatuv
        loop = flatuv.Loop()
        idle = flatuv.Timer(loop)
        idle.start(lambda t: print("not interrupted", flush=True), 20.0)
        kick = flatuv.Timer(loop)
        kick.start(lambda t: os.kill(os.getpid(), signal.SIGINT), 0)
        try:
            loop.run()
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        idle.close()
        kick.close()
        loop.run()
        print("wakeup fd restored" if signal.set_wakeup_fd(-1) == -1 else "leaked",
              flush=True)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=15)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["interrupted", "wakeup fd restored"], (
        proc.stdout, proc.stderr)


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_ten_thousand_create_close_cycles_keep_memory_flat(loop):
    def cycle(n):
        for i in range(n):
            tcp = flatuv.TCP(loop)
            tcp.bind(("127.0.0.1", 0))
            timer = flatuv.Timer(loop)
            timer.start(lambda t: None, 10)
            tcp.close(lambda h: None)
            timer.close()
            if i % 3 == 0:
                flatuv.TCP(loop)  # dropped: closed by the GC
            if i % 100 == 99:
                loop.run(flatuv.RUN_NOWAIT)
        loop.run()

    cycle(2000)  # warm-up: pools and allocator arenas reach their size
    collect()
    before = rss_kib()
    fds = len(open_fds())
    cycle(10000)
    collect()
    after = rss_kib()
    assert len(open_fds()) == fds
    handles = []
    loop.walk(handles.append)
    assert handles == []
    # Flat: a leak of even one small object per cycle would be > 1 MiB here.
    assert after - before < 1024, (before, after)
