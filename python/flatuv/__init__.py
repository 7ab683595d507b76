"""flatuv: libuv's event loop, timers and TCP for Python.

Loops and handles in pyuv's style, with libuv's names and Python's
conventions::

    import flatuv

    loop = flatuv.Loop()
    server = flatuv.TCP(loop)
    server.bind(("127.0.0.1", 0))

    def on_read(client, data, error):
        if data is None:             # end of stream (error is None) or error
            client.close()
        else:
            client.write(data)

    def on_connection(server, error):
        server.accept().read_start(on_read)

    server.listen(on_connection)
    loop.run()

- Times are seconds as floats; addresses are (host, port) tuples.
- A failed call raises flatuv.Error, an OSError carrying errno, the libuv
  error name (``name``) and flatuv's code (``code``): ``except
  ConnectionRefusedError`` works as with the socket module.
- Callbacks receive the very objects you hold. An active handle (listening,
  reading, writing, a started timer, an Async) lives without your
  references; an idle open handle you drop is closed for you.
- A handle with a request pending (connect, write, shutdown) lives until
  the request's callback has run, so connect-write-forget works.
- An exception raised in a callback stops Loop.run() and propagates from it;
  Ctrl-C during run() raises KeyboardInterrupt and the loop stays usable.
- Threads: a loop is used by one thread at a time. A call from another
  thread while the loop runs (or is inside another call) raises Error
  EBUSY at once; Async.send() is safe from any thread; send() and recv()
  wait holding only their own handle (see the package README).
- The C API is reachable whole: every fuv_* function of flatuv.h is a method
  or function here (see C_API), and flatuv._flatuv holds the functions
  SWIG generated from the header, taking these same objects.

Each method's docstring ends with the C function it calls and that
function's documentation from flatuv.h.
"""

import enum as _enum
import inspect as _inspect
import math as _math

from . import _flatuv as _lib
from ._flatuv import HandleBase as _HandleBase
from ._flatuv import LoopBase as _LoopBase

__all__ = [
    "Loop", "Handle", "Stream", "TCP", "Timer", "Async", "Error",
    "HandleType", "RunMode", "TCPState", "C_API",
    "RUN_DEFAULT", "RUN_ONCE", "RUN_NOWAIT", "TCP_IPV6ONLY", "TCP_REUSEPORT",
    "AF_UNSPEC", "AF_INET", "AF_INET6", "SOCK_STREAM", "NONBLOCK_PIPE",
    "version", "version_string", "err_name", "strerror", "translate_sys_error",
    "ip4_addr", "ip6_addr", "ip_name", "socketpair", "tcp_state_name",
    "handle_type_name", "errorcode",
]

__version__ = "%d.%d.%d" % (_lib.FUV_VERSION_MAJOR, _lib.FUV_VERSION_MINOR,
                            _lib.FUV_VERSION_PATCH)

# ---------------------------------------------------------------------------
# The C API map and docstrings
# ---------------------------------------------------------------------------

#: Every fuv_* function of flatuv.h and where it is reached from Python.
C_API = {
    "fuv_loop_get_data": "Loop.data (the binding keeps the C data pointer)",
    "fuv_loop_set_data": "Loop.data (the binding keeps the C data pointer)",
    "fuv_handle_get_data": "Handle.data (the binding keeps the C data pointer)",
    "fuv_handle_set_data": "Handle.data (the binding keeps the C data pointer)",
    "fuv_handle_loop": "Handle.loop",
}


def _c(*names):
    """Marks a method as the Python face of C functions: records it in
    C_API and appends the functions' documentation from flatuv.h."""
    def mark(func):
        docs = [_inspect.cleandoc(func.__doc__)] if func.__doc__ else []
        for name in names:
            C_API.setdefault(name, func.__qualname__)
            cdoc = getattr(_lib, name).__doc__
            if cdoc:
                docs.append(cdoc.strip())
        func.__doc__ = "\n\n".join(docs)
        return func
    return mark


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

class Error(OSError):
    """A failed flatuv call.

    errno is the positive errno value (ECONNREFUSED is 111 on Linux), name
    the libuv error name ("ECONNREFUSED") and code flatuv's negative code
    (flatuv.errorcode maps codes to names). The class is also the builtin
    OSError subclass for the errno, so ``except ConnectionRefusedError``,
    ``except TimeoutError`` and the like work.
    """

    code = 0
    name = "UNKNOWN"

    def __str__(self):
        return "[%s] %s" % (self.name, self.strerror)


#: flatuv's error codes (negative) and their names, from the header's table.
errorcode = {}
for _name in dir(_lib):
    if _name.startswith("FUV_E") or _name == "FUV_UNKNOWN":
        _code = getattr(_lib, _name)
        if isinstance(_code, int) and _code < 0 and _lib.fuv_err_name(_code) == _name[4:]:
            errorcode[_code] = _name[4:]
            globals()[_name[4:]] = _code
del _name, _code

# One subclass of Error per builtin OSError subclass an errno maps to, so
# that an Error is also a ConnectionRefusedError, a TimeoutError, ...
_error_classes = {}


def _error_class(code):
    cls = _error_classes.get(code)
    if cls is None:
        base = type(OSError(-code, ""))
        if base is OSError:
            cls = Error
        else:
            cls = next((c for c in _error_classes.values()
                        if c.__bases__ == (Error, base)), None)
            if cls is None:
                cls = type(base.__name__, (Error, base), {
                    "__module__": __name__,
                    "__doc__": "flatuv.Error that is also a %s." % base.__name__,
                })
        _error_classes[code] = cls
    return cls


def _make_error(code, message=None):
    """The Error for a flatuv code; the C extension raises through this."""
    err = _error_class(code)(-code, message or _lib.fuv_strerror(code))
    err.code = code
    err.name = _lib.fuv_err_name(code)
    return err


_lib._set_error_factory(_make_error)

for _code in errorcode:
    _error_class(_code)

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------


class RunMode(_enum.IntEnum):
    """Modes of Loop.run()."""
    DEFAULT = _lib.FUV_RUN_DEFAULT
    ONCE = _lib.FUV_RUN_ONCE
    NOWAIT = _lib.FUV_RUN_NOWAIT


class HandleType(_enum.IntEnum):
    """Kinds of handles, as Handle.type returns them."""
    UNKNOWN = _lib.FUV_UNKNOWN_HANDLE
    ASYNC = _lib.FUV_ASYNC
    TCP = _lib.FUV_TCP
    TIMER = _lib.FUV_TIMER


class TCPState(_enum.IntEnum):
    """TCP connection states, as TCP.state() returns them."""
    UNKNOWN = _lib.FUV_TCP_STATE_UNKNOWN
    ESTABLISHED = _lib.FUV_TCP_ESTABLISHED
    SYN_SENT = _lib.FUV_TCP_SYN_SENT
    SYN_RECV = _lib.FUV_TCP_SYN_RECV
    FIN_WAIT1 = _lib.FUV_TCP_FIN_WAIT1
    FIN_WAIT2 = _lib.FUV_TCP_FIN_WAIT2
    TIME_WAIT = _lib.FUV_TCP_TIME_WAIT
    CLOSE = _lib.FUV_TCP_CLOSE
    CLOSE_WAIT = _lib.FUV_TCP_CLOSE_WAIT
    LAST_ACK = _lib.FUV_TCP_LAST_ACK
    LISTEN = _lib.FUV_TCP_LISTEN
    CLOSING = _lib.FUV_TCP_CLOSING


RUN_DEFAULT = RunMode.DEFAULT
RUN_ONCE = RunMode.ONCE
RUN_NOWAIT = RunMode.NOWAIT
TCP_IPV6ONLY = _lib.FUV_TCP_IPV6ONLY
TCP_REUSEPORT = _lib.FUV_TCP_REUSEPORT
AF_UNSPEC = _lib.FUV_AF_UNSPEC
AF_INET = _lib.FUV_AF_INET
AF_INET6 = _lib.FUV_AF_INET6
SOCK_STREAM = _lib.FUV_SOCK_STREAM
NONBLOCK_PIPE = _lib.FUV_NONBLOCK_PIPE

# ---------------------------------------------------------------------------
# Argument conversions
# ---------------------------------------------------------------------------


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number of seconds, not %s"
                        % (what, type(value).__name__))
    if value != value or value < 0:
        raise ValueError("%s must be >= 0, not %r" % (what, value))
    return value


def _ms(seconds, what="timeout"):
    """Seconds (int or float >= 0) as whole milliseconds, rounded up so that
    a short positive time never becomes 0."""
    # Rounded to the nanosecond first: 0.005 * 1000 is 5.000000000000001.
    return _math.ceil(round(_number(seconds, what) * 1000, 6))


def _whole_seconds(seconds, what):
    return _math.ceil(_number(seconds, what))


def _timeout_ms(timeout):
    """A blocking call's timeout: None waits for ever."""
    if timeout is None:
        return -1
    return _ms(timeout)


def _seconds(ms):
    return ms / 1000.0


def _address(address):
    """(host, port) or (host, port, flowinfo, scope_id) -> host, port."""
    if not isinstance(address, tuple) or len(address) not in (2, 4):
        raise TypeError("address must be a (host, port) tuple, not %r" % (address,))
    host, port = address[0], address[1]
    if not isinstance(host, str):
        raise TypeError("host must be a str, not %s" % type(host).__name__)
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError("port must be an int, not %s" % type(port).__name__)
    if len(address) == 4:
        scope = address[3]
        if isinstance(scope, bool) or not isinstance(scope, int):
            raise TypeError("scope_id must be an int")
        if scope and "%" not in host:
            host = "%s%%%d" % (host, scope)
    return host, port


def _flag(value):
    return 1 if value else 0


# ---------------------------------------------------------------------------
# Loop
# ---------------------------------------------------------------------------


class Loop(_LoopBase):
    """An event loop [fuv_loop_new].

    Handles keep their loop alive. A loop whose object is collected closes
    its remaining handles (without calling their callbacks) and frees
    itself; close() frees it explicitly once every handle is closed. A Loop
    is also a context manager that closes it on exit.
    """

    @_c("fuv_loop_new")
    def __init__(self):
        """Creates the loop, interruptible (fuv_loop_set_interruptible) so
        that Ctrl-C can interrupt its run()."""
        _lib.fuv_loop_new(self)

    @_c("fuv_run")
    def run(self, mode=RUN_DEFAULT):
        """Runs the loop (RUN_DEFAULT: until no active referenced handle is
        left or stop() is called). Returns True if active handles remain.

        An exception raised by a callback stops the loop and is raised here;
        Ctrl-C raises KeyboardInterrupt. The loop stays usable after both.
        The GIL is released while the loop waits for events."""
        return _lib.fuv_run(self, mode) != 0

    @_c("fuv_stop")
    def stop(self):
        """Makes run() return at the end of the current iteration."""
        _lib.fuv_stop(self)

    @_c("fuv_loop_alive")
    def alive(self):
        """True if the loop has active referenced handles, pending callbacks
        or closing handles."""
        return _lib.fuv_loop_alive(self) != 0

    @_c("fuv_now")
    def now(self):
        """The loop's cached time in seconds (monotonic, arbitrary origin),
        updated at the start of each iteration."""
        return _seconds(_lib.fuv_now(self))

    @_c("fuv_update_time")
    def update_time(self):
        """Refreshes the loop's cached time."""
        _lib.fuv_update_time(self)

    @_c("fuv_backend_fd")
    def backend_fd(self):
        """The backend's file descriptor (epoll)."""
        return _lib.fuv_backend_fd(self)

    @_c("fuv_loop_wakeup_fd")
    def wakeup_fd(self):
        """An fd that wakes the loop when written to. run() hands it to
        signal.set_wakeup_fd (on the main thread) so that Ctrl-C always
        interrupts it; the loop owns it."""
        return _lib.fuv_loop_wakeup_fd(self)

    @_c("fuv_backend_timeout")
    def backend_timeout(self):
        """The timeout in seconds the next poll would use; None for none."""
        ms = _lib.fuv_backend_timeout(self)
        if ms < -1:
            raise _make_error(ms)
        return None if ms == -1 else _seconds(ms)

    @_c("fuv_walk")
    def walk(self, callback):
        """Calls callback(handle) for every handle of the loop that is not
        closing, in creation order."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        _lib.fuv_walk(self, callback)

    @_c("fuv_loop_set_interruptible")
    def set_interruptible(self, on):
        """Whether a signal interrupts run() (on by default, so that Ctrl-C
        raises KeyboardInterrupt)."""
        _lib.fuv_loop_set_interruptible(self, _flag(on))

    @_c("fuv_metrics_loop_count")
    def metrics_loop_count(self):
        """The number of loop iterations so far."""
        return _lib.fuv_metrics_loop_count(self)

    @_c("fuv_metrics_events")
    def metrics_events(self):
        """The number of I/O events handled so far."""
        return _lib.fuv_metrics_events(self)

    @_c("fuv_loop_free")
    def close(self):
        """Frees the loop. Raises Error (EBUSY) while handles remain (close
        them and run the loop first) or from inside run()."""
        _lib.fuv_loop_free(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.closed:
            self._close_all()
        return False

    def _close_all(self):
        """Closes every handle, runs the loop until they are gone, frees it."""
        self.walk(lambda handle: handle.close())
        self.run()
        self.close()

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return "<flatuv.Loop %s at %#x>" % (state, id(self))


# ---------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------


class Handle(_HandleBase):
    """What every handle has: closing, activity, references.

    A handle object is created bound to a loop (TCP(loop), Timer(loop),
    Async(loop, cb)); `loop` and `closed` tell its state, `data` is free for
    your use. Every method of a closed handle raises Error (EINVAL).
    """

    _fuv_kind = 0

    @_c("fuv_close")
    def close(self, callback=None):
        """Closes the handle; callback(handle) runs from the loop once it is
        closed. Pending writes, connects and shutdowns first complete with
        ECANCELED. Closing a closed handle raises Error (EINVAL)."""
        _lib.fuv_close(self, callback)

    @property
    @_c("fuv_is_active")
    def active(self):
        """True while the handle is active (started, reading, writing, ...)."""
        return not self.closed and _lib.fuv_is_active(self) != 0

    @property
    @_c("fuv_is_closing")
    def closing(self):
        """True from close() until the handle is freed."""
        try:
            return _lib.fuv_is_closing(self) != 0
        except Error as e:
            if e.name != "EINVAL":
                raise  # EBUSY: another thread has the loop
            return False  # freed, or never created

    @_c("fuv_ref")
    def ref(self):
        """Lets the handle keep the loop running while it is active."""
        _lib.fuv_ref(self)

    @_c("fuv_unref")
    def unref(self):
        """Stops the handle from keeping the loop running."""
        _lib.fuv_unref(self)

    @_c("fuv_has_ref")
    def has_ref(self):
        """True if the handle is referenced."""
        return _lib.fuv_has_ref(self) != 0

    @property
    @_c("fuv_handle_type")
    def type(self):
        """The handle's kind, a HandleType."""
        return HandleType(_lib.fuv_handle_type(self))

    @_c("fuv_fileno")
    def fileno(self):
        """The handle's file descriptor."""
        return _lib.fuv_fileno(self)

    @_c("fuv_get_send_buffer_size")
    def get_send_buffer_size(self):
        """SO_SNDBUF in bytes."""
        return _lib.fuv_get_send_buffer_size(self)

    @_c("fuv_set_send_buffer_size")
    def set_send_buffer_size(self, size):
        """Sets SO_SNDBUF (bytes > 0)."""
        _lib.fuv_set_send_buffer_size(self, size)

    @_c("fuv_get_recv_buffer_size")
    def get_recv_buffer_size(self):
        """SO_RCVBUF in bytes."""
        return _lib.fuv_get_recv_buffer_size(self)

    @_c("fuv_set_recv_buffer_size")
    def set_recv_buffer_size(self, size):
        """Sets SO_RCVBUF (bytes > 0)."""
        _lib.fuv_set_recv_buffer_size(self, size)

    def __repr__(self):
        try:
            state = "closed" if self.closed else ("active" if self.active else "idle")
        except Error:
            state = "in use by another thread"
        return "<flatuv.%s %s at %#x>" % (type(self).__name__, state, id(self))


class Stream(Handle):
    """A stream (TCP is the only kind): listening, reading, writing.

    Callbacks: listen's callback(server, error), read_start's
    callback(stream, data, error) with data None at end of stream (error
    None) or on an error, write's / shutdown's callback(stream, error);
    error is None or an Error instance (not raised).
    """

    @_c("fuv_listen")
    def listen(self, callback=None, backlog=128):
        """Listens; callback(server, error) runs per connection waiting, and
        should call accept(). Without a callback, use accept_sync()."""
        _lib.fuv_listen(self, backlog, callback)

    @_c("fuv_accept")
    def accept(self):
        """Accepts a waiting connection as a new TCP handle (yours to close).
        Raises BlockingIOError (EAGAIN) when none is waiting."""
        client = TCP.__new__(TCP)
        _lib.fuv_accept(self, client)
        return client

    @_c("fuv_read_start")
    def read_start(self, callback):
        """Starts reading: callback(stream, data, error) gets each chunk as
        bytes; data is None at the end of the stream (error None) or after
        an error. Reading stops by itself then."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        _lib.fuv_read_start(self, callback)

    @_c("fuv_read_stop")
    def read_stop(self):
        """Stops reading (also from inside the read callback)."""
        _lib.fuv_read_stop(self)

    # In C (HandleBase._stream_write): bytes without a callback, an echo
    # server's every message, skip this layer; the rest goes to fuv_write's
    # general wrapper.
    write = _HandleBase._stream_write
    C_API.setdefault("fuv_write", "Stream.write")

    @_c("fuv_writev")
    def writev(self, buffers, callback=None):
        """Writes a sequence of bytes-like objects as one write."""
        _lib.fuv_writev(self, buffers, callback)

    @_c("fuv_try_write")
    def try_write(self, data):
        """Writes what the kernel takes now and returns the byte count;
        raises BlockingIOError (EAGAIN) when nothing could be written."""
        return _lib.fuv_try_write(self, data)

    @_c("fuv_shutdown")
    def shutdown(self, callback=None):
        """Shuts down the write side after the queued writes;
        callback(stream, error) gets the outcome."""
        _lib.fuv_shutdown(self, callback)

    @property
    @_c("fuv_is_readable")
    def readable(self):
        """True if the stream can be read from."""
        return _lib.fuv_is_readable(self) != 0

    @property
    @_c("fuv_is_writable")
    def writable(self):
        """True if the stream can be written to."""
        return _lib.fuv_is_writable(self) != 0

    @property
    @_c("fuv_write_queue_size")
    def write_queue_size(self):
        """Bytes queued and not yet handed to the kernel."""
        return _lib.fuv_write_queue_size(self)

    @_c("fuv_stream_set_water_marks")
    def set_water_marks(self, high, low=0, callback=None):
        """Backpressure: congested once high bytes are queued; when the
        queue falls to low, callback(stream) runs. high 0 turns it off."""
        _lib.fuv_stream_set_water_marks(self, high, low, callback)

    @property
    @_c("fuv_stream_is_congested")
    def congested(self):
        """True while the write queue is above its high-water mark."""
        return _lib.fuv_stream_is_congested(self) != 0

    # -- synchronous calls ------------------------------------------------

    @_c("fuv_accept_sync")
    def accept_sync(self, timeout=None):
        """Waits (seconds; None: for ever) for a connection on a stream
        listening without a callback and returns it as a TCP handle.
        TimeoutError when the time runs out."""
        client = TCP.__new__(TCP)
        _lib.fuv_accept_sync(self, client, _timeout_ms(timeout))
        return client

    @_c("fuv_send")
    def send(self, data, timeout=None):
        """Sends all of data, waiting at most timeout seconds (None: for
        ever). TimeoutError when the time runs out (a prefix may be sent)."""
        _lib.fuv_send(self, data, _timeout_ms(timeout))

    @_c("fuv_recv")
    def recv(self, size, timeout=None):
        """Receives up to size bytes, waiting at most timeout seconds (None:
        for ever); b"" at the end of the stream. TimeoutError when the time
        runs out."""
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError("size must be an int")
        return _lib.fuv_recv(self, size, _timeout_ms(timeout))


_lib._set_write_general(_lib.fuv_write)


class TCP(Stream):
    """A TCP handle [fuv_tcp_new / fuv_tcp_new_ex].

    TCP(loop) creates the socket when it is bound or connected; TCP(loop,
    family) creates one of that family (AF_INET, AF_INET6) at once.
    """

    _fuv_kind = _lib.FUV_TCP

    @_c("fuv_tcp_new", "fuv_tcp_new_ex")
    def __init__(self, loop, family=AF_UNSPEC):
        """Creates the handle on loop."""
        if family == AF_UNSPEC:
            _lib.fuv_tcp_new(self, loop)
        else:
            _lib.fuv_tcp_new_ex(self, loop, family)

    @_c("fuv_tcp_open")
    def open(self, fd):
        """Uses an existing stream socket (made non-blocking). Error EBUSY
        if the handle has a socket already."""
        _lib.fuv_tcp_open(self, fd)

    @_c("fuv_tcp_nodelay")
    def nodelay(self, enable=True):
        """Enables / disables TCP_NODELAY."""
        _lib.fuv_tcp_nodelay(self, _flag(enable))

    @_c("fuv_tcp_keepalive")
    def keepalive(self, enable, delay=0):
        """Enables / disables keep-alive; delay is the idle time in seconds
        (rounded up to whole seconds, >= 1 when enabling)."""
        _lib.fuv_tcp_keepalive(self, _flag(enable), _whole_seconds(delay, "delay"))

    @_c("fuv_tcp_keepalive_ex")
    def keepalive_ex(self, enable, idle=0, interval=0, count=0):
        """Keep-alive with every parameter (seconds, seconds, probes)."""
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError("count must be an int")
        _lib.fuv_tcp_keepalive_ex(self, _flag(enable), _whole_seconds(idle, "idle"),
                                  _whole_seconds(interval, "interval"), count)

    @_c("fuv_tcp_simultaneous_accepts")
    def simultaneous_accepts(self, enable):
        """Accepted for compatibility; no effect on POSIX."""
        _lib.fuv_tcp_simultaneous_accepts(self, _flag(enable))

    @_c("fuv_tcp_bind")
    def bind(self, address, flags=0):
        """Binds to (host, port); port 0 picks a free port. flags:
        TCP_IPV6ONLY, TCP_REUSEPORT. EADDRINUSE is reported by the following
        listen() or connect(), as in libuv."""
        host, port = _address(address)
        _lib.fuv_tcp_bind(self, host, port, flags)

    @_c("fuv_tcp_bind_addr")
    def bind_addr(self, sockaddr, flags=0):
        """Binds to a socket address given as bytes (see ip4_addr)."""
        _lib.fuv_tcp_bind_addr(self, sockaddr, flags)

    @_c("fuv_tcp_getsockname")
    def getsockname(self):
        """The bound address as (host, port)."""
        return _lib.fuv_tcp_getsockname(self)

    @_c("fuv_tcp_getpeername")
    def getpeername(self):
        """The peer's address as (host, port)."""
        return _lib.fuv_tcp_getpeername(self)

    @_c("fuv_tcp_getsockname_addr")
    def getsockname_addr(self):
        """The bound address as socket address bytes."""
        return _lib.fuv_tcp_getsockname_addr(self)

    @_c("fuv_tcp_getpeername_addr")
    def getpeername_addr(self):
        """The peer's address as socket address bytes."""
        return _lib.fuv_tcp_getpeername_addr(self)

    @_c("fuv_tcp_connect")
    def connect(self, address, callback=None):
        """Connects to (host, port); callback(tcp, error) gets the outcome
        (a refused connection does not close the handle)."""
        host, port = _address(address)
        _lib.fuv_tcp_connect(self, host, port, callback)

    @_c("fuv_tcp_connect_addr")
    def connect_addr(self, sockaddr, callback=None):
        """Connects to a socket address given as bytes."""
        _lib.fuv_tcp_connect_addr(self, sockaddr, callback)

    @_c("fuv_tcp_connect_sync")
    def connect_sync(self, address, timeout=None):
        """Connects, waiting at most timeout seconds (None: for ever)."""
        host, port = _address(address)
        _lib.fuv_tcp_connect_sync(self, host, port, _timeout_ms(timeout))

    @_c("fuv_tcp_close_reset")
    def close_reset(self, callback=None):
        """Closes the connection with a RST; callback(tcp) once closed."""
        _lib.fuv_tcp_close_reset(self, callback)

    # -- socket options -----------------------------------------------------

    @_c("fuv_tcp_set_linger")
    def set_linger(self, on, seconds=0):
        """SO_LINGER: on with a timeout in whole seconds, or off."""
        _lib.fuv_tcp_set_linger(self, _flag(on), _whole_seconds(seconds, "seconds"))

    @_c("fuv_tcp_get_linger")
    def get_linger(self):
        """SO_LINGER as (on, seconds)."""
        on, seconds = _lib.fuv_tcp_get_linger(self)
        return bool(on), seconds

    @_c("fuv_tcp_set_ttl")
    def set_ttl(self, ttl):
        """IP_TTL (IPv6: unicast hops), 1-255."""
        _lib.fuv_tcp_set_ttl(self, ttl)

    @_c("fuv_tcp_get_ttl")
    def get_ttl(self):
        """IP_TTL (IPv6: unicast hops)."""
        return _lib.fuv_tcp_get_ttl(self)

    @_c("fuv_tcp_set_reuseaddr")
    def set_reuseaddr(self, on):
        """SO_REUSEADDR on / off."""
        _lib.fuv_tcp_set_reuseaddr(self, _flag(on))

    @_c("fuv_tcp_get_reuseaddr")
    def get_reuseaddr(self):
        """SO_REUSEADDR."""
        return _lib.fuv_tcp_get_reuseaddr(self) != 0

    @_c("fuv_tcp_set_ipv6only")
    def set_ipv6only(self, on):
        """IPV6_V6ONLY on an IPv6 socket, before bind."""
        _lib.fuv_tcp_set_ipv6only(self, _flag(on))

    @_c("fuv_tcp_get_ipv6only")
    def get_ipv6only(self):
        """IPV6_V6ONLY."""
        return _lib.fuv_tcp_get_ipv6only(self) != 0

    @_c("fuv_tcp_bind_to_device")
    def bind_to_device(self, ifname):
        """SO_BINDTODEVICE to an interface name; None or "" removes it."""
        if ifname is not None and not isinstance(ifname, str):
            raise TypeError("ifname must be a str or None")
        _lib.fuv_tcp_bind_to_device(self, ifname)

    @_c("fuv_tcp_state")
    def state(self):
        """The connection's TCPState."""
        return TCPState(_lib.fuv_tcp_state(self))

    @_c("fuv_tcp_pending_bytes")
    def pending_bytes(self):
        """Bytes received and not yet read."""
        return _lib.fuv_tcp_pending_bytes(self)

    @_c("fuv_tcp_socket_error")
    def socket_error(self):
        """Reads and clears SO_ERROR: 0, or the pending error's (negative)
        code; err_name() names it."""
        return _lib.fuv_tcp_socket_error(self)

    @_c("fuv_tcp_detach")
    def detach(self):
        """Gives up the socket without closing it and returns its fd; the
        handle must still be closed."""
        return _lib.fuv_tcp_detach(self)


class Timer(Handle):
    """A timer [fuv_timer_new]: Timer(loop).start(callback, 0.5, repeat=0)."""

    _fuv_kind = _lib.FUV_TIMER

    @_c("fuv_timer_new")
    def __init__(self, loop):
        """Creates a stopped timer on loop."""
        _lib.fuv_timer_new(self, loop)

    @_c("fuv_timer_start")
    def start(self, callback, timeout, repeat=0.0):
        """Starts (or restarts) the timer: callback(timer) runs after
        timeout seconds, then every repeat seconds if repeat is not 0."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        _lib.fuv_timer_start(self, callback, _ms(timeout),
                             _ms(repeat, "repeat"))

    @_c("fuv_timer_stop")
    def stop(self):
        """Stops the timer."""
        _lib.fuv_timer_stop(self)

    @_c("fuv_timer_again")
    def again(self):
        """Restarts a repeating timer with its repeat as timeout."""
        _lib.fuv_timer_again(self)

    @property
    @_c("fuv_timer_get_repeat", "fuv_timer_set_repeat")
    def repeat(self):
        """The repeat interval in seconds (settable)."""
        return _seconds(_lib.fuv_timer_get_repeat(self))

    @repeat.setter
    def repeat(self, seconds):
        _lib.fuv_timer_set_repeat(self, _ms(seconds, "repeat"))

    @property
    @_c("fuv_timer_get_due_in")
    def due_in(self):
        """Seconds until the timer is due; 0 if due or stopped."""
        return _seconds(_lib.fuv_timer_get_due_in(self))


class Async(Handle):
    """Wakes the loop from any thread [fuv_async_new]: Async(loop,
    callback); send() from any thread makes callback(async) run on the
    loop's thread. It keeps the loop running until closed or unref()'d."""

    _fuv_kind = _lib.FUV_ASYNC

    @_c("fuv_async_new")
    def __init__(self, loop, callback):
        """Creates the handle, active at once."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        _lib.fuv_async_new(self, loop, callback)

    @_c("fuv_async_send")
    def send(self):
        """Makes the callback run on the loop's thread; several sends before
        it runs give one call. Safe from any thread."""
        _lib.fuv_async_send(self)


# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------


@_c("fuv_version")
def version():
    """The C library's version as (major << 16) | (minor << 8) | patch."""
    return _lib.fuv_version()


@_c("fuv_version_string")
def version_string():
    """The C library's version as "major.minor.patch"."""
    return _lib.fuv_version_string()


@_c("fuv_err_name")
def err_name(code):
    """The name of a flatuv error code ("ECONNREFUSED")."""
    return _lib.fuv_err_name(code)


@_c("fuv_strerror")
def strerror(code):
    """The message of a flatuv error code."""
    return _lib.fuv_strerror(code)


@_c("fuv_translate_sys_error")
def translate_sys_error(sys_errno):
    """A platform errno (positive) as a flatuv code."""
    return _lib.fuv_translate_sys_error(sys_errno)


@_c("fuv_ip4_addr")
def ip4_addr(ip, port):
    """An IPv4 socket address (struct sockaddr_in) as bytes."""
    return _lib.fuv_ip4_addr(ip, port)


@_c("fuv_ip6_addr")
def ip6_addr(ip, port):
    """An IPv6 socket address (struct sockaddr_in6) as bytes."""
    return _lib.fuv_ip6_addr(ip, port)


@_c("fuv_ip_name")
def ip_name(sockaddr):
    """The address of socket address bytes as text."""
    return _lib.fuv_ip_name(sockaddr)


@_c("fuv_socketpair")
def socketpair(type=SOCK_STREAM, protocol=0, flags0=0, flags1=0):
    """A connected pair of AF_UNIX sockets as (fd0, fd1), both yours;
    NONBLOCK_PIPE in a flags makes that end non-blocking."""
    return _lib.fuv_socketpair(type, protocol, flags0, flags1)


@_c("fuv_tcp_state_name")
def tcp_state_name(state):
    """"ESTABLISHED", "TIME_WAIT", ... for a TCPState."""
    return _lib.fuv_tcp_state_name(state)


@_c("fuv_handle_type_name")
def handle_type_name(handle_type):
    """"async", "tcp", "timer" or "unknown" for a HandleType."""
    return _lib.fuv_handle_type_name(handle_type)

