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

Each method's docstring is the C function's documentation from flatuv.h,
a line on what Python converts, and the C prototype it calls.
"""
# The hand-written part of the flatuv package: everything else of it is
# generated from the SWIG interface (bindings/apigen/apigen/emit_python.py).
#
# This file is never imported: the generator splices it into the
# generated flatuv/__init__.py (see apigen/python_overrides.py for the
# rules), so it uses that module's names (_lib, _HandleBase, TCP,
# AF_UNSPEC, ...). Its docstring above is the package's. A class named as
# a generated one adds to it: its docstring and members replace the
# generated ones. `@override("fuv_x", why=...)` marks a hand-written
# wrapper of a C function, and says why the rule does not fit; keep them
# few (issue 11: at most 10). Annotations are for the stub only.

# C functions whose Python face is not a method of the generated classes.
ELSEWHERE = {
    "fuv_loop_get_data": "Loop.data (the binding keeps the C data pointer)",
    "fuv_loop_set_data": "Loop.data (the binding keeps the C data pointer)",
    "fuv_handle_get_data": "Handle.data (the binding keeps the C data pointer)",
    "fuv_handle_set_data": "Handle.data (the binding keeps the C data pointer)",
    # The C object keeps its Loop: None before creation, still the loop
    # once closed, where fuv_handle_loop fails.
    "fuv_handle_loop": "Handle.loop",
}


# ---- errors: one class per builtin OSError subclass ----------------------------

class Error(OSError):
    """A failed flatuv call.

    errno is the positive errno value (ECONNREFUSED is 111 on Linux), name
    the libuv error name ("ECONNREFUSED") and code flatuv's negative code
    (flatuv.errorcode maps codes to names). The class is also the builtin
    OSError subclass for the errno, so ``except ConnectionRefusedError``,
    ``except TimeoutError`` and the like work.
    """

    code: int = 0
    name: str = "UNKNOWN"
    # The call it came from, as the message names it ("TCP.bind(('999.1.1.1',
    # 0))"); None for an error given to a callback.
    _call: Optional[str] = None

    def __str__(self) -> str:
        text = "[%s] %s" % (self.name, self.strerror)
        return "%s: %s" % (self._call, text) if self._call else text


# One subclass of Error per builtin OSError subclass an errno maps to, so
# that an Error is also a ConnectionRefusedError, a TimeoutError, ...
_error_classes = {}


def _error_class(code: int) -> Type[Error]:
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


def _make_error(code: int, message: Optional[str] = None) -> Error:
    """The Error for a flatuv code; the C extension raises through this."""
    err = _error_class(code)(-code, message or _lib.fuv_strerror(code))
    err.code = code
    err.name = _lib.fuv_err_name(code)
    return err


def _name_error(err: BaseException, cfunc: str, args: object) -> None:
    """Names the call a raised Error came from, for its message: the C
    extension calls it for every failed call (fuvpy_error_in: every status
    result and every loop or handle argument of every wrapper), with the C
    function's name and its wrapper's arguments. The name is C_API's, with
    the object's own class ("TCP.write", not "Stream.write"); the (ip, port)
    groups follow as Python took them: TCP.bind(('999.1.1.1', 0)) or
    ip4_addr('300.1.1.1', 1). Other exceptions are left as they are."""
    if not isinstance(err, Error) or err._call is not None:
        return
    where = C_API.get(cfunc, cfunc)
    values = args if isinstance(args, tuple) else ()
    if "." in where and values and isinstance(values[0], (_HandleBase, _LoopBase)):
        where = type(values[0]).__name__ + where[where.index("."):]
    shown = []
    for index, spread in _CALL_ADDRESSES.get(cfunc, ()):
        group = tuple(values[index:index + 2])
        if len(group) == 2:
            shown.append(", ".join(map(repr, group)) if spread else repr(group))
    if shown:
        where += "(%s)" % ", ".join(shown)
    err._call = where


_lib._set_error_factory(_make_error, _name_error)

for _code in errorcode:
    _error_class(_code)
del _code


# ---- classes -------------------------------------------------------------------------

class Loop:
    """An event loop [fuv_loop_new].

    Handles keep their loop alive. A loop whose object is collected closes
    its remaining handles (without calling their callbacks) and frees
    itself; close() frees it explicitly once every handle is closed. A Loop
    is also a context manager that closes it on exit. run() releases the
    GIL while it waits; an exception a callback raised stops it and is
    raised from it, as is KeyboardInterrupt for Ctrl-C.
    """

    if TYPE_CHECKING:
        data: Any

    @classmethod
    def default_loop(cls) -> Loop:
        """The process's default loop, made on first use (pyuv's
        Loop.default_loop()); a new one once it has been closed."""
        loop = globals().get("_default_loop")
        if loop is None or loop.closed:
            loop = cls()
            globals()["_default_loop"] = loop
        return loop

    def __enter__(self) -> Loop:
        return self

    def __exit__(self, *exc: object) -> bool:
        if not self.closed:
            self._close_all()
        return False

    def _close_all(self) -> None:
        """Closes every handle, runs the loop until they are gone, frees it."""
        self.walk(lambda handle: handle.close())
        self.run()
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return "<flatuv.Loop %s at %#x>" % (state, id(self))


class Handle:
    """What every handle has: closing, activity, references.

    A handle object is created bound to a loop (TCP(loop), Timer(loop),
    Async(loop, cb)); `loop` and `closed` tell its state, `data` is free for
    your use. Every method of a closed handle raises Error (EINVAL).
    """

    if TYPE_CHECKING:
        data: Any

        @property
        def loop(self) -> Optional[Loop]: ...

    @property
    @override("fuv_is_active", why="a closed handle is not active: False where the C call fails")
    def active(self) -> bool:
        """True while the handle is active (started, reading, writing, ...)."""
        return not self.closed and _lib.fuv_is_active(self)

    @property
    @override("fuv_is_closing", why="EINVAL (a freed or never created handle) is False, not an error")
    def closing(self) -> bool:
        """True from close() until the handle is freed."""
        try:
            return _lib.fuv_is_closing(self)
        except Error as e:
            if e.name != "EINVAL":
                raise  # EBUSY: another thread has the loop
            return False  # freed, or never created

    def __repr__(self) -> str:
        try:
            state = "closed" if self.closed else ("active" if self.active else "idle")
        except Error:
            state = "in use by another thread"
        return "<flatuv.%s %s at %#x>" % (type(self).__name__, state, id(self))


class Stream:
    """A stream (TCP is the only kind): listening, reading, writing.

    Callbacks: listen's callback(server, error), read_start's
    callback(stream, data, error) with data None at end of stream (error
    None) or on an error, write's / shutdown's callback(stream, error);
    error is None or an Error instance (not raised).
    """

    # An echo server calls write once per message: bytes without a callback
    # skip this layer (no Python frame), the rest goes to fuv_write's SWIG
    # wrapper, so behaviour and errors are the same either way.
    write = override(_HandleBase._stream_write, "fuv_write", "fuv_write_req",
                     why="the C fast path of an echo server's every message; "
                         "the rest returns a Request (fuv_write_req)")

    @override("fuv_accept", "fuv_stream_accept_into",
              why="pyuv's accept(client=None): two C calls behind one method, "
                  "chosen by whether a client is given")
    def accept(self, client: Optional[Stream] = None) -> Self:
        """Accepts a waiting connection [fuv_accept / fuv_stream_accept_into].

        With client (a handle you created and have not used, of the kind
        the server gives: a TCP from a TCP server, a Pipe from a pipe
        server, or on an IPC pipe the kind of pending_handle_type()), fills
        it and returns it, as pyuv does; without one, returns a new handle
        of the server's kind, which you own. Error EAGAIN when none is
        waiting."""
        if client is None:
            if isinstance(self, TCP):
                return _lib.fuv_accept(self, TCP.__new__(TCP))
            client = type(self)(self.loop)
        _lib.fuv_stream_accept_into(self, client)
        return client


    def start_read(self, callback: Callable[[Self, Optional[bytes], Optional[Error]], object]) -> None:
        """pyuv's name for read_start(): starts reading [fuv_read_start].

        C: int fuv_read_start(fuv_stream_t *stream, fuv_read_cb cb, void *arg)"""
        self.read_start(callback)

    def stop_read(self) -> None:
        """pyuv's name for read_stop(): stops reading [fuv_read_stop].

        C: int fuv_read_stop(fuv_stream_t *stream)"""
        self.read_stop()


_lib._set_write_general(_lib.fuv_write_req)


class TCP:
    """A TCP handle [fuv_tcp_new / fuv_tcp_new_ex].

    TCP(loop) creates the socket when it is bound or connected; TCP(loop,
    family) creates one of that family (AF_INET, AF_INET6) at once.
    """

    @override("fuv_tcp_new", "fuv_tcp_new_ex",
              why="one constructor for two C calls, chosen by the family")
    def __init__(self, loop: Loop, family: int = AF_UNSPEC) -> None:
        """Creates the handle on loop."""
        if family == AF_UNSPEC:
            _lib.fuv_tcp_new(self, loop)
        else:
            _lib.fuv_tcp_new_ex(self, loop, family)


class Timer:
    """A timer [fuv_timer_new]: Timer(loop).start(callback, 0.5, repeat=0)."""


class Async:
    """Wakes the loop from any thread [fuv_async_new]: Async(loop,
    callback); send() from any thread makes callback(async) run on the
    loop's thread. It keeps the loop running until closed or unref()'d."""


class UDP:
    """A UDP handle [fuv_udp_new / fuv_udp_new_ex], in pyuv's style.

    UDP(loop) creates the socket when it is bound, connected or first
    sends; UDP(loop, family) creates one of that family (AF_INET,
    AF_INET6) at once, and flags=UDP_RECVMMSG receives many datagrams per
    system call. start_recv's callback(handle, (host, port), flags, data,
    error) gets each datagram: data is bytes (b"" for an empty datagram),
    error None, or on an error address and data None and error an Error.
    send's callback(handle, error). Addresses are (host, port) tuples; an
    address of None is the connected peer (connect(None) disconnects).
    """

    @override("fuv_udp_new", "fuv_udp_new_ex",
              why="one constructor for two C calls, chosen by the family and flags")
    def __init__(self, loop: Loop, family: int = AF_UNSPEC, flags: int = 0) -> None:
        """Creates the handle on loop."""
        if family == AF_UNSPEC and not flags:
            _lib.fuv_udp_new(self, loop)
        else:
            _lib.fuv_udp_new_ex(self, loop, family, flags)

    def start_recv(self, callback: Callable[[Self, Optional[Tuple[str, int]], int, Optional[bytes], Optional[Error]], object]) -> None:
        """pyuv's name for recv_start(): starts receiving [fuv_udp_recv_start].

        C: int fuv_udp_recv_start(fuv_udp_t *udp, fuv_udp_recv_cb cb, void *arg)"""
        self.recv_start(callback)

    def stop_recv(self) -> None:
        """pyuv's name for recv_stop(): stops receiving [fuv_udp_recv_stop].

        C: int fuv_udp_recv_stop(fuv_udp_t *udp)"""
        self.recv_stop()

    def sendlines(self, address: Optional[Tuple[str, int]], seq: Sequence[bytes],
                  callback: Optional[Callable[[Self, Optional[Error]], object]] = None) -> Optional[Request]:
        """pyuv's sendlines(): the items of seq as one datagram, with send()
        [fuv_udp_send_req].

        C: int fuv_udp_send_req(fuv_udp_t *udp, const char *data, size_t len, const char *ip, int port, fuv_udp_send_cb cb, void *arg, fuv_req_t **req)"""
        return self.send(address, b"".join(seq), callback)


# pyuv's names of the UDP constants (pyuv.UV_JOIN_GROUP, ...).
UV_JOIN_GROUP: int = JOIN_GROUP
UV_LEAVE_GROUP: int = LEAVE_GROUP
UV_UDP_IPV6ONLY: int = UDP_IPV6ONLY
UV_UDP_PARTIAL: int = UDP_PARTIAL
UV_UDP_REUSEADDR: int = UDP_REUSEADDR
