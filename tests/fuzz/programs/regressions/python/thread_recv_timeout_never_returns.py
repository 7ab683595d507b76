# progfuzz program: lang python, seed 1017
# verdict: hang (racy; seen within PFZ_REPEAT 30 before the fix)
# Found by progfuzz: another thread's recv(64, timeout=0.005) and
# run(RUN_NOWAIT) on a client with a 1 MiB write pending to an echoing
# server: the thread's recv never returns (its timeout is not honoured, or
# the call is handed to a loop nobody runs), so join() waits for ever.
# Issue 17 item 2 family: calls from a foreign thread.
import faulthandler, gc, math, os, re, socket, sys, threading, time, traceback
faulthandler.enable()
import flatuv

PFZ_REPEAT = 30
GUARD = 0.02
NAN, INF = float("nan"), float("inf")


class Marker(Exception):
    """Raised on purpose by the program's callbacks."""


EXPECTED = (Marker, flatuv.Error, OSError, TypeError, ValueError, OverflowError)


def _own(tb):
    """True if the innermost frame of a traceback is this program's."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and last.tb_frame.f_code.co_filename == __file__


def _undocumented(tp, e, tb):
    sys.stdout.flush()
    sys.stderr.write("PROGFUZZ-UNDOCUMENTED: %s: %s\n" % (tp.__name__, e))
    traceback.print_exception(tp, e, tb)
    sys.stderr.flush()
    os._exit(3)


class _Guarded:
    """`with G:` swallows the exceptions the binding documents."""

    def __enter__(self):
        return self

    def __exit__(self, tp, e, tb):
        if tp is None or issubclass(tp, EXPECTED):
            return True
        if issubclass(tp, (NameError, AttributeError, IndexError)) and _own(tb):
            return True
        _undocumented(tp, e, tb)


G = _Guarded()
threading.excepthook = lambda a: _undocumented(a.exc_type, a.exc_value, a.exc_traceback)


def expect(cond, what):
    """A regression's check of behaviour: verdict "wrong" when it fails."""
    if not cond:
        sys.stdout.flush()
        sys.stderr.write("PROGFUZZ-WRONG: %s\n" % what)
        sys.stderr.flush()
        os._exit(4)


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def cb_noop(*a):
    pass


def cb_raise(*a):
    raise Marker("cb_raise")


def cb_no_args():
    pass


def on_conn(server, err):
    """A server's usual callback: accept, and echo what comes."""
    with G:
        c = server.accept()
        conns.append(c)
        c.read_start(on_read)


def on_read(h, data, err):
    with G:
        if data is None:
            h.close()
        else:
            h.write(data)


_s = socket.socket()
_s.bind(("127.0.0.1", 0))
CLOSED = _s.getsockname()  # a loopback address nobody listens on
_s.close()
log = []

for _rep in range(PFZ_REPEAT):
    L = flatuv.Loop()
    _L0 = L
    L2 = None
    _guard = flatuv.Timer(L)
    _guard.start(lambda h, _l=L: _l.stop(), GUARD, GUARD)
    _guard.unref()
    ADDR = CLOSED
    threads = []
    conns = []
    # ---- progfuzz ops ----
    # op 0
    def cb4(*a):
        h = a[0] if a else None
        log.append('cb4')
        with G: t1.start(cb6, 0.005)
    # op 1
    with G:
        s1 = flatuv.TCP(L)
        s1.bind(("127.0.0.1", 0))
        s1.listen(on_conn)
        ADDR = s1.getsockname()
    # op 2
    with G: c3 = flatuv.TCP(L)
    # op 3
    with G:
        c3.connect(ADDR, cb4)
        c3.read_start(cb3)
        c3.write(b"y" * (1 << 20), cb4)
    # op 4
    def f2():
        for _i in range(40):
            with G: c3.recv(64, timeout=0.005)
            with G: L.run(flatuv.RUN_NOWAIT)
    th = threading.Thread(target=f2); threads.append(th); th.start()
    # ---- progfuzz end ----
    for _th in threads:
        with G:
            _th.join()
    for _loop in (_L0, L2):
        if isinstance(_loop, flatuv.Loop) and not _loop.closed:
            with G:
                _loop.walk(lambda h: h.closing or h.close())
            for _i in range(3):
                with G:
                    _loop.run(flatuv.RUN_NOWAIT if _loop is L2 else flatuv.RUN_DEFAULT)
            with G:
                _loop.close()
    for _name in [n for n in globals() if re.fullmatch(r"[a-z]+[0-9]+", n)]:
        del globals()[_name]
    L = L2 = _L0 = _guard = _loop = None
    threads, conns = [], []
    del log[:]
    gc.collect()
    print("PROGFUZZ-RSS", _rep, rss_kb(), flush=True)
print("PROGFUZZ-END", flush=True)
