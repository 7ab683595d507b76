## flatuv for Nim: libuv's loop, timer, stream and TCP API over the flatuv
## C library, with Nim closures as callbacks and errors as exceptions.
##
## .. code-block:: nim
##
##   import flatuv
##   let loop = newLoop()
##   let server = newTCP(loop)
##   server.bindAddr("127.0.0.1", 7000)
##   server.listen(128, proc (s: Stream; err: ref FlatuvError) =
##     let client = s.accept()
##     client.readStart(proc (c: Stream; data: openArray[char];
##                            err: ref FlatuvError) =
##       if err != nil: c.close()
##       else: c.write(data)))
##   loop.run()
##
## This module is a thin layer over `flatuv/raw`, which bindings/nimgen
## generates from the SWIG interface; that module has every C function
## under its Nim name, for what this one does not cover: pass it the C
## object of a handle (`cTCP`, `cStream`, `cHandle`, `cLoop`), e.g.
## `raw.setTtl(tcp.cTCP, 64)` after `from flatuv/raw import nil`.
##
## Lifetime: a handle stays alive, with the closures registered on it,
## from its creation until its close callback has run, whether or not the
## program still references it. Replacing a callback releases the old
## closure; closing releases them all. Every handle must be closed, as in
## libuv. A callback receives the very object the program created.
##
## Errors: every failing call raises `FlatuvError` (an `OSError`) carrying
## the negative flatuv code and its libuv name (`errorName`, "ECONNREFUSED"). Callbacks
## receive an error as a `ref FlatuvError`, nil on success. An exception
## raised inside a callback stops the loop and propagates from `run`.
## Using a closed handle raises `FlatuvError` (EINVAL); it never crashes.

from flatuv/raw import nil

type
  FlatuvError* = object of OSError
    ## A failure reported by the flatuv library.
    code*: int         ## The negative flatuv error code (FUV_ECONNREFUSED ...).
    errorName*: string ## The code's libuv name ("ECONNREFUSED", "EOF" ...).
                       ## (`name`, inherited, is the exception type's.)

  RunMode* = enum
    ## How long `run` runs the loop.
    runDefault ## Until no active and referenced handle is left, or `stop`.
    runOnce    ## One iteration, waiting for I/O if there is nothing pending.
    runNoWait  ## One iteration without waiting.

  Family* = enum
    ## The address family of the socket that `newTCP` creates at once.
    familyNone ## Create no socket yet; bind or connect chooses it.
    familyInet ## IPv4.
    familyInet6 ## IPv6.

  Loop* = ref object
    ## An event loop.
    cptr: ptr raw.Loop
    pendingError: ref Exception # raised by a callback, re-raised by run

  Handle* = ref object of RootObj
    ## What every handle type has in common.
    cptr: ptr raw.Handle     # nil once the close callback has run
    loop: Loop
    onClose: CloseCallback

  Stream* = ref object of Handle
    ## A connection-oriented handle: TCP.
    onConnection: ConnectionCallback
    onRead: ReadCallback
    onShutdown: ShutdownCallback
    onDrain: DrainCallback

  TCP* = ref object of Stream
    ## A TCP socket, listening or connected.
    onConnect: ConnectCallback

  Timer* = ref object of Handle
    ## Runs a callback after a timeout, and then repeatedly if asked.
    onTimer: TimerCallback

  Async* = ref object of Handle
    ## Wakes the loop from any thread and runs a callback on its thread.
    onAsync: AsyncCallback

  CloseCallback* = proc (handle: Handle) {.closure.}
  TimerCallback* = proc (timer: Timer) {.closure.}
  AsyncCallback* = proc (async: Async) {.closure.}
  ConnectionCallback* = proc (server: Stream; err: ref FlatuvError) {.closure.}
    ## A connection is waiting for `accept` (err nil), or accepting failed.
  ReadCallback* = proc (stream: Stream; data: openArray[char];
                        err: ref FlatuvError) {.closure.}
    ## Data read from the stream; `data` is valid only during the call. At
    ## the end of the stream err.errorName is "EOF" and data is empty.
  WriteCallback* = proc (stream: Stream; err: ref FlatuvError) {.closure.}
  ConnectCallback* = proc (tcp: TCP; err: ref FlatuvError) {.closure.}
  ShutdownCallback* = proc (stream: Stream; err: ref FlatuvError) {.closure.}
  DrainCallback* = proc (stream: Stream) {.closure.}

  WriteRequest = ref object
    # One write's callback, alive from fuv_write until the callback.
    stream: Stream
    cb: WriteCallback

# --------------------------------------------------------------------------
# Version and errors
# --------------------------------------------------------------------------

proc version*(): tuple[major, minor, patch: int] =
  ## The version of the flatuv C library the program runs with.
  let v = int(raw.version())
  (v shr 16 and 0xff, v shr 8 and 0xff, v and 0xff)

proc versionString*(): string =
  ## The same as "major.minor.patch".
  $raw.versionString()

proc errorName*(code: int): string =
  ## The libuv name of a flatuv error code: "ECONNREFUSED", "EOF" ...
  $raw.errName(cint(code))

proc newFlatuvError*(code: int; context = ""): ref FlatuvError =
  ## An exception for a negative flatuv code; context names the call.
  result = newException(FlatuvError, "")
  result.code = code
  result.errorName = errorName(code)
  result.errorCode = int32(-code)
  result.msg = result.errorName & ": " & $raw.strerror(cint(code))
  if context.len > 0:
    result.msg.add " (" & context & ")"

proc toString*(data: openArray[char]): string =
  ## A copy of data read by a ReadCallback, which outlives the callback.
  result = newString(data.len)
  if data.len > 0:
    copyMem(addr result[0], unsafeAddr data[0], data.len)

template check(rc: untyped; context: string): untyped =
  let code = rc
  if code < 0:
    raise newFlatuvError(int(code), context)
  code

proc statusError(status: int): ref FlatuvError =
  if status < 0: newFlatuvError(status) else: nil

# --------------------------------------------------------------------------
# Loop
# --------------------------------------------------------------------------

proc newLoop*(): Loop =
  ## Creates a loop.
  result = Loop()
  discard check(raw.init(addr result.cptr), "newLoop")

proc run*(loop: Loop; mode = runDefault): bool {.discardable.} =
  ## Runs the loop; returns true if active handles remain (after `stop`, or
  ## in runOnce / runNoWait modes). Raises what a callback raised.
  const modes: array[RunMode, raw.RunMode] =
    [raw.FUV_RUN_DEFAULT, raw.FUV_RUN_ONCE, raw.FUV_RUN_NOWAIT]
  let rc = raw.run(loop.cptr, modes[mode])
  if loop.pendingError != nil:
    let e = loop.pendingError
    loop.pendingError = nil
    raise e
  check(rc, "run") > 0

proc stop*(loop: Loop) =
  ## Makes `run` return at the end of the current iteration.
  discard check(raw.stop(loop.cptr), "stop")

proc close*(loop: Loop) =
  ## Frees the loop's resources; raises EBUSY while handles are open.
  discard check(raw.close(loop.cptr), "close")
  loop.cptr = nil

proc alive*(loop: Loop): bool =
  ## True if the loop has active referenced handles or pending callbacks.
  raw.isAlive(loop.cptr) != 0

proc now*(loop: Loop): int =
  ## The loop's cached time in milliseconds (monotonic, arbitrary origin).
  int(raw.now(loop.cptr))

proc updateTime*(loop: Loop) =
  ## Refreshes the loop's cached time.
  discard check(raw.updateTime(loop.cptr), "updateTime")

# --------------------------------------------------------------------------
# Callback plumbing
#
# The C library gets a cdecl trampoline per callback type and, as its arg,
# the address of the Nim handle (or write request). The handle is kept
# alive by GC_ref from creation until its close callback, so the address
# stays valid while C can call back; `{.cursor.}` stops ORC from counting
# the borrowed reference that the cast makes. A trampoline holds the
# closure it calls in a `var` that it clears afterwards: a counted copy, so
# a callback that replaces itself (timer.start inside the timer callback)
# does not free the closure that is running. An exception from a user
# callback must not unwind through C: it is kept and `run` re-raises it.
# --------------------------------------------------------------------------

template callUser(loop: Loop; body: untyped) =
  try:
    body
  except Exception as e:
    if loop.pendingError == nil:
      loop.pendingError = e
    discard raw.stop(loop.cptr)

proc adopt[T: Handle](h: T; cptr: pointer; loop: Loop) =
  h.cptr = cast[ptr raw.Handle](cptr)
  h.loop = loop
  GC_ref(h)

proc release(h: Handle) =
  # The C handle is gone: drop every closure, then the handle itself.
  h.onClose = nil
  if h of Stream:
    let s = Stream(h)
    s.onConnection = nil
    s.onRead = nil
    s.onShutdown = nil
    s.onDrain = nil
    if h of TCP:
      TCP(h).onConnect = nil
  elif h of Timer:
    Timer(h).onTimer = nil
  elif h of Async:
    Async(h).onAsync = nil
  GC_unref(h)

proc closeTrampoline(handle: ptr raw.Handle; arg: pointer) {.cdecl.} =
  let h {.cursor.} = cast[Handle](arg)
  var cb = h.onClose
  h.cptr = nil # the library frees the C handle when this returns
  if cb != nil:
    callUser(h.loop):
      cb(h)
  cb = nil
  release(h)

proc stream(h: Stream): ptr raw.Stream {.inline.} =
  cast[ptr raw.Stream](h.cptr)

proc tcp(h: TCP): ptr raw.TCP {.inline.} =
  cast[ptr raw.TCP](h.cptr)

# --------------------------------------------------------------------------
# The C objects, for the raw layer
# --------------------------------------------------------------------------

proc cLoop*(loop: Loop): ptr raw.Loop =
  ## The C loop, for `flatuv/raw` calls this module does not wrap; nil
  ## once closed.
  loop.cptr

proc cHandle*(h: Handle): ptr raw.Handle =
  ## The C handle, for `flatuv/raw` calls this module does not wrap (socket
  ## options, metrics ...); nil once closed. Close it and register its
  ## callbacks only through this module, which owns them.
  h.cptr

proc cStream*(s: Stream): ptr raw.Stream = s.stream
proc cTCP*(t: TCP): ptr raw.TCP = t.tcp

# --------------------------------------------------------------------------
# Handles
# --------------------------------------------------------------------------

proc close*(h: Handle; cb: CloseCallback = nil) =
  ## Starts closing the handle; pending writes, connect and shutdown get
  ## ECANCELED first, then cb runs, and then the handle's closures are
  ## released. Raises EINVAL if it is already closing or closed.
  discard check(raw.close(h.cptr, closeTrampoline, cast[pointer](h)), "close")
  h.onClose = cb

proc isActive*(h: Handle): bool =
  ## True if the handle is doing something (see the C docs).
  raw.isActive(h.cptr) != 0

proc isClosing*(h: Handle): bool =
  ## True once `close` has been called (and after it finished).
  h.cptr == nil or raw.isClosing(h.cptr) != 0

proc isClosed*(h: Handle): bool =
  ## True once the close callback has run.
  h.cptr == nil

proc loop*(h: Handle): Loop =
  ## The handle's loop.
  h.loop

proc refHandle*(h: Handle) =
  ## Makes the handle keep `run` running while it is active (the default).
  discard check(raw.refHandle(h.cptr), "refHandle")

proc unrefHandle*(h: Handle) =
  ## Lets `run` return even while this handle is active.
  discard check(raw.unrefHandle(h.cptr), "unrefHandle")

proc hasRef*(h: Handle): bool =
  raw.hasRefHandle(h.cptr) != 0

proc fileno*(h: Handle): int =
  ## The handle's file descriptor.
  check(raw.fileno(h.cptr), "fileno")

# --------------------------------------------------------------------------
# Timers
# --------------------------------------------------------------------------

proc newTimer*(loop: Loop): Timer =
  ## Creates a stopped timer.
  var p: ptr raw.Timer
  discard check(raw.init(addr p, loop.cptr), "newTimer")
  result = Timer()
  result.adopt(p, loop)

proc timerTrampoline(timer: ptr raw.Timer; arg: pointer) {.cdecl.} =
  let t {.cursor.} = cast[Timer](arg)
  var cb = t.onTimer
  if cb != nil:
    callUser(t.loop):
      cb(t)
  cb = nil

proc checkMs(ms: int; context: string) =
  if ms < 0:
    raise newFlatuvError(raw.FUV_EINVAL, context)

proc start*(t: Timer; timeoutMs, repeatMs: int; cb: TimerCallback) =
  ## Runs cb after timeoutMs, then every repeatMs if that is not 0.
  ## Replaces (and releases) the previous callback.
  checkMs(timeoutMs, "start")
  checkMs(repeatMs, "start")
  discard check(raw.start(cast[ptr raw.Timer](t.cptr), timerTrampoline,
                          uint64(timeoutMs), uint64(repeatMs),
                          cast[pointer](t)), "start")
  t.onTimer = cb

proc stop*(t: Timer) =
  ## Stops the timer; its callback stays registered for `again`.
  discard check(raw.stop(cast[ptr raw.Timer](t.cptr)), "stop")

proc again*(t: Timer) =
  ## Restarts a repeating timer with its repeat interval as timeout.
  discard check(raw.again(cast[ptr raw.Timer](t.cptr)), "again")

proc `repeat=`*(t: Timer; repeatMs: int) =
  ## Sets the repeat interval, used from the next expiry or `again`.
  checkMs(repeatMs, "repeat=")
  discard check(raw.setRepeat(cast[ptr raw.Timer](t.cptr), uint64(repeatMs)),
                "repeat=")

proc repeat*(t: Timer): int =
  int(raw.getRepeat(cast[ptr raw.Timer](t.cptr)))

proc dueIn*(t: Timer): int =
  ## Milliseconds until the timer is due; 0 if due or stopped.
  int(raw.getDueIn(cast[ptr raw.Timer](t.cptr)))

# --------------------------------------------------------------------------
# Async
# --------------------------------------------------------------------------

proc asyncTrampoline(async: ptr raw.Async; arg: pointer) {.cdecl.} =
  let a {.cursor.} = cast[Async](arg)
  var cb = a.onAsync
  if cb != nil:
    callUser(a.loop):
      cb(a)
  cb = nil

proc newAsync*(loop: Loop; cb: AsyncCallback): Async =
  ## Creates an async handle, active at once; cb runs on the loop's thread
  ## after `send`.
  result = Async(onAsync: cb)
  var p: ptr raw.Async
  discard check(raw.init(addr p, loop.cptr, asyncTrampoline,
                         cast[pointer](result)), "newAsync")
  result.adopt(p, loop)

proc send*(a: Async) =
  ## Wakes the loop; several sends before the callback give one call.
  discard check(raw.send(cast[ptr raw.Async](a.cptr)), "send")

# --------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------

proc connectionTrampoline(server: ptr raw.Stream; status: cint;
                          arg: pointer) {.cdecl.} =
  let s {.cursor.} = cast[Stream](arg)
  var cb = s.onConnection
  if cb != nil:
    callUser(s.loop):
      cb(s, statusError(status))
  cb = nil

proc listen*(s: Stream; backlog: int; cb: ConnectionCallback) =
  ## Starts listening; cb runs for each connection waiting to be accepted.
  ## With cb nil the stream listens without watching, for `acceptSync`.
  let trampoline = if cb == nil: nil else: connectionTrampoline
  discard check(raw.listen(s.stream, cint(backlog), trampoline,
                           cast[pointer](s)), "listen")
  s.onConnection = cb

proc accept*(server: Stream): TCP =
  ## Accepts a waiting connection; raises EAGAIN when none is waiting.
  var p: ptr raw.TCP
  discard check(raw.accept(server.stream, addr p), "accept")
  result = TCP()
  result.adopt(p, server.loop)

proc acceptSync*(server: Stream; timeoutMs = -1): TCP =
  ## Waits at most timeoutMs (-1: no limit) for a connection on a stream
  ## listening without a callback, and accepts it.
  var p: ptr raw.TCP
  discard check(raw.acceptSync(server.stream, addr p, cint(timeoutMs)),
                "acceptSync")
  result = TCP()
  result.adopt(p, server.loop)

proc readTrampoline(stream: ptr raw.Stream; nread: raw.Ssize;
                    buf: raw.ConstCstring; arg: pointer) {.cdecl.} =
  let s {.cursor.} = cast[Stream](arg)
  var cb = s.onRead
  if cb == nil:
    return
  callUser(s.loop):
    if nread > 0:
      cb(s, toOpenArray(cast[ptr UncheckedArray[char]](buf), 0, nread - 1), nil)
    else:
      cb(s, [], newFlatuvError(nread))
  cb = nil

proc readStart*(s: Stream; cb: ReadCallback) =
  ## Starts reading; cb gets the data as it arrives. Reading stops by
  ## itself at the end of the stream or on an error.
  discard check(raw.readStart(s.stream, readTrampoline, cast[pointer](s)),
                "readStart")
  s.onRead = cb

proc readStop*(s: Stream) =
  ## Stops reading (the callback stays registered until replaced).
  discard check(raw.readStop(s.stream), "readStop")

proc writeTrampoline(stream: ptr raw.Stream; status: cint;
                     arg: pointer) {.cdecl.} =
  let req {.cursor.} = cast[WriteRequest](arg)
  callUser(req.stream.loop):
    req.cb(req.stream, statusError(status))
  GC_unref(req) # last: the request holds the stream and the closure

proc write*(s: Stream; data: openArray[char]; cb: WriteCallback = nil) =
  ## Writes data; what the kernel does not take at once is copied, so data
  ## may be reused on return. cb, if given, gets the outcome.
  let p = if data.len > 0: cast[cstring](unsafeAddr data[0]) else: nil
  if cb == nil:
    discard check(raw.write(s.stream, p, csize_t(data.len), nil, nil), "write")
    return
  let req = WriteRequest(stream: s, cb: cb)
  GC_ref(req)
  let rc = raw.write(s.stream, p, csize_t(data.len), writeTrampoline,
                     cast[pointer](req))
  if rc < 0:
    GC_unref(req) # the callback will never run
    raise newFlatuvError(rc, "write")

proc tryWrite*(s: Stream; data: openArray[char]): int =
  ## Writes what the kernel takes now; returns the byte count. Raises
  ## EAGAIN when nothing could be written.
  let p = if data.len > 0: cast[cstring](unsafeAddr data[0]) else: nil
  check(raw.tryWrite(s.stream, p, csize_t(data.len)), "tryWrite")

proc shutdownTrampoline(stream: ptr raw.Stream; status: cint;
                        arg: pointer) {.cdecl.} =
  let s {.cursor.} = cast[Stream](arg)
  var cb = s.onShutdown
  s.onShutdown = nil
  if cb != nil:
    callUser(s.loop):
      cb(s, statusError(status))
  cb = nil

proc shutdown*(s: Stream; cb: ShutdownCallback = nil) =
  ## Shuts down the write side after every queued write has gone out.
  discard check(raw.shutdown(s.stream, shutdownTrampoline, cast[pointer](s)),
                "shutdown")
  s.onShutdown = cb

proc isReadable*(s: Stream): bool = raw.isReadable(s.stream) != 0
proc isWritable*(s: Stream): bool = raw.isWritable(s.stream) != 0

proc writeQueueSize*(s: Stream): int =
  ## Bytes queued and not yet handed to the kernel.
  int(raw.writeQueueSize(s.stream))

proc drainTrampoline(stream: ptr raw.Stream; arg: pointer) {.cdecl.} =
  let s {.cursor.} = cast[Stream](arg)
  var cb = s.onDrain
  if cb != nil:
    callUser(s.loop):
      cb(s)
  cb = nil

proc setWaterMarks*(s: Stream; highWater, lowWater: int;
                    cb: DrainCallback = nil) =
  ## Backpressure: congested from highWater queued bytes until the queue
  ## falls to lowWater, when cb runs. highWater 0 turns it off.
  discard check(raw.setWaterMarks(s.stream, csize_t(highWater),
                                  csize_t(lowWater), drainTrampoline,
                                  cast[pointer](s)), "setWaterMarks")
  s.onDrain = cb

proc isCongested*(s: Stream): bool = raw.isCongested(s.stream) != 0

proc send*(s: Stream; data: openArray[char]; timeoutMs = -1) =
  ## Sends all of data, blocking at most timeoutMs (-1: no limit).
  let p = if data.len > 0: cast[cstring](unsafeAddr data[0]) else: nil
  discard check(raw.send(s.stream, p, csize_t(data.len), cint(timeoutMs)),
                "send")

proc recv*(s: Stream; size: int; timeoutMs = -1): string =
  ## Receives up to size bytes, blocking at most timeoutMs; "" at the end
  ## of the stream.
  result = newString(size)
  let n = check(raw.recv(s.stream, cstring(result), csize_t(size),
                         cint(timeoutMs)), "recv")
  result.setLen(n)

# --------------------------------------------------------------------------
# TCP
# --------------------------------------------------------------------------

proc newTCP*(loop: Loop; family = familyNone): TCP =
  ## Creates a TCP handle, with a socket of the given family at once.
  const domains: array[Family, raw.AddressFamily] =
    [raw.FUV_AF_UNSPEC, raw.FUV_AF_INET, raw.FUV_AF_INET6]
  var p: ptr raw.TCP
  discard check(raw.init(addr p, loop.cptr, domains[family]), "newTCP")
  result = TCP()
  result.adopt(p, loop)

proc open*(t: TCP; fd: int) =
  ## Uses an existing stream socket; raises EBUSY if t has one.
  discard check(raw.open(t.tcp, cint(fd)), "open")

proc bindAddr*(t: TCP; ip: string; port: int; ipv6Only = false;
               reusePort = false) =
  ## Binds to ip and port (0 picks a free port).
  var flags = 0'u32
  if ipv6Only: flags = flags or uint32(raw.FUV_TCP_IPV6ONLY)
  if reusePort: flags = flags or uint32(raw.FUV_TCP_REUSEPORT)
  discard check(raw.bindAddr(t.tcp, cstring(ip), cint(port), cuint(flags)),
                "bindAddr")

proc getName(t: TCP; peer: bool): tuple[ip: string, port: int] =
  var ip = newString(raw.FUV_IP_NAME_MAX)
  var port: cint
  if peer:
    discard check(raw.getPeerName(t.tcp, cstring(ip), csize_t(ip.len),
                                  addr port), "getPeerName")
  else:
    discard check(raw.getSockName(t.tcp, cstring(ip), csize_t(ip.len),
                                  addr port), "getSockName")
  ip.setLen(len(cstring(ip)))
  (ip, int(port))

proc getSockName*(t: TCP): tuple[ip: string, port: int] =
  ## The address the socket is bound to.
  getName(t, peer = false)

proc getPeerName*(t: TCP): tuple[ip: string, port: int] =
  ## The address of the connected peer.
  getName(t, peer = true)

proc connectTrampoline(tcp: ptr raw.TCP; status: cint; arg: pointer) {.cdecl.} =
  let t {.cursor.} = cast[TCP](arg)
  var cb = t.onConnect
  t.onConnect = nil
  if cb != nil:
    callUser(t.loop):
      cb(t, statusError(status))
  cb = nil

proc connect*(t: TCP; ip: string; port: int; cb: ConnectCallback) =
  ## Connects to ip and port; cb gets the outcome. A refused connection
  ## leaves the handle open.
  discard check(raw.connect(t.tcp, cstring(ip), cint(port), connectTrampoline,
                            cast[pointer](t)), "connect")
  t.onConnect = cb

proc connectSync*(t: TCP; ip: string; port: int; timeoutMs = -1) =
  ## Connects, blocking at most timeoutMs (-1: no limit).
  discard check(raw.connectSync(t.tcp, cstring(ip), cint(port),
                                cint(timeoutMs)), "connectSync")

proc setNoDelay*(t: TCP; enable: bool) =
  ## TCP_NODELAY on or off.
  discard check(raw.setNoDelay(t.tcp, cint(enable)), "setNoDelay")

proc setKeepAlive*(t: TCP; enable: bool; delaySeconds = 60) =
  ## TCP keep-alive on or off, first probe after delaySeconds idle.
  discard check(raw.setKeepAlive(t.tcp, cint(enable), cuint(delaySeconds)),
                "setKeepAlive")

proc simultaneousAccepts*(t: TCP; enable: bool) =
  ## Accepted for compatibility; no effect on POSIX.
  discard check(raw.simultaneousAccepts(t.tcp, cint(enable)),
                "simultaneousAccepts")

proc closeReset*(t: TCP; cb: CloseCallback = nil) =
  ## Closes the connection with a RST instead of a FIN.
  discard check(raw.closeReset(t.tcp, closeTrampoline, cast[pointer](t)),
                "closeReset")
  t.onClose = cb
