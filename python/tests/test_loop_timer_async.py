"""Loops, timers and async handles, including Async.send from other
threads while the loop waits without the GIL."""

import threading

import pytest

import flatuv
from conftest import fd_target, open_fds, run


def test_timers_fire_in_order_and_repeat(loop):
    order = []
    timers = []
    for delay, name in ((0.03, "c"), (0.01, "a"), (0.02, "b"), (0.01, "a2")):
        t = flatuv.Timer(loop)
        t.start(lambda h, name=name: order.append(name), delay)
        timers.append(t)
    zero = flatuv.Timer(loop)
    zero.start(lambda h: order.append("zero"), 0)
    assert order == []  # never inside start()
    run(loop)
    assert order == ["zero", "a", "a2", "b", "c"]

    count = []
    rep = flatuv.Timer(loop)

    def tick(t):
        count.append(1)
        if len(count) == 3:
            t.stop()

    rep.start(tick, 0, repeat=0.002)
    assert rep.repeat == pytest.approx(0.002)
    assert rep.active
    run(loop)
    assert len(count) == 3 and not rep.active


def test_timer_again_repeat_due_in(loop):
    t = flatuv.Timer(loop)
    with pytest.raises(flatuv.Error):
        t.again()  # never started
    t.start(lambda h: None, 10, repeat=0)
    assert 9 < t.due_in <= 10
    t.repeat = 0.5
    assert t.repeat == 0.5
    t.again()
    assert 0.4 < t.due_in <= 0.5
    t.stop()
    assert t.due_in == 0 and not t.active
    t.stop()  # stopping twice is fine


def test_unref_timer_does_not_keep_the_loop(loop):
    fired = []
    t = flatuv.Timer(loop)
    t.start(lambda h: fired.append(1), 60)
    t.unref()
    assert not t.has_ref()
    assert loop.run() is False  # returns at once: nothing referenced
    assert fired == []
    t.ref()
    assert t.has_ref()
    t.start(lambda h: fired.append(1), 0)
    run(loop)
    assert fired == [1]


def test_run_modes_stop_alive_now(loop):
    assert loop.alive() is False
    assert loop.run(flatuv.RUN_NOWAIT) is False
    t = flatuv.Timer(loop)
    t.start(lambda h: loop.stop(), 0, repeat=0.001)
    assert loop.alive() is True
    assert loop.run() is True  # stopped with the timer still active
    assert loop.run(flatuv.RUN_ONCE) is True
    before = loop.now()
    loop.update_time()
    assert loop.now() >= before
    assert loop.backend_fd() >= 0
    assert loop.backend_timeout() is not None
    assert loop.metrics_loop_count() >= 2
    assert loop.metrics_events() >= 0
    t.close()
    assert loop.run() is False
    with pytest.raises(flatuv.Error):
        loop.run(99)


def test_walk_sees_every_handle_in_order(loop):
    a = flatuv.TCP(loop)
    b = flatuv.Timer(loop)
    c = flatuv.Async(loop, lambda h: None)
    seen = []
    loop.walk(seen.append)
    assert seen == [a, b, c]
    assert [h.type for h in seen] == [flatuv.HandleType.TCP, flatuv.HandleType.TIMER,
                                      flatuv.HandleType.ASYNC]
    assert [flatuv.handle_type_name(h.type) for h in seen] == ["tcp", "timer", "async"]
    b.close()
    seen = []
    loop.walk(seen.append)
    assert seen == [a, c]  # closing handles are not visited


def test_run_from_a_callback_is_busy(loop):
    errors = []

    def nested(t):
        try:
            loop.run()
        except flatuv.Error as e:
            errors.append(e.name)
        try:
            loop.close()
        except flatuv.Error as e:
            errors.append(e.name)

    flatuv.Timer(loop).start(nested, 0)
    run(loop)
    assert errors == ["EBUSY", "EBUSY"]


def test_async_send_from_other_threads(loop):
    """Threads call send() while the loop waits in poll without the GIL;
    every round trip completes, each callback gets the Async object."""
    rounds = 200
    got = []
    ready = threading.Semaphore(0)

    def on_async(handle):
        assert handle is asy
        got.append(1)
        ready.release()
        if len(got) == rounds:
            handle.close()

    asy = flatuv.Async(loop, on_async)

    def sender():
        for _ in range(rounds):
            asy.send()
            assert ready.acquire(timeout=10)

    thread = threading.Thread(target=sender)
    thread.start()
    run(loop)
    thread.join(10)
    assert not thread.is_alive()
    assert len(got) == rounds
    assert asy.closed


def test_other_threads_may_only_send_while_the_loop_runs(loop):
    """Touching a running loop's handles from another thread raises (the C
    loop is not thread-safe) instead of racing; Async.send works."""
    tcp = flatuv.TCP(loop)
    timer = flatuv.Timer(loop)
    outcomes = []

    def worker():
        for call in (lambda: tcp.bind(("127.0.0.1", 0)), lambda: timer.start(print, 1),
                     loop.stop, loop.alive, lambda: timer.close()):
            try:
                call()
                outcomes.append("ran")
            except flatuv.Error as e:
                outcomes.append(e.name)
        asy.send()

    asy = flatuv.Async(loop, lambda h: h.close())
    thread = threading.Thread(target=worker)
    starter = flatuv.Timer(loop)
    starter.start(lambda t: (t.close(), thread.start()), 0)
    run(loop)
    thread.join(10)
    assert outcomes == ["EBUSY"] * 5
    assert asy.closed and not timer.closed
    tcp.bind(("127.0.0.1", 0))  # from the loop's thread, when it is not running


def test_async_sends_coalesce(loop):
    calls = []
    asy = flatuv.Async(loop, lambda h: (calls.append(1), h.close()))
    for _ in range(100):
        asy.send()
    run(loop)
    assert calls == [1]
    with pytest.raises(flatuv.Error):
        asy.send()  # closed


def test_idle_handle_dropped_on_another_thread_is_closed_by_the_loop(loop):
    """The last reference to an idle handle dies on a thread other than the
    one running the loop: the loop's own thread closes it."""
    idle = flatuv.TCP(loop)
    idle.bind(("127.0.0.1", 0))
    socket_fd = fd_target(idle.fileno())
    box = [idle]
    del idle
    stopper = flatuv.Async(loop, lambda h: h.close())

    def drop():
        box.pop()  # the finalizer runs here, while the loop runs
        stopper.send()

    thread = threading.Thread(target=drop)
    timer = flatuv.Timer(loop)
    timer.start(lambda t: (t.close(), thread.start()), 0)
    run(loop)
    thread.join(10)
    assert not box
    seen = []
    loop.walk(seen.append)
    assert seen == []
    assert socket_fd not in open_fds()


def test_loop_context_manager_closes_everything():
    with flatuv.Loop() as loop:
        flatuv.TCP(loop).bind(("127.0.0.1", 0))
        keep = flatuv.Timer(loop)
        keep.start(lambda t: None, 100)
    assert loop.closed and keep.closed
    with pytest.raises(flatuv.Error):
        loop.run()
    with pytest.raises(flatuv.Error):
        flatuv.TCP(loop)


def test_handle_repr_and_data(loop):
    t = flatuv.Timer(loop)
    t.data = {"any": "object"}
    assert t.data == {"any": "object"}
    assert "Timer idle" in repr(t)
    t.start(lambda h: None, 1)
    assert "Timer active" in repr(t)
    t.close()
    assert "Timer closed" in repr(t)
    loop.data = 42
    assert loop.data == 42
