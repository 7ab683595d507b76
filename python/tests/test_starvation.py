"""Callbacks that re-arm themselves must leave the rest of the loop its turn
(issue 17, item 3): an Async that sends itself from its callback, a 0 s
timer restarted in its own callback, a write issued from the write
callback, and a peer that never stops sending. In each, a timer must still
fire and another handle's I/O still progress, within a bounded number of
loop iterations (the bound is on Loop.metrics_loop_count(), not on time).

Each program runs in a child with a watchdog: starvation is a hang, and a
hang must fail the test rather than stall the suite."""

import textwrap

import pytest

from conftest import run_child

# Shared by every program: an echo pair over loopback whose round trips
# count as "another handle's I/O", and a timer that ends the run.
PRELUDE = """
    import socket, flatuv
    L = flatuv.Loop()
    a_sock, b_sock = socket.socketpair()
    a = flatuv.TCP(L); a.open(a_sock.detach())
    b = flatuv.TCP(L); b.open(b_sock.detach())
    echoes = []
    def on_echo(h, data, err):
        if data is not None:
            echoes.append(data)
            if len(echoes) < 5:
                a.write(b"ping")
    b.read_start(lambda h, data, err: data is not None and h.write(data))
    a.read_start(on_echo)
    a.write(b"ping")
    fired = []
    def on_timer(h):
        fired.append(L.metrics_loop_count())
        L.stop()
    deadline = flatuv.Timer(L); deadline.start(on_timer, 0.05)
"""

# The run must end by the timer, with the echo having gone round; then the
# re-arming handle is closed and the rest is torn down.
EPILOGUE = """
    start = L.metrics_loop_count()
    L.run()
    iterations = L.metrics_loop_count() - start
    print("fired", len(fired), "echoes", len(echoes), "iterations", iterations,
          "rearmed", count[0])
"""

SHAPES = {
    "async_sends_itself": """
        count = [0]
        def again(h):
            count[0] += 1
            h.send()
        spin = flatuv.Async(L, again); spin.send()
    """,
    "zero_timer_restarted_in_its_callback": """
        count = [0]
        def again(h):
            count[0] += 1
            h.start(again, 0)
        spin = flatuv.Timer(L); spin.start(again, 0)
    """,
    "write_from_the_write_callback": """
        count = [0]
        c_sock, d_sock = socket.socketpair()
        c = flatuv.TCP(L); c.open(c_sock.detach())
        d = flatuv.TCP(L); d.open(d_sock.detach())
        d.read_start(lambda h, data, err: None)
        def again(h, err):
            count[0] += 1
            if err is None:
                h.write(b"x", again)
        c.write(b"x", again)
    """,
    "a_peer_that_never_stops_sending": """
        count = [0]
        c_sock, d_sock = socket.socketpair()
        c = flatuv.TCP(L); c.open(c_sock.detach())
        d = flatuv.TCP(L); d.open(d_sock.detach())
        chunk = b"y" * 65536
        def refill(h, err):
            if err is None:
                h.write(chunk, refill)
        for _ in range(8):
            c.write(chunk, refill)
        def on_read(h, data, err):
            count[0] += 1
        d.read_start(on_read)
    """,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_rearming_callback_leaves_the_loop_its_turn(shape):
    program = "".join(textwrap.dedent(part)
                      for part in (PRELUDE, SHAPES[shape], EPILOGUE))
    code, out, err = run_child(program)
    assert code == 0, err
    words = out.split()
    result = dict(zip(words[::2], (int(w) for w in words[1::2])))
    assert result["fired"] == 1
    assert result["echoes"] >= 1
    assert result["rearmed"] >= 1
    # Each iteration runs the re-arming callback about once; a 50 ms timer
    # on this machine needs far fewer than a million of them.
    assert result["iterations"] < 1_000_000
