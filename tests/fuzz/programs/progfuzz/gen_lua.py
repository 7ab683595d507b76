"""Seeded generator of Lua programs over flatuv (luv's style).

generate(seed) returns a Program: the prelude of prelude_lua.py, operations
drawn by random.Random(seed), the epilogue. Slots are globals, as in the
Python generator (t1..t3 timers, c1..c4 TCP handles, s1..s2 servers,
a1..a2 async handles, cb1..cb6 callbacks); an operation on a slot that is
nil raises "attempt to index a nil value" in the program's own source,
which G lets pass, so that any operation can be dropped.

Lua has no threads here; instead, operations run the loop inside
coroutines, and callbacks yield, raise non-string values, or run the loop.
"""


from .prelude_lua import EPILOGUE, PRELUDE
from .generator import Generator

IND = "  "

TIMERS = ["t1", "t2", "t3"]
TCPS = ["c1", "c2", "c3", "c4"]
SERVERS = ["s1", "s2"]
ASYNCS = ["a1", "a2"]
CALLBACKS = ["cb1", "cb2", "cb3", "cb4", "cb5", "cb6"]
PIPES = ["p1", "p2", "p3", "p4"]
PSERVERS = ["ps1"]
WATCHERS = ["w1", "w2", "w3"]
REQUESTS = ["r1", "r2", "r3", "r4"]
HANDLES = TIMERS + TCPS + SERVERS + ASYNCS + PIPES + PSERVERS + WATCHERS
STREAMS = TCPS + SERVERS + PIPES + PSERVERS + ["conns[#conns]", "conns[1]"]
# Pipe names: the prelude's path and abstract name of this repeat, and bad
# ones (too long, empty, NUL inside, not in any directory, wrong types).
NAMES = ["PNAME", "PNAME", "ANAME", "ANAME", "PNAME2", 'string.rep("x", 200)', '""', "nil",
         'PDIR .. "/no-dir/x"', '"ab\\0c"', '"\\0" .. string.rep("a", 107)',
         '"\\0" .. string.rep("a", 108)', "12", "{}"]
WATCHER_NEW = ["uv.new_prepare()", "uv.new_check()", "uv.new_idle()"]

MS = ["0", "0", "1", "5", "20", "2^31", "2^53", "-1", "NAN", "INF", "1.5",
      '"10"', "nil", "{}", "true"]
REPEATS = ["0", "0", "1", "10", "-1", "NAN", "2^40", "nil"]
# Timeouts of blocking calls: short, or invalid; never negative (for ever).
SYNC_MS = ["0", "1", "10", "50", '"x"', "NAN", "1.5", "nil", "2^63"]
DATA = ['"hello"', '""', 'string.rep("x", 65536)', 'string.rep("y", 1 << 20)',
        '{"a", "b"}', '{"a", 1}', "{}", "nil", "12", "true", 'string.rep("z", 10) .. "\\0"']
HOSTS = ['"127.0.0.1"'] * 4 + ['"::1"', '"no such host"', "nil", "12", '"127.0.0.1\\0"']
PORTS = ["PORT"] * 4 + ["CLOSED", "-1", "70000", "nil", '"80"', "1.5", "2^40"]
MODES = ['"default"', '"once"', '"nowait"', '"nowait"', '"bad"', "12", "nil", "{}"]
NUMBERS = ["0", "1", "-1", "255", "256", "2^31", "2^63", "NAN", "1.5", "nil", '"1"']
# Walk callbacks: none of them walks again, which would recurse for ever.
WALKERS = ["cb_noop", "cb_raise", "function(h) log[#log + 1] = h end",
           "function(h) if h ~= _guard then h:close() end end"]
FAMILIES = ['"inet"', '"inet6"', '"bogus"', "12", "{}"]


class LuaGenerator(Generator):
    """Draws one Lua program's operations from a seed."""

    LANG = "lua"
    PRELUDE = PRELUDE
    EPILOGUE = EPILOGUE

    def cb(self, none_too=True):
        pool = [s for s in CALLBACKS if s in self.made] * 6 + CALLBACKS + [
            "cb_noop", "cb_raise", "function() end", "on_read"]
        if none_too:
            pool += ["nil", "nil"]
        if self.r.random() < 0.06:
            return self.pick(['"not callable"', "12", "{}", "setmetatable({}, {__call = cb_noop})"])
        return self.pick(pool)

    def handle(self):
        return self.slot(HANDLES + ["conns[#conns]"])

    @staticmethod
    def g(body):
        """An operation under G, at the repeat loop's indentation."""
        if "\n" not in body:
            return IND + "G(function() %s end)" % body
        inner = "\n".join(IND * 2 + line for line in body.split("\n"))
        return "%sG(function()\n%s\n%send)" % (IND, inner, IND)


    # -- callbacks ----------------------------------------------------------

    def op_callback(self):
        name = self.pick(CALLBACKS)
        self.made.add(name)
        lines = ["function %s(...)" % name,
                 IND + "local h = last(...)",
                 IND + "log[#log + 1] = \"%s\"" % name]
        for _ in range(self.r.randint(1, 3)):
            lines.extend(IND + part for part in self.callback_action(name).split("\n"))
        lines.append("end")
        return "\n".join(IND + line for line in lines)

    def callback_action(self, name):
        k = self.r.randrange(32)
        direct = {
            0: 'error(MARK .. " %s")' % name,
            1: "error(setmetatable({}, {__tostring = function() error(MARK) end}))",
            2: "collectgarbage()",
            3: "error(nil)",
        }
        if k in direct:
            return direct[k]
        body = {
            4: "h:close(%s)" % self.cb(),
            5: "%s:close()" % self.handle(),
            6: "uv.stop()",
            7: "uv.run(%s)" % self.pick(MODES[:3]),
            8: "uv.loop_close()",
            9: "h:send()",                      # an async re-sending itself
            10: "h:start(0, 0, %s)" % name,     # a zero timer restarted
            11: "h:write(%s, %s)" % (self.pick(DATA[:4]), self.cb()),
            12: "h:read_stop()",
            13: "%s = nil" % self.pick(HANDLES + CALLBACKS),
            14: "%s:read_start(%s)" % (self.slot(TCPS), self.cb(False)),
            15: "local c = h:accept()\nconns[#conns + 1] = c\nc:read_start(%s)" % self.cb(False),
            16: "h:shutdown(%s)" % self.cb(),
            17: "%s:start(%s, 0, %s)" % (self.slot(TIMERS), self.pick(MS[:5]), self.cb(False)),
            18: "%s:send()" % self.slot(ASYNCS),
            19: "uv.walk(%s)" % self.pick(WALKERS),
            20: "coroutine.yield()",
            21: "%s:write(%s, %s)" % (self.slot(STREAMS), self.pick(DATA), self.cb()),
            22: "h:close_reset(%s)" % self.cb(),
            23: "%s:recv(16, 1)" % self.slot(STREAMS),
            24: "%s:cancel()" % self.slot(REQUESTS),
            25: "%s = %s:write(%s, %s)" % (self.slot(REQUESTS), self.slot(STREAMS),
                                           self.pick(DATA[:4]), self.cb()),
            26: "log[#log + 1] = uv.loop_mode()",
            27: "%s:start(%s)" % (self.slot(WATCHERS), self.pick([name, "cb_noop", "cb_raise"])),
            28: "%s:stop()" % self.slot(WATCHERS),
            29: "h:stop()",
            30: "local c = uv.new_pipe()\nconns[#conns + 1] = c\nh:accept(c)\nc:read_start(%s)"
                % self.cb(False),
            31: "%s:write2(\"x\", %s, %s)" % (self.slot(PIPES), self.handle(), self.cb()),
        }[k]
        return "G(function()\n%s\nend)" % "\n".join(IND + l for l in body.split("\n")) \
            if "\n" in body else "G(function() %s end)" % body

    # -- operations ---------------------------------------------------------

    def op_server(self):
        s = self.pick(SERVERS)
        self.made.add(s)
        k = self.r.random()
        listen = ("%s:listen(128, on_conn)" % s if k < 0.5 else
                  "%s:listen(%s, %s)" % (s, self.pick(["128", "1", "0", "-1"]), self.cb(False))
                  if k < 0.8 else "%s:listen(128)" % s)
        return self.g("\n".join([
            "%s = uv.new_tcp()" % s,
            '%s:bind("127.0.0.1", 0)' % s,
            listen,
            "PORT = %s:getsockname().port" % s]))

    def op_connect(self):
        c = self.slot(TCPS)
        lines = ['%s:connect("127.0.0.1", PORT, %s)' % (c, self.cb())]
        if self.r.random() < 0.7:
            lines.append("%s:read_start(%s)" % (c, self.cb(False)))
        if self.r.random() < 0.5:
            lines.append("%s:write(%s, %s)" % (c, self.pick(DATA[:4]), self.cb()))
        return self.g("\n".join(lines))

    def op_create(self, valid=False):
        kind = self.r.randrange(3 if valid else 5)
        if kind == 0:
            slot = self.pick(TIMERS)
            self.made.add(slot)
            return self.g("%s = uv.new_timer()" % slot)
        if kind == 1:
            slot = self.pick(TCPS)
            self.made.add(slot)
            fam = "" if valid or self.r.random() < 0.6 else self.pick(FAMILIES)
            return self.g("%s = uv.new_tcp(%s)" % (slot, fam))
        if kind == 2:
            slot = self.pick(ASYNCS)
            self.made.add(slot)
            return self.g("%s = uv.new_async(%s)" % (slot, self.cb(False)))
        if kind == 3:
            return self.g("conns[#conns + 1] = uv.new_tcp()")
        # A handle of one kind where another is expected.
        return self.g(self.pick([
            "uv.timer_start(%s, 1, 0, cb_noop)" % self.slot(TCPS),
            "uv.read_start(%s, cb_noop)" % self.slot(TIMERS),
            "uv.async_send(%s)" % self.slot(TIMERS + TCPS),
            "uv.close(%s)" % self.pick(["nil", "12", "{}", '"x"', "uv"]),
            "uv.tcp_connect(%s, \"127.0.0.1\", PORT)" % self.slot(ASYNCS),
            "%s.start(nil, 1, 0, cb_noop)" % self.slot(TIMERS),
            "getmetatable(%s).__gc(%s)" % (self.handle(), self.handle()),
            "getmetatable(%s).__close(%s)" % (self.handle(), self.handle()),
        ]))

    def op_timer(self):
        t = self.slot(TIMERS)
        k = self.r.randrange(6)
        if k <= 2:
            return self.g("%s:start(%s, %s, %s)" % (t, self.pick(MS), self.pick(REPEATS),
                                                   self.cb(False)))
        return self.g(self.pick(["%s:stop()", "%s:again()", "%s:get_due_in()"]) % t
                      if k < 5 else "%s:set_repeat(%s)" % (t, self.pick(REPEATS)))

    def op_stream(self):
        s = self.slot(STREAMS)
        k = self.r.randrange(11)
        if k <= 1:
            return self.g("%s:connect(%s, %s, %s)" % (self.slot(TCPS), self.pick(HOSTS),
                                                     self.pick(PORTS), self.cb()))
        if k <= 3:
            return self.g("%s:write(%s, %s)" % (s, self.pick(DATA), self.cb()))
        call = {
            4: "read_start(%s)" % self.cb(False), 5: "read_stop()",
            6: "shutdown(%s)" % self.cb(), 7: "try_write(%s)" % self.pick(DATA),
            8: "listen(%s, %s)" % (self.pick(NUMBERS), self.cb()),
            9: "set_water_marks(%s, %s, %s)" % (self.pick(NUMBERS), self.pick(NUMBERS), self.cb()),
        }.get(k)
        if call is None:
            return self.g("conns[#conns + 1] = %s:accept()" % self.slot(SERVERS))
        return self.g("%s:%s" % (s, call))

    def op_tcp_misc(self):
        c = self.slot(TCPS + SERVERS)
        return self.g("%s:%s" % (c, self.pick([
            "nodelay(true)", "keepalive(true, %s)" % self.pick(NUMBERS),
            "set_ttl(%s)" % self.pick(NUMBERS), "getsockname()", "getpeername()",
            "state()", "fileno()", "send_buffer_size(%s)" % self.pick(NUMBERS),
            "recv_buffer_size()", "pending_bytes()", "socket_error()",
            "bind(%s, %s)" % (self.pick(HOSTS), self.pick(PORTS)),
            "set_linger(true, %s)" % self.pick(NUMBERS),
            "bind_to_device(%s)" % self.pick(["nil", '"lo"', "12", 'string.rep("x", 100)']),
            "detach()", "open(%s)" % self.pick(["-1", "0", "999999", "nil"]),
            "getsockname_addr()",
        ])))

    def op_sync(self):
        to = self.pick(SYNC_MS)
        k = self.r.randrange(4)
        if k == 0:
            return self.g("%s:connect_sync(%s, %s, %s)" % (self.slot(TCPS), self.pick(HOSTS),
                                                          self.pick(PORTS), to))
        if k == 1:
            return self.g("%s:send(%s, %s)" % (self.slot(STREAMS), self.pick(DATA), to))
        if k == 2:
            return self.g("log[#log + 1] = %s:recv(%s, %s)" % (
                self.slot(STREAMS), self.pick(["1", "4096", "0", "-1", "2^40", "nil", "1.5"]), to))
        return self.g("conns[#conns + 1] = %s:accept_sync(%s)" % (self.slot(SERVERS), to))

    def op_close(self):
        h = self.handle()
        k = self.r.randrange(4)
        if k <= 1:
            return self.g("%s:close(%s)" % (h, self.cb()))
        if k == 2:
            return self.g("%s:close_reset(%s)" % (self.slot(TCPS + ["conns[#conns]"]), self.cb()))
        return self.g("%s:close()\n%s:close()" % (h, h))

    def op_handle_misc(self):
        h = self.handle()
        return self.g("log[#log + 1] = %s:%s" % (h, self.pick(
            ["ref()", "unref()", "has_ref()", "is_active()", "is_closing()",
             "get_type()"])) if self.r.random() < 0.8 else
            "log[#log + 1] = tostring(%s)" % h)

    def op_async(self):
        return self.g("%s:send()" % self.slot(ASYNCS))

    def op_run(self):
        k = self.r.randrange(10)
        if k == 0:
            return "%sfor _ = 1, %d do G(function() uv.run(%s) end) end" % (
                IND, self.r.randint(2, 50), self.pick(MODES[1:3]))
        if k == 1:  # the loop run inside a coroutine
            return self.g("local co = coroutine.wrap(function() uv.run(%s) end)\nco()"
                          % self.pick(MODES[:3]))
        return self.g("uv.run(%s)" % self.pick(MODES))

    def op_loop_misc(self):
        return self.g("log[#log + 1] = uv.%s" % self.pick([
            "stop()", "loop_alive()", "now()", "update_time()", "walk(%s)" % self.pick(WALKERS + ["nil", "12"]),
            "backend_timeout()", "loop_close()", "backend_fd()",
            "walk(function(h) if h ~= _guard then h:close() end end)"]))

    def op_refs(self):
        k = self.r.randrange(5)
        if k == 0:
            return IND + "collectgarbage()"
        if k == 1:
            return IND + 'collectgarbage("step")'
        if k == 2:
            return IND + "conns = {}; collectgarbage()"
        return IND + "%s = nil" % self.pick(HANDLES + CALLBACKS)

    # -- issue 12: pipes, prepare/check/idle, requests, loop calls ---------

    def op_pipe_create(self):
        p = self.pick(PIPES)
        self.made.add(p)
        k = self.r.randrange(6)
        if k == 0:
            return self.g("%s = uv.new_pipe(%s)" % (p, self.pick(
                ["true", "false", "1", "nil", '"ipc"', "{}"])))
        if k <= 2:
            return self.g("%s = uv.new_pipe()" % p)
        q = self.pick([x for x in PIPES if x != p])
        self.made.add(q)
        if k == 3:  # both ends of a socketpair, IPC or not
            ipc = self.pick(["true", "false"])
            return self.g("\n".join([
                "local fds = uv.socketpair()",
                "%s = uv.new_pipe(%s); %s:open(fds[1])" % (p, ipc, p),
                "%s = uv.new_pipe(%s); %s:open(fds[2])" % (q, ipc, q),
                "%s:read_start(%s); %s:read_start(%s)" % (p, self.cb(False), q, self.cb(False))]))
        if k == 4:  # pipe(2): q writes, p reads
            return self.g("\n".join([
                "local fds = uv.pipe()",
                "%s = uv.new_pipe(); %s:open(fds.read)" % (p, p),
                "%s = uv.new_pipe(); %s:open(fds.write)" % (q, q),
                "%s:read_start(%s)" % (p, self.cb(False))]))
        return self.g("%s = uv.new_pipe(); %s:open(%s)" % (p, p, self.pick(["-1", "0", "999999", "nil"])))

    def op_pipe_server(self):
        s = self.pick(PSERVERS)
        self.made.add(s)
        k = self.r.random()
        listen = ("%s:listen(128, on_conn)" % s if k < 0.5 else
                  "%s:listen(%s, %s)" % (s, self.pick(["128", "1", "0", "-1"]), self.cb(False))
                  if k < 0.8 else "%s:listen(128)" % s)
        return self.g("\n".join([
            "%s = uv.new_pipe(%s)" % (s, self.pick(["", "", "true"])),
            "%s:bind(%s)" % (s, self.pick(NAMES[:4] if self.r.random() < 0.8 else NAMES)),
            listen]))

    def op_pipe_connect(self):
        p = self.slot(PIPES)
        lines = ["%s:connect(%s, %s)" % (p, self.pick(NAMES), self.cb())]
        if self.r.random() < 0.7:
            lines.append("%s:read_start(%s)" % (p, self.cb(False)))
        if self.r.random() < 0.5:
            lines.append("%s:write(%s, %s)" % (p, self.pick(DATA[:4]), self.cb()))
        return self.g("\n".join(lines))

    def op_pipe_misc(self):
        p = self.slot(PIPES + PSERVERS)
        call = self.pick([
            "getsockname()", "getpeername()",
            "chmod(%s)" % self.pick(['"r"', '"w"', '"rw"', '"x"', "1", "3", "0", "nil"]),
            "pending_count()", "pending_type()", "pending_instances(%s)" % self.pick(NUMBERS),
            "connect_sync(%s, %s)" % (self.pick(NAMES), self.pick(SYNC_MS)),
            "fileno()", "bind(%s)" % self.pick(NAMES), "accept()", "accept_sync(1)",
            "write2(%s, %s, %s)" % (self.pick(DATA[:3]), self.handle(), self.cb()),
        ])
        if call.startswith("accept"):
            return self.g("conns[#conns + 1] = %s:%s" % (p, call))
        return self.g("log[#log + 1] = %s:%s" % (p, call))

    def op_pipe_accept(self):
        s = self.slot(PIPES + PSERVERS)
        k = self.r.randrange(3)
        if k == 0:
            return self.g("conns[#conns + 1] = %s:accept()" % s)
        if k == 1:
            return self.g("local c = %s\nconns[#conns + 1] = c\n%s:accept(c)\nc:read_start(%s)" % (
                self.pick(["uv.new_pipe()", "uv.new_pipe()", "uv.new_tcp()"]), s, self.cb(False)))
        return self.g("%s:accept(%s)" % (s, self.handle()))

    def op_watcher(self):
        w = self.pick(WATCHERS)
        k = self.r.randrange(5)
        if k <= 1:
            self.made.add(w)
            return self.g("%s = %s" % (w, self.pick(WATCHER_NEW)))
        if k <= 3:
            return self.g("%s:start(%s)" % (self.slot(WATCHERS), self.cb(False)))
        return self.g("%s:stop()" % self.slot(WATCHERS))

    def op_request(self):
        req = self.pick(REQUESTS)
        k = self.r.randrange(9)
        if k <= 2:
            self.made.add(req)
            call = self.pick([
                "%s:write(%s, %s)" % (self.slot(STREAMS), self.pick(DATA), self.cb()),
                "%s:write(string.rep(\"x\", 1 << 20), %s)" % (self.slot(STREAMS), self.cb()),
                "%s:shutdown(%s)" % (self.slot(STREAMS), self.cb()),
                "%s:connect(%s, %s, %s)" % (self.slot(TCPS), self.pick(HOSTS), self.pick(PORTS), self.cb()),
                "%s:connect(%s, %s)" % (self.slot(PIPES), self.pick(NAMES), self.cb()),
                "%s:write2(\"x\", %s, %s)" % (self.slot(PIPES), self.handle(), self.cb()),
            ])
            tail = "\n%s:cancel()" % req if self.r.random() < 0.3 else ""
            return self.g("%s = %s%s" % (req, call, tail))
        r = self.slot(REQUESTS)
        if k <= 4:
            return self.g(self.pick(["log[#log + 1] = %s:cancel()", "log[#log + 1] = uv.cancel(%s)"]) % r)
        if k == 5:
            return self.g("log[#log + 1] = %s:get_type(); log[#log + 1] = uv.req_get_type(%s); "
                          "log[#log + 1] = tostring(%s)" % (r, r, r))
        if k == 6:
            return IND + "%s = nil" % r
        if k == 7:
            return IND + "%s = nil; collectgarbage()" % r
        return self.g("log[#log + 1] = uv.cancel(%s)" % self.pick(["nil", "12", "{}", "uv", self.handle()]))

    def op_loop_new(self):
        return self.g("log[#log + 1] = uv.%s" % self.pick([
            "loop_mode()", "metrics_info()", "metrics_idle_time()", "hrtime()",
            "sleep(0)", "sleep(1)", "sleep(-1)", "sleep(nil)",
            "loop_configure(%s)" % self.pick(['"metrics_idle_time"', '"block_signal", "sigprof"',
                                              '"block_signal", 27', '"bogus"', "nil", "12"]),
            "print_all_handles(DEVNULL)", "print_active_handles(DEVNULL)",
            "print_all_handles(%s)" % self.pick(["-1", "nil", "999999", "2^40", "{}"]),
        ]))

    weighted = ([op_create] * 4 + [op_connect] * 2 + [op_callback] * 2 + [op_server] +
                [op_timer] * 4 + [op_stream] * 6 + [op_tcp_misc] * 2 + [op_sync] * 3 +
                [op_close] * 3 + [op_handle_misc] + [op_async] * 2 + [op_run] * 6 +
                [op_loop_misc] * 2 + [op_refs] * 3 +
                [op_pipe_create] * 3 + [op_pipe_server] + [op_pipe_connect] * 2 +
                [op_pipe_misc] * 2 + [op_pipe_accept] * 2 + [op_watcher] * 3 +
                [op_request] * 4 + [op_loop_new] * 2)


def generate(seed):
    """The Lua program of a seed."""
    return LuaGenerator(seed).generate()
