"""Drives every public method of flatuv with bad input and asserts that each
call raises an exception: wrong types, None, huge and negative numbers,
closed and never-created handles, handles of the wrong kind. Then a seeded
random walk mixes valid and invalid calls on live objects, where any
outcome but a crash is fine.

Run by test_fuzz.py in a subprocess, so that a crash fails the test instead
of killing pytest. Prints one JSON line: {"checked": N, "missed": [...],
"walked": M}; exits 1 if any call failed to raise.

    python fuzz_api.py [SEED]
"""

import gc
import json
import os
import random
import sys

import flatuv

OBJ = object()
NAN = float("nan")
INF = float("inf")

# Values that are wrong for each kind of parameter.
BAD = {
    "bytes": [None, "text", 12, OBJ, [b"x"], 1.5],
    "bufs": [None, 12, OBJ, "text", [None], ["text"], [b"ok", 3]],
    "size": [None, "1", 1.5, OBJ, 1 << 64, -(1 << 64), -1],
    "int": [None, "1", 1.5, OBJ, 1 << 64, -(1 << 64)],
    "uint": [None, "1", 1.5, OBJ, 1 << 64, -1],
    "backlog": [None, "1", 1.5, OBJ, 1 << 64],
    "seconds": [None, "1", OBJ, -1, -0.5, NAN, INF, 1e300, True, [1]],
    "timeout": ["1", OBJ, -1, NAN, INF, 1e300, [1], True],
    "callback": ["text", 12, OBJ, b"x"],
    "callable": [None, "text", 12, OBJ],
    "address": [None, "127.0.0.1", ("127.0.0.1",), ("127.0.0.1", "80"),
                (1, 80), ("127.0.0.1", -1), ("127.0.0.1", 1 << 64),
                ("bad host", 80), ["127.0.0.1", 80], ("::1", 0, 0, "x"),
                ("127.0.0.1", 80, 0), ("127.0.0.1", True)],
    "sockaddr": [None, "text", 12, b"", b"\x02", b"\xff" * 200, OBJ],
    "fd": [None, "3", 1.5, -1, 1 << 40, 999999],
    "family": [None, "x", 1.5, 12345, -1, 1 << 64],
    "mode": [None, "x", 99, -1, 1 << 64],
    "ifname": [12, b"lo", OBJ, "x" * 100, "nosuchdevice0"],
    "ttl": [None, "x", 0, 256, -1, 1 << 64],
    "count": [None, "x", 1.5, -1, 1 << 64, True],
    "code": [None, "x", 1.5, 1 << 64],
    "ip": [None, 12, b"127.0.0.1", "not an ip"],
    "port": [None, "80", -1, 70000, 1 << 64],
    "bufsize": [None, "x", 0, -1, 1 << 64],
    "flags": [None, "x", 1.5, -1, 1 << 64],
}


def noop(*args):
    pass


class World:
    """Objects in every state the fuzz needs."""

    def __init__(self):
        self.loop = flatuv.Loop()
        loop = self.loop
        self.server = flatuv.TCP(loop)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.client = flatuv.TCP(loop)
        self.client.connect_sync(self.server.getsockname(), timeout=5)
        self.conn = self.server.accept_sync(timeout=5)
        self.idle = flatuv.TCP(loop)
        self.timer = flatuv.Timer(loop)
        self.asy = flatuv.Async(loop, noop)
        self.closed_tcp = flatuv.TCP(loop)
        self.closed_tcp.close()
        self.closed_timer = flatuv.Timer(loop)
        self.closed_timer.close()
        self.closed_async = flatuv.Async(loop, noop)
        self.closed_async.close()
        self.uncreated_tcp = flatuv.TCP.__new__(flatuv.TCP)
        self.uncreated_timer = flatuv.Timer.__new__(flatuv.Timer)
        self.uncreated_async = flatuv.Async.__new__(flatuv.Async)
        self.closed_loop = flatuv.Loop()
        self.closed_loop.close()
        self.uncreated_loop = flatuv.Loop.__new__(flatuv.Loop)
        loop.run(flatuv.RUN_NOWAIT)  # the closes complete: freed handles
        BAD["loop"] = [None, "x", OBJ, self.closed_loop, self.uncreated_loop, self.idle]

    def close(self):
        self.loop.walk(lambda h: h.close())
        self.loop.run()
        self.loop.close()


# (subject attribute of World, method, parameter kinds, valid arguments).
# The valid arguments are right in type; the call with them may still fail.
STREAM = [
    ("listen", ["callback", "backlog"], [noop, 5]),
    ("accept", [], []),
    ("read_start", ["callable"], [noop]),
    ("read_stop", [], []),
    ("write", ["bytes", "callback"], [b"", None]),
    ("writev", ["bufs", "callback"], [[b""], None]),
    ("try_write", ["bytes"], [b""]),
    ("shutdown", ["callback"], [None]),
    ("set_water_marks", ["size", "size", "callback"], [10, 0, None]),
    ("accept_sync", ["timeout"], [0]),
    ("send", ["bytes", "timeout"], [b"", 0]),
    ("recv", ["size", "timeout"], [1, 0]),
]
HANDLE = [
    ("close", ["callback"], [None]),
    ("ref", [], []),
    ("unref", [], []),
    ("has_ref", [], []),
    ("fileno", [], []),
    ("get_send_buffer_size", [], []),
    ("set_send_buffer_size", ["bufsize"], [4096]),
    ("get_recv_buffer_size", [], []),
    ("set_recv_buffer_size", ["bufsize"], [4096]),
]
TCP = [
    ("open", ["fd"], [0]),
    ("nodelay", [], [True]),
    ("keepalive", ["_", "seconds"], [True, 1]),
    ("keepalive_ex", ["_", "seconds", "seconds", "count"], [True, 1, 1, 1]),
    ("simultaneous_accepts", [], [True]),
    ("bind", ["address", "flags"], [("127.0.0.1", 0), 0]),
    ("bind_addr", ["sockaddr", "flags"], [flatuv.ip4_addr("127.0.0.1", 0), 0]),
    ("getsockname", [], []),
    ("getpeername", [], []),
    ("getsockname_addr", [], []),
    ("getpeername_addr", [], []),
    ("connect", ["address", "callback"], [("127.0.0.1", 9), None]),
    ("connect_addr", ["sockaddr", "callback"], [flatuv.ip4_addr("127.0.0.1", 9), None]),
    ("connect_sync", ["address", "timeout"], [("127.0.0.1", 9), 0]),
    ("close_reset", ["callback"], [None]),
    ("set_linger", ["_", "seconds"], [True, 1]),
    ("get_linger", [], []),
    ("set_ttl", ["ttl"], [64]),
    ("get_ttl", [], []),
    ("set_reuseaddr", [], [True]),
    ("get_reuseaddr", [], []),
    ("set_ipv6only", [], [True]),
    ("get_ipv6only", [], []),
    ("bind_to_device", ["ifname"], [None]),
    ("state", [], []),
    ("pending_bytes", [], []),
    ("socket_error", [], []),
    ("detach", [], []),
] + STREAM + HANDLE
TIMER = [
    ("start", ["callable", "seconds", "seconds"], [noop, 10, 0]),
    ("stop", [], []),
    ("again", [], []),
] + HANDLE
ASYNC = [("send", [], [])] + HANDLE
LOOP = [
    ("run", ["mode"], [flatuv.RUN_NOWAIT]),
    ("stop", [], []),
    ("alive", [], []),
    ("now", [], []),
    ("update_time", [], []),
    ("backend_fd", [], []),
    ("backend_timeout", [], []),
    ("walk", ["callable"], [noop]),
    ("set_interruptible", [], [True]),
    ("metrics_loop_count", [], []),
    ("metrics_events", [], []),
    ("close", [], []),
]
PROPERTIES = {
    "tcp": ["type", "readable", "writable", "write_queue_size", "congested"],
    "timer": ["type", "repeat", "due_in"],
    "async": ["type"],
}
FUNCTIONS = [
    ("err_name", ["code"], [-1]),
    ("strerror", ["code"], [-1]),
    ("translate_sys_error", ["code"], [1]),
    ("ip4_addr", ["ip", "port"], ["127.0.0.1", 80]),
    ("ip6_addr", ["ip", "port"], ["::1", 80]),
    ("ip_name", ["sockaddr"], [flatuv.ip4_addr("127.0.0.1", 1)]),
    ("socketpair", ["family", "int", "flags", "flags"], [flatuv.SOCK_STREAM, 0, 0, 0]),
    ("tcp_state_name", ["code"], [1]),
    ("handle_type_name", ["code"], [1]),
]
CONSTRUCTORS = [
    (flatuv.TCP, ["loop", "family"], ["LOOP", flatuv.AF_INET]),
    (flatuv.Timer, ["loop"], ["LOOP"]),
    (flatuv.Async, ["loop", "callable"], ["LOOP", noop]),
]


class Checker:
    def __init__(self):
        self.checked = 0
        self.missed = []

    def must_raise(self, what, func, *args):
        self.checked += 1
        try:
            func(*args)
        except Exception:
            return
        self.missed.append("%s%r" % (what, args))

    def bad_arguments(self, what, func, kinds, valid):
        for i, kind in enumerate(kinds):
            for bad in BAD.get(kind, []):
                args = list(valid)
                args[i] = bad
                self.must_raise(what, func, *args)


def check_all(world, c):
    subjects = {
        "tcp": (world.client, world.closed_tcp, world.uncreated_tcp, TCP),
        "timer": (world.timer, world.closed_timer, world.uncreated_timer, TIMER),
        "async": (world.asy, world.closed_async, world.uncreated_async, ASYNC),
    }
    for name, (live, closed, uncreated, methods) in subjects.items():
        cls = type(live)
        for method, kinds, valid in methods:
            if method == "listen":
                target = world.idle
            elif method in ("accept_sync",):
                target = world.server
            else:
                target = live
            c.bad_arguments("%s.%s" % (name, method), getattr(target, method), kinds, valid)
            for dead in (closed, uncreated):
                c.must_raise("%s.%s on a dead handle" % (name, method),
                             getattr(dead, method), *valid)
            for wrong in (world.loop, OBJ, None, 12) + tuple(
                    s[0] for k, s in subjects.items() if k != name):
                if method in ("close", "ref", "unref", "has_ref", "fileno") or \
                        method.startswith(("get_send", "set_send", "get_recv", "set_recv")):
                    if isinstance(wrong, flatuv.Handle):
                        continue  # every handle kind has these
                c.must_raise("%s.%s with self %r" % (name, method, wrong),
                             getattr(cls, method), wrong, *valid)
        for prop in PROPERTIES[name]:
            for dead in (closed, uncreated):
                c.must_raise("%s.%s on a dead handle" % (name, prop), getattr, dead, prop)
    for bad in BAD["seconds"]:
        c.must_raise("timer.repeat = %r" % (bad,), setattr, world.timer, "repeat", bad)

    for method, kinds, valid in LOOP:
        if method != "close":
            c.bad_arguments("loop.%s" % method, getattr(world.loop, method), kinds, valid)
        for dead in (world.closed_loop, world.uncreated_loop):
            c.must_raise("loop.%s on a dead loop" % method, getattr(dead, method), *valid)
        for wrong in (world.idle, OBJ, None):
            c.must_raise("loop.%s with self %r" % (method, wrong),
                         getattr(flatuv.Loop, method), wrong, *valid)
    c.must_raise("Loop(1)", flatuv.Loop, 1)
    c.must_raise("Loop.__init__ twice", world.loop.__init__)

    for func, kinds, valid in FUNCTIONS:
        c.bad_arguments(func, getattr(flatuv, func), kinds, valid)
    for cls, kinds, valid in CONSTRUCTORS:
        valid = [world.loop if v == "LOOP" else v for v in valid]
        c.bad_arguments(cls.__name__, cls, kinds, valid)
    c.must_raise("TCP.__init__ twice", world.idle.__init__, world.loop)
    c.must_raise("Timer.__init__ twice", world.timer.__init__, world.loop)

    # The raw SWIG functions, with junk for every argument.
    raw = flatuv._flatuv
    for name in dir(raw):
        if not name.startswith("fuv_"):
            continue
        func = getattr(raw, name)
        for n in range(1, 7):
            c.must_raise("_flatuv.%s" % name, func, *([None] * n))
            c.must_raise("_flatuv.%s" % name, func, *([OBJ] * n))


# ---- the random walk --------------------------------------------------------

def random_value(rng):
    pool = [None, 0, 1, -1, 1 << 64, 1.5, NAN, "x", b"x", b"", noop, OBJ,
            ("127.0.0.1", 0), ("::1", 0), [b"a", b"b"], True, 0.001, 10 ** 9]
    return rng.choice(pool)


def random_walk(world, rng, steps):
    loop = world.loop
    handles = [world.client, world.conn, world.idle, world.timer, world.asy,
               world.server]
    names = {}
    for cls in (flatuv.TCP, flatuv.Timer, flatuv.Async):
        names[cls] = [n for n in dir(cls) if not n.startswith("_") and
                      callable(getattr(cls, n, None))]
    done = 0
    for step in range(steps):
        roll = rng.random()
        if roll < 0.05 and len(handles) < 40:
            kind = rng.choice([flatuv.TCP, flatuv.Timer])
            handles.append(kind(loop))
        elif roll < 0.08 and handles:
            handles.pop(rng.randrange(len(handles)))  # dropped: GC's business
        elif roll < 0.12:
            try:
                loop.run(flatuv.RUN_NOWAIT)
            except Exception:
                pass
        elif handles:
            h = rng.choice(handles)
            method = rng.choice(names[type(h)])
            if method in ("recv", "send", "accept_sync", "connect_sync"):
                args = [b"x" if method == "send" else 1, 0]
                if method == "connect_sync":
                    args = [("127.0.0.1", 9), 0]
                if method == "accept_sync":
                    args = [0]
            else:
                args = [random_value(rng) for _ in range(rng.randrange(4))]
            try:
                getattr(h, method)(*args)
            except Exception:
                pass
        if step % 500 == 0:
            gc.collect()
        done += 1
    return done


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    world = World()
    checker = Checker()
    check_all(world, checker)
    steps = int(os.environ.get("FLATUV_FUZZ_STEPS", "20000"))
    walked = random_walk(world, random.Random(seed), steps)
    # Whatever state the walk left, everything closes and frees cleanly.
    world.loop.walk(lambda h: h.close())
    world.loop.run(flatuv.RUN_NOWAIT)
    world.loop.run()
    world.loop.close()
    del world
    gc.collect()
    print(json.dumps({"checked": checker.checked, "missed": checker.missed,
                      "walked": walked}))
    sys.exit(1 if checker.missed else 0)


if __name__ == "__main__":
    main()
