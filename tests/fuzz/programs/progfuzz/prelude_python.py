"""The fixed parts of every generated Python program.

PRELUDE holds the policy of expected exceptions, in one helper, G: every
operation runs under `with G:`, which swallows what the binding documents
(flatuv.Error and the OSError family, TypeError, ValueError,
OverflowError), the program's own Marker raised from its callbacks, and the
NameError / AttributeError / IndexError the program causes itself when an operation uses
a variable an earlier operation dropped (or the minimizer removed). Anything
else is undocumented: G prints it and ends the process with status 3, which
the runner reads as the verdict "undocumented". G ends the process rather
than re-raising so that the verdict is the same from the main thread, a
callback or another thread.

The operations run PFZ_REPEAT times, each time on a fresh loop L, and each
repeat prints its RSS, so that the runner can see memory growth. Every
run() is bounded by _guard, an unreferenced repeating timer that stops the
loop and that no operation touches: it keeps nothing alive by itself, but
while anything else does, run() returns within GUARD seconds. A hang is
therefore the library's.
"""

PRELUDE = '''\
import faulthandler, gc, math, os, re, shutil, signal, socket, sys, tempfile, threading, time, traceback
faulthandler.enable()
import flatuv

PFZ_REPEAT = 4
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
    sys.stderr.write("PROGFUZZ-UNDOCUMENTED: %s: %s\\n" % (tp.__name__, e))
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
        sys.stderr.write("PROGFUZZ-WRONG: %s\\n" % what)
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
# Pipe names: paths in a directory of the program's own, and abstract names.
PDIR = tempfile.mkdtemp(prefix="pfz-")
DEVNULL = os.open(os.devnull, os.O_WRONLY)

for _rep in range(PFZ_REPEAT):
    L = flatuv.Loop()
    _L0 = L
    L2 = None
    _guard = flatuv.Timer(L)
    _guard.start(lambda h, _l=L: _l.stop(), GUARD, GUARD)
    _guard.unref()
    ADDR = CLOSED
    PNAME = os.path.join(PDIR, "p%d" % _rep)
    PNAME2 = os.path.join(PDIR, "q%d" % _rep)
    ANAME = "\\0pfz-%d-%d" % (os.getpid(), _rep)
    threads = []
    conns = []
'''

EPILOGUE = '''\
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
    for _name in (PNAME, PNAME2):
        with G:
            os.unlink(_name)
    print("PROGFUZZ-RSS", _rep, rss_kb(), flush=True)
shutil.rmtree(PDIR, ignore_errors=True)
print("PROGFUZZ-END", flush=True)
'''
