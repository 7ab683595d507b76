# progfuzz program: lang python, seed 1218
# verdict: crash (AddressSanitizer: SEGV, main thread T0)
# Found by progfuzz: another thread calls run(), walk() and recv() on L while
# the main thread runs it (an Async with a raising callback keeps it alive).
# Same family as issue 17 item 2: every call from a foreign thread while the
# loop runs must be handed to the loop's thread or raise EBUSY.
import faulthandler, gc, math, os, re, socket, sys, threading, time, traceback
faulthandler.enable()
import flatuv

PFZ_REPEAT = 5
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
    with G: a1 = flatuv.Async(L, cb_raise)
    # op 1
    def f2():
        for _i in range(29):
            with G: c2.recv(64, timeout=0.005)
            with G: L.walk(cb_noop)
            with G: L.run()
    th = threading.Thread(target=f2); threads.append(th); th.start()
    # op 2
    with G: L.run(flatuv.RUN_DEFAULT)
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
