"""Seeded generator of Python programs over flatuv.

generate(seed) returns a Program (see program.py): the prelude of
prelude_python.py, then 10 to 40 operations drawn by a random.Random(seed),
then the epilogue. The same seed gives the same program, byte for byte.

Operations name their objects by slot: t1..t3 timers, c1..c4 TCP handles,
s1..s2 servers, a1..a2 async handles, cb1..cb6 callbacks, f1..f2 thread
functions. Any operation may use a slot another operation fills (or
drops): when the filler is missing the use raises NameError or
AttributeError in the program's own frame, which G swallows, so that the
minimizer can drop any operation and keep a valid program.
"""


from .prelude_python import EPILOGUE, PRELUDE
from .generator import Generator

IND = "    "  # the operations sit in the prelude's repeat loop

TIMERS = ["t1", "t2", "t3"]
TCPS = ["c1", "c2", "c3", "c4"]
SERVERS = ["s1", "s2"]
ASYNCS = ["a1", "a2"]
CALLBACKS = ["cb1", "cb2", "cb3", "cb4", "cb5", "cb6"]
THREADS = ["f1", "f2"]
PIPES = ["p1", "p2", "p3", "p4"]
PSERVERS = ["ps1"]
WATCHERS = ["w1", "w2", "w3"]
REQUESTS = ["r1", "r2", "r3", "r4"]
HANDLES = TIMERS + TCPS + SERVERS + ASYNCS + PIPES + PSERVERS + WATCHERS
STREAMS = TCPS + SERVERS + PIPES + PSERVERS + ["conns[-1]", "conns[0]"]
# Pipe names: the prelude's path and abstract name of this repeat, and bad
# ones (too long, empty, NUL inside, not in any directory, wrong types).
NAMES = ["PNAME", "PNAME", "ANAME", "ANAME", "PNAME2", '"x" * 200', '""', "None",
         'PDIR + "/no-dir/x"', '"ab\\0c"', '"\\0" + "a" * 107', '"\\0" + "a" * 108',
         "12", 'b"\\0pfz-bytes"', "PNAME.encode()"]
WATCHER_CLASSES = ["Prepare", "Check", "Idle"]

# Values, valid and not, for each kind of argument.
SECONDS = ["0", "0", "0.001", "0.005", "0.02", "1e9", "1e300", "-1", "-0.0",
           "NAN", "INF", "None", '"1"', "2 ** 64", "True", "[1]"]
REPEATS = ["0", "0", "0.001", "0.01", "-1", "NAN", "1e300", "None"]
# Timeouts of blocking calls: short, or invalid. Never None or huge, which
# would make the program wait for ever by its own choice.
SYNC_TIMEOUTS = ["0", "0.001", "0.01", "0.05", "-1", "NAN", '"x"', "[0]"]
DATA = ['b"hello"', 'b""', 'b"x" * 65536', 'b"y" * (1 << 20)', "None",
        '"text"', "12", 'bytearray(b"ab")', 'memoryview(b"abcdef")[1:4]',
        "[b'a']", "object()"]
SIZES = ["1", "4096", "65536", "0", "-1", "None", "1.5", "2 ** 31", "2 ** 63"]
ADDRESSES = ["ADDR", "ADDR", "ADDR", "CLOSED", '("127.0.0.1", -1)',
             '("127.0.0.1", 2 ** 40)', "None", '("::1", ADDR[1])',
             '("no such host", 1)', '("127.0.0.1",)', '["127.0.0.1", 80]',
             '("127.0.0.1", "80")', '("127.0.0.1\\0", 1)']
MODES = ["flatuv.RUN_DEFAULT", "flatuv.RUN_ONCE", "flatuv.RUN_NOWAIT",
         "flatuv.RUN_NOWAIT", "99", "-1", "None", '"once"', "2 ** 64"]
LOOPS = ["L", "L", "L", "L2", "None", "t1", '"loop"']
# Walk callbacks: none of them walks again (see callback_action).
WALKERS = ["cb_noop", "cb_raise", "lambda h: log.append(h)",
           "lambda h: h is not _guard and h.close()", "cb_no_args"]
NUMBERS = ["0", "1", "-1", "255", "256", "2 ** 31", "2 ** 64", "-(2 ** 63)",
           "NAN", "1.5", "None", '"1"']


class PythonGenerator(Generator):
    """Draws one Python program's operations from a seed."""

    LANG = "python"
    PRELUDE = PRELUDE
    EPILOGUE = EPILOGUE

    def cb(self, none_too=True):
        """A callback argument: a generated callback, a fixed one, or junk."""
        pool = [s for s in CALLBACKS if s in self.made] * 6 + CALLBACKS + [
            "cb_noop", "cb_raise", "cb_no_args", "lambda *a: None", "on_read"]
        if none_too:
            pool += ["None", "None"]
        if self.r.random() < 0.06:
            return self.pick(['"not callable"', "12", "object()"])
        return self.pick(pool)

    def handle(self):
        if self.r.random() < 0.04:
            return "_L0"
        return self.slot(HANDLES + ["conns[-1]", "conns[0]"])

    # -- operations ---------------------------------------------------------


    def op_callback(self):
        """def cbN(*a): one to three actions, on its own handle a[0] or others."""
        name = self.pick(CALLBACKS)
        self.made.add(name)
        body = [self.callback_action(name) for _ in range(self.r.randint(1, 3))]
        assigned = sorted({v for line, vs in body for v in vs})
        lines = ["def %s(*a):" % name]
        if assigned:
            lines.append(IND + "global " + ", ".join(assigned))
        lines.append(IND + "h = a[0] if a else None")
        lines.append(IND + "log.append(%r)" % name)
        for line, _ in body:
            lines.extend(IND + part for part in line.split("\n"))
        return "\n".join(IND + line for line in lines)

    def callback_action(self, name):
        """One statement of a callback and the globals it assigns."""
        r = self.r
        choice = r.randrange(32)
        if choice == 0:
            return 'raise Marker("%s")' % name, []
        if choice == 1:
            return "with G: h.close(%s)" % self.cb(), []
        if choice == 2:
            return "with G: %s.close()" % self.handle(), []
        if choice == 3:
            return "gc.collect()", []
        if choice == 4:
            return "with G: L.stop()", []
        if choice == 5:
            return "with G: L.run(%s)" % self.pick(MODES[:3]), []
        if choice == 6:
            return "with G: L.close()", []
        if choice == 7:
            return "with G: h.send()", []           # an async re-sending itself
        if choice == 8:
            return "with G: h.start(%s, %s)" % (name, self.pick(["0", "0", "0.001"])), []
        if choice == 9:
            return "with G: h.write(%s, %s)" % (self.pick(DATA[:4]), self.cb()), []
        if choice == 10:
            return "with G: h.read_stop()", []
        if choice == 11:
            var = self.handle()
            if "[" in var or var == "_L0":
                return "with G: conns.clear()", []
            return "%s = None" % var, [var]
        if choice == 12:
            return "with G: %s.read_start(%s)" % (self.slot(TCPS), self.cb(False)), []
        if choice == 13:
            return ("with G:\n" + IND + "conns.append(h.accept())\n" + IND +
                    "conns[-1].read_start(%s)" % self.cb(False)), []
        if choice == 14:
            return "with G: h.shutdown(%s)" % self.cb(), []
        if choice == 15:
            return "with G: %s.start(%s, %s)" % (self.slot(TIMERS), self.cb(False),
                                                 self.pick(SECONDS[:5])), []
        if choice == 16:
            return "with G: %s.send()" % self.slot(ASYNCS), []
        if choice == 17:
            # Never a generated callback: one that walks with itself
            # recurses for ever, the program's fault, not the library's.
            return "with G: L.walk(%s)" % self.pick(WALKERS), []
        if choice == 18:
            return "with G: %s.write(%s, %s)" % (self.slot(STREAMS), self.pick(DATA),
                                                 self.cb()), []
        if choice == 19:
            return "with G: h.close_reset(%s)" % self.cb(), []
        if choice == 20:
            return "with G: %s.recv(16, timeout=0.001)" % self.slot(STREAMS), []
        if choice == 21:
            return "with G: h.again()", []
        if choice == 22:
            return "with G: %s.connect(ADDR, %s)" % (self.slot(TCPS), self.cb()), []
        if choice == 24:
            return "with G: %s.cancel()" % self.slot(REQUESTS), []
        if choice == 25:
            req = self.slot(REQUESTS)
            return "with G: %s = %s.write(%s, %s)" % (req, self.slot(STREAMS),
                                                      self.pick(DATA[:4]), self.cb()), [req]
        if choice == 26:
            return "with G: log.append(L.mode())", []
        if choice == 27:
            return "with G: %s.start(%s)" % (self.slot(WATCHERS), self.pick([name, "cb_noop", "cb_raise"])), []
        if choice == 28:
            return "with G: %s.stop()" % self.slot(WATCHERS), []
        if choice == 29:
            return "with G: h.stop()", []
        if choice == 30:
            return ("with G:\n" + IND + "_c = flatuv.Pipe(L)\n" + IND + "conns.append(_c)\n" + IND
                    + "h.accept(_c)\n" + IND + "_c.read_start(%s)" % self.cb(False)), []
        if choice == 31:
            return "with G: %s.write2(b'x', %s, %s)" % (self.slot(PIPES), self.handle(),
                                                        self.cb()), []
        return "with G: %s.stop()" % self.slot(TIMERS), []

    def op_server(self):
        """A listening server on loopback; ADDR becomes its address."""
        s = self.slot(SERVERS)
        self.made.add(s)
        k = self.r.random()
        listen = ("%s.listen(on_conn)" % s if k < 0.5 else
                  "%s.listen(%s)" % (s, self.cb(False)) if k < 0.8 else
                  "%s.listen()" % s)
        return "\n".join(IND + line for line in [
            "with G:",
            IND + "%s = flatuv.TCP(%s)" % (s, "L" if self.r.random() < 0.9 else self.pick(LOOPS)),
            IND + '%s.bind(("127.0.0.1", 0))' % s,
            IND + listen,
            IND + "ADDR = %s.getsockname()" % s])

    def op_connect(self):
        """A client connected to ADDR, usually reading."""
        c = self.slot(TCPS)
        lines = ["with G:",
                 IND + "%s.connect(ADDR, %s)" % (c, self.cb())]
        if self.r.random() < 0.7:
            lines.append(IND + "%s.read_start(%s)" % (c, self.cb(False)))
        if self.r.random() < 0.5:
            lines.append(IND + "%s.write(%s, %s)" % (c, self.pick(DATA[:4]), self.cb()))
        return "\n".join(IND + line for line in lines)

    def op_create(self, valid=False):
        r = self.r
        kind = r.randrange(3 if valid else 6)
        loop = "L" if valid or r.random() < 0.7 else self.pick(LOOPS)
        if kind == 0:
            slot = self.pick(TIMERS)
            self.made.add(slot)
            return IND + "with G: %s = flatuv.Timer(%s)" % (slot, loop)
        if kind == 1:
            slot = self.pick(TCPS)
            self.made.add(slot)
            fam = "" if valid else self.pick(["", "", ", flatuv.AF_INET", ", flatuv.AF_INET6",
                                              ", 12345", ", None", ", -1"])
            return IND + "with G: %s = flatuv.TCP(%s%s)" % (slot, loop, fam)
        if kind == 2:
            slot = self.pick(ASYNCS)
            self.made.add(slot)
            return IND + "with G: %s = flatuv.Async(%s, %s)" % (slot, loop, self.cb(False))
        if kind == 3:  # never created: the object without its C handle
            cls = self.pick(["Timer", "TCP", "Async"])
            slot = {"Timer": TIMERS, "TCP": TCPS, "Async": ASYNCS}[cls]
            return IND + "%s = flatuv.%s.__new__(flatuv.%s)" % (self.pick(slot), cls, cls)
        if kind == 4:
            return IND + "with G: L2 = flatuv.Loop()"
        return IND + "with G: conns.append(flatuv.TCP(L))"

    def op_timer(self):
        t = self.pick(TIMERS + ["_L0"] if self.r.random() < 0.05 else TIMERS)
        k = self.r.randrange(6)
        if k <= 2:
            return IND + "with G: %s.start(%s, %s, %s)" % (
                t, self.cb(False), self.pick(SECONDS), self.pick(REPEATS))
        if k == 3:
            return IND + "with G: %s.stop()" % t
        if k == 4:
            return IND + "with G: %s.again()" % t
        return IND + "with G: %s.repeat = %s; log.append(%s.due_in)" % (
            t, self.pick(REPEATS), t)

    def op_stream(self):
        s = self.slot(STREAMS)
        k = self.r.randrange(12)
        if k <= 1:
            return IND + "with G: %s.connect(%s, %s)" % (self.slot(TCPS), self.pick(ADDRESSES),
                                                       self.cb())
        if k <= 3:
            return IND + "with G: %s.write(%s, %s)" % (s, self.pick(DATA), self.cb())
        if k == 4:
            return IND + "with G: %s.writev(%s, %s)" % (
                s, self.pick(["[b'a', b'b']", "[None]", "[]", "b'x'", "[b'x'] * 1000"]),
                self.cb())
        if k == 5:
            return IND + "with G: %s.read_start(%s)" % (s, self.cb(False))
        if k == 6:
            return IND + "with G: %s.read_stop()" % s
        if k == 7:
            return IND + "with G: %s.shutdown(%s)" % (s, self.cb())
        if k == 8:
            return IND + "with G: conns.append(%s.accept())" % self.slot(SERVERS)
        if k == 9:
            return IND + "with G: %s.try_write(%s)" % (s, self.pick(DATA))
        if k == 10:
            return IND + "with G: %s.listen(%s, %s)" % (s, self.cb(), self.pick(NUMBERS))
        return IND + "with G: %s.set_water_marks(%s, %s, %s)" % (
            s, self.pick(NUMBERS), self.pick(NUMBERS), self.cb())

    def op_tcp_misc(self):
        c = self.pick(TCPS + SERVERS)
        call = self.pick([
            "nodelay(True)", "keepalive(True, %s)" % self.pick(SECONDS),
            "set_ttl(%s)" % self.pick(NUMBERS), "getsockname()", "getpeername()",
            "state()", "fileno()", "set_send_buffer_size(%s)" % self.pick(NUMBERS),
            "get_recv_buffer_size()", "pending_bytes()", "socket_error()",
            "bind(%s)" % self.pick(ADDRESSES), "set_linger(True, %s)" % self.pick(SECONDS),
            "bind_to_device(%s)" % self.pick(["None", '"lo"', "12", '"x" * 100']),
            "detach()", "open(%s)" % self.pick(["-1", "0", "999999", "None"]),
        ])
        return IND + "with G: log.append(%s.%s)" % (c, call)

    def op_sync(self):
        to = self.pick(SYNC_TIMEOUTS)
        k = self.r.randrange(4)
        if k == 0:
            return IND + "with G: %s.connect_sync(%s, timeout=%s)" % (
                self.slot(TCPS), self.pick(ADDRESSES), to)
        if k == 1:
            return IND + "with G: %s.send(%s, timeout=%s)" % (
                self.slot(STREAMS), self.pick(DATA), to)
        if k == 2:
            return IND + "with G: log.append(%s.recv(%s, timeout=%s))" % (
                self.slot(STREAMS), self.pick(SIZES), to)
        return IND + "with G: conns.append(%s.accept_sync(timeout=%s))" % (
            self.slot(SERVERS), to)

    def op_close(self):
        h = self.handle()
        k = self.r.randrange(4)
        if k <= 1:
            return IND + "with G: %s.close(%s)" % (h, self.cb())
        if k == 2:
            return IND + "with G: %s.close_reset(%s)" % (self.pick(TCPS + ["conns[-1]"]),
                                                        self.cb())
        return IND + "with G: %s.close(); %s.close()" % (h, h)

    def op_handle_misc(self):
        h = self.handle()
        call = self.pick(["ref()", "unref()", "has_ref()", "active", "closing",
                          "type", "loop", "repr(%s)" % h, "closed"])
        if call.startswith("repr"):
            return IND + "with G: log.append(%s)" % call
        return IND + "with G: log.append(%s.%s)" % (h, call)

    def op_async(self):
        return IND + "with G: %s.send()" % self.slot(ASYNCS)

    def op_run(self):
        loop = "L" if self.r.random() < 0.85 else "L2"
        mode = self.pick(MODES) if loop == "L" else "flatuv.RUN_NOWAIT"
        k = self.r.randrange(8)
        if k == 0:
            return IND + "for _i in range(%d):\n%s    with G: %s.run(%s)" % (
                self.r.randint(2, 50), IND, loop, self.pick(MODES[1:3]) if loop == "L" else mode)
        return IND + "with G: %s.run(%s)" % (loop, mode)

    def op_loop_misc(self):
        call = self.pick(["stop()", "alive()", "now()", "update_time()",
                          "walk(%s)" % self.pick(WALKERS + ["None", "12"]), "backend_timeout()", "close()",
                          "metrics_loop_count()", "backend_fd()",
                          "walk(lambda h: h is not _guard and h.close())"])
        return IND + "with G: log.append(%s.%s)" % (self.pick(["L", "L", "L2"]), call)

    def op_refs(self):
        k = self.r.randrange(5)
        if k == 0:
            return IND + "gc.collect()"
        if k == 1:
            return IND + "with G: del %s" % self.pick(HANDLES + CALLBACKS + REQUESTS)
        if k == 2:
            return IND + "conns.clear(); gc.collect()"
        if k == 3:
            return IND + "L2 = None; gc.collect()"
        return IND + "%s = None" % self.pick(HANDLES)

    def op_thread(self):
        """A thread doing a bounded number of calls while the loop runs."""
        f = self.pick(THREADS)
        actions = [self.thread_action() for _ in range(self.r.randint(1, 3))]
        n = self.r.randint(5, 60)
        lines = ["def %s():" % f,
                 IND + "for _i in range(%d):" % n]
        for a in actions:
            lines.append(IND * 2 + "with G: %s" % a)
        if self.r.random() < 0.5:
            lines.append(IND * 2 + "time.sleep(0.0005)")
        lines.append("th = threading.Thread(target=%s); threads.append(th); th.start()" % f)
        return "\n".join(IND + line for line in lines)

    def thread_action(self):
        return self.pick([
            "%s.send()" % self.slot(ASYNCS),
            "%s.write(b'from thread', %s)" % (self.slot(STREAMS), self.pick(["None", "cb_noop"])),
            "%s.send(b'from thread', timeout=0.01)" % self.slot(STREAMS),
            "%s.recv(64, timeout=0.005)" % self.slot(STREAMS),
            "%s.start(cb_noop, 0.001)" % self.slot(TIMERS),
            "%s.close()" % self.handle(),
            "L.run(flatuv.RUN_NOWAIT)", "L.run()", "L.stop()",
            "%s.accept_sync(timeout=0.005)" % self.slot(SERVERS),
            "%s.connect_sync(ADDR, timeout=0.01)" % self.slot(TCPS),
            "gc.collect()", "L.walk(cb_noop)", "flatuv.Timer(L)",
            "%s.read_start(cb_noop)" % self.slot(TCPS),
            "conns.clear()",
            "flatuv.hrtime()", "%s.cancel()" % self.slot(REQUESTS),
            "%s.write(b'from thread')" % self.slot(PIPES),
            "%s.stop()" % self.slot(WATCHERS), "L.mode()", "L.metrics_info()",
            "%s = None" % self.slot(REQUESTS),
        ])

    # -- issue 12: pipes, prepare/check/idle, requests, loop calls ---------

    def op_pipe_create(self):
        p = self.pick(PIPES)
        self.made.add(p)
        k = self.r.randrange(6)
        loop = "L" if self.r.random() < 0.9 else self.pick(LOOPS)
        if k == 0:
            return IND + "with G: %s = flatuv.Pipe(%s, %s)" % (p, loop, self.pick(
                ["True", "False", "1", "None", '"ipc"', "2 ** 64"]))
        if k <= 2:
            return IND + "with G: %s = flatuv.Pipe(%s)" % (p, loop)
        if k == 3:  # both ends of a socketpair, IPC or not
            q = self.pick([x for x in PIPES if x != p])
            self.made.add(q)
            ipc = self.pick(["True", "False"])
            return "\n".join(IND + line for line in [
                "with G:",
                IND + "_a, _b = socket.socketpair()",
                IND + "%s = flatuv.Pipe(L, %s); %s.open(_a.detach())" % (p, ipc, p),
                IND + "%s = flatuv.Pipe(L, %s); %s.open(_b.detach())" % (q, ipc, q),
                IND + "%s.read_start(%s); %s.read_start(%s)" % (p, self.cb(False), q, self.cb(False))])
        if k == 4:  # pipe(2): q writes, p reads
            q = self.pick([x for x in PIPES if x != p])
            self.made.add(q)
            return "\n".join(IND + line for line in [
                "with G:",
                IND + "_r, _w = os.pipe()",
                IND + "%s = flatuv.Pipe(L); %s.open(_r)" % (p, p),
                IND + "%s = flatuv.Pipe(L); %s.open(_w)" % (q, q),
                IND + "%s.read_start(%s)" % (p, self.cb(False))])
        return IND + "with G: %s = flatuv.Pipe.__new__(flatuv.Pipe)" % p

    def op_pipe_server(self):
        s = self.pick(PSERVERS)
        self.made.add(s)
        k = self.r.random()
        listen = ("%s.listen(on_conn)" % s if k < 0.5 else
                  "%s.listen(%s)" % (s, self.cb(False)) if k < 0.8 else "%s.listen()" % s)
        return "\n".join(IND + line for line in [
            "with G:",
            IND + "%s = flatuv.Pipe(L%s)" % (s, self.pick(["", "", ", True"])),
            IND + "%s.bind(%s)" % (s, self.pick(NAMES[:4] if self.r.random() < 0.8 else NAMES)),
            IND + listen])

    def op_pipe_connect(self):
        p = self.slot(PIPES)
        lines = ["with G:", IND + "%s.connect(%s, %s)" % (p, self.pick(NAMES), self.cb())]
        if self.r.random() < 0.7:
            lines.append(IND + "%s.read_start(%s)" % (p, self.cb(False)))
        if self.r.random() < 0.5:
            lines.append(IND + "%s.write(%s, %s)" % (p, self.pick(DATA[:4]), self.cb()))
        return "\n".join(IND + line for line in lines)

    def op_pipe_misc(self):
        p = self.slot(PIPES + PSERVERS)
        call = self.pick([
            "getsockname()", "getpeername()", "chmod(%s)" % self.pick(
                ["1", "2", "3", "0", "4", "-1", "None", "flatuv.READABLE", "flatuv.WRITABLE"]),
            "pending_count", "pending_handle_type()", "pending_instances(%s)" % self.pick(NUMBERS),
            "open(%s)" % self.pick(["-1", "0", "999999", "None", "os.dup(2)"]),
            "connect_sync(%s, timeout=%s)" % (self.pick(NAMES), self.pick(SYNC_TIMEOUTS)),
            "fileno()", "bind(%s)" % self.pick(NAMES), "accept()", "accept_sync(timeout=0.001)",
            "write2(%s, %s, %s)" % (self.pick(DATA[:3]), self.handle(), self.cb()),
        ])
        if call == "accept()" or call.startswith("accept_sync"):
            return IND + "with G: conns.append(%s.%s)" % (p, call)
        return IND + "with G: log.append(%s.%s)" % (p, call)

    def op_pipe_accept(self):
        """An IPC or server pipe accepting: a new handle, or into one of ours."""
        s = self.slot(PIPES + PSERVERS)
        k = self.r.randrange(3)
        if k == 0:
            return IND + "with G: conns.append(%s.accept())" % s
        if k == 1:
            cls = self.pick(["Pipe", "Pipe", "TCP"])
            return "\n".join(IND + line for line in [
                "with G:",
                IND + "_c = flatuv.%s(L)" % cls,
                IND + "conns.append(_c)",
                IND + "%s.accept(_c)" % s,
                IND + "_c.read_start(%s)" % self.cb(False)])
        return IND + "with G: %s.accept(%s)" % (s, self.handle())

    def op_watcher(self):
        w = self.pick(WATCHERS)
        k = self.r.randrange(5)
        if k <= 1:
            self.made.add(w)
            return IND + "with G: %s = flatuv.%s(%s)" % (
                w, self.pick(WATCHER_CLASSES), "L" if self.r.random() < 0.9 else self.pick(LOOPS))
        if k <= 3:
            return IND + "with G: %s.start(%s)" % (self.slot(WATCHERS), self.cb(False))
        return IND + "with G: %s.stop()" % self.slot(WATCHERS)

    def op_request(self):
        """A request object from write / shutdown / connect, and its use."""
        req = self.pick(REQUESTS)
        k = self.r.randrange(9)
        if k <= 2:
            self.made.add(req)
            call = self.pick([
                "%s.write(%s, %s)" % (self.slot(STREAMS), self.pick(DATA), self.cb()),
                "%s.write(b'x' * (1 << 20), %s)" % (self.slot(STREAMS), self.cb()),
                "%s.shutdown(%s)" % (self.slot(STREAMS), self.cb()),
                "%s.connect(%s, %s)" % (self.slot(TCPS), self.pick(ADDRESSES), self.cb()),
                "%s.connect(%s, %s)" % (self.slot(PIPES), self.pick(NAMES), self.cb()),
                "%s.writev([b'a', b'b'], %s)" % (self.slot(STREAMS), self.cb()),
                "%s.write2(b'x', %s, %s)" % (self.slot(PIPES), self.handle(), self.cb()),
            ])
            tail = "; %s.cancel()" % req if self.r.random() < 0.3 else ""
            return IND + "with G: %s = %s%s" % (req, call, tail)
        r = self.slot(REQUESTS)
        if k <= 4:
            return IND + "with G: log.append(%s.cancel())" % r
        if k == 5:
            return IND + "with G: log.append((%s.type, repr(%s)))" % (r, r)
        if k == 6:
            return IND + "%s = None" % r
        if k == 7:
            return IND + "%s = None; gc.collect()" % r
        return IND + "with G: log.append(flatuv.Request.__new__(flatuv.Request).cancel())"

    def op_loop_new(self):
        loop = self.pick(["L", "L", "L", "L2"])
        call = self.pick([
            "mode()", "metrics_info()", "metrics_idle_time()",
            "configure(%s, %s)" % (self.pick(["flatuv.METRICS_IDLE_TIME", "flatuv.LOOP_BLOCK_SIGNAL",
                                              "99", "None", "-1"]),
                                   self.pick(["0", "signal.SIGPROF", "-1", "65", "None"])),
            "print_all_handles(DEVNULL)", "print_active_handles(DEVNULL)",
            "print_all_handles(%s)" % self.pick(["-1", "None", "999999", "2 ** 40"]),
            "metrics_events_waiting()",
        ])
        if self.r.random() < 0.3:
            return IND + "with G: log.append(flatuv.%s)" % self.pick([
                "hrtime()", "sleep(0)", "sleep(1)", "sleep(-1)", "sleep(None)", "hrtime() - hrtime()"])
        return IND + "with G: log.append(%s.%s)" % (loop, call)

    # Each operation kind, repeated by its weight.
    weighted = ([op_create] * 4 + [op_connect] * 2 + [op_callback] * 2 + [op_server] + [op_timer] * 4 +
                [op_stream] * 6 + [op_tcp_misc] * 2 + [op_sync] * 3 + [op_close] * 3 +
                [op_handle_misc] + [op_async] * 2 + [op_run] * 6 + [op_loop_misc] * 2 +
                [op_refs] * 3 + [op_thread] * 2 +
                [op_pipe_create] * 3 + [op_pipe_server] + [op_pipe_connect] * 2 +
                [op_pipe_misc] * 2 + [op_pipe_accept] * 2 + [op_watcher] * 3 +
                [op_request] * 4 + [op_loop_new] * 2)


def generate(seed):
    """The Python program of a seed."""
    return PythonGenerator(seed).generate()
