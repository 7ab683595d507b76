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
## Both layers are generated from the SWIG interface by bindings/apigen:
## `flatuv/raw` has every C function under its Nim name; `flatuv/api`,
## included here, the procs on the Nim objects, converted by role. This
## file holds what Nim does by hand: the error type, and the overrides at
## its end. For a C call this module does not make, pass `flatuv/raw` the
## C object of a handle (`cTCP`, `cStream`, `cTimer`, `cAsync`, `cHandle`,
## `cLoop`), e.g. `raw.setTtl(tcp.cTCP, 64)` after
## `from flatuv/raw import nil`.
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
import std/options
export options # loop.mode() is an Option[RunMode]

type
  FlatuvError* = object of OSError
    ## A failure reported by the flatuv library.
    code*: int         ## The negative flatuv error code (FUV_ECONNREFUSED ...).
    errorName*: string ## The code's libuv name ("ECONNREFUSED", "EOF" ...).
                       ## (`name`, inherited, is the exception type's.)

proc newFlatuvError*(code: int; context = ""): ref FlatuvError =
  ## An exception for a negative flatuv code; context names the call.
  result = newException(FlatuvError, "")
  result.code = code
  result.errorName = $raw.errName(cint(code))
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

include flatuv/api

proc isClosed*(h: Handle): bool =
  ## True once the close callback has run.
  h.cptr == nil

# --------------------------------------------------------------------------
# Overrides: the functions Nim wraps by hand (swig/api.i names each with
# fuv:nim:override, so flatuv/api leaves them out), each with its reason.
# --------------------------------------------------------------------------

# fuv_version: Nim gives the packed version as a (major, minor, patch) tuple.
proc version*(): tuple[major, minor, patch: int] =
  ## The version of the flatuv C library the program runs with.
  let v = int(raw.version())
  (v shr 16 and 0xff, v shr 8 and 0xff, v and 0xff)

# fuv_err_name: Nim's name and parameter (errorName(code)), as FlatuvError's field.
proc errorName*(code: int): string =
  ## The libuv name of a flatuv error code: "ECONNREFUSED", "EOF" ...
  $raw.errName(cint(code))

# fuv_run: re-raises what a callback raised; whether handles remain is discardable.
proc run*(loop: Loop; mode = runDefault): bool {.discardable.} =
  ## Runs the loop; returns true if active handles remain (after `stop`, or
  ## in runOnce / runNoWait modes). Raises what a callback raised.
  let rc = raw.run(loop.cptr, runModeValues[mode])
  if loop.pendingError != nil:
    let e = loop.pendingError
    loop.pendingError = nil
    raise e
  check(rc, "run") > 0

# fuv_is_closing: a closed handle, whose C handle is gone, still counts as closing.
proc isClosing*(h: Handle): bool =
  ## True once `close` has been called (and after it finished).
  h.cptr == nil or raw.isClosing(h.cptr) != 0

# fuv_handle_loop: the Nim handle keeps its Loop object; C knows only its pointer.
proc loop*(h: Handle): Loop =
  ## The handle's loop.
  h.loop

# fuv_tcp_new, fuv_tcp_new_ex: one constructor, the family an enum of Nim's.
proc newTCP*(loop: Loop; family = familyNone): TCP =
  ## Creates a TCP handle, with a socket of the given family at once.
  var p: ptr raw.TCP
  discard check(raw.init(addr p, loop.cptr, familyValues[family]), "newTCP")
  result = TCP()
  result.adopt(p, loop)

# fuv_tcp_bind: Nim takes the FUV_TCP_* flags as two bools.
proc bindAddr*(t: TCP; ip: string; port: int; ipv6Only = false;
               reusePort = false) =
  ## Binds to ip and port (0 picks a free port).
  var flags = 0'u32
  if ipv6Only: flags = flags or uint32(raw.FUV_TCP_IPV6ONLY)
  if reusePort: flags = flags or uint32(raw.FUV_TCP_REUSEPORT)
  discard check(raw.bindAddr(t.cTCP, cstring(ip), cint(port), cuint(flags)),
                "bindAddr")
