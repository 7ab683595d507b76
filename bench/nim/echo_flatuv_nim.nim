## The echo server on flatuv's Nim binding, written as a Nim user would
## write it: a closure per callback, data handed to the read callback as an
## openArray over the loop's buffer and written straight back (the library
## copies only what the kernel does not take at once).
##
##   echo_flatuv_nim PORT
##
## Listens on 127.0.0.1, sets TCP_NODELAY on each connection, prints
## "listening PORT" when ready, and exits cleanly on SIGTERM or SIGINT.

import std/[os, posix, strutils]
import flatuv

var stopper: Async

proc onStopSignal(signo: cint) {.noconv.} =
  stopper.send()

proc main() =
  let port = parseInt(paramStr(1))
  let loop = newLoop()
  let server = newTCP(loop)
  var connections: seq[TCP]

  proc forget(h: Handle) =
    # A connection that was already closing when the stop signal came is
    # no longer in the list by the time its close callback runs.
    let at = connections.find(TCP(h))
    if at >= 0: connections.del(at)

  proc onRead(s: Stream; data: openArray[char]; err: ref FlatuvError) =
    if err == nil:
      s.write(data)
    else:
      s.close(forget)

  server.bindAddr("127.0.0.1", port)
  server.listen(511, proc (listener: Stream; err: ref FlatuvError) =
    if err != nil: return
    let conn = listener.accept()
    conn.setNoDelay(true)
    conn.readStart(onRead)
    connections.add conn)

  stopper = newAsync(loop, proc (a: Async) =
    for conn in connections:
      if not conn.isClosing: conn.close()
    connections.setLen(0)
    server.close()
    a.close())
  var action: Sigaction
  action.sa_handler = onStopSignal
  discard sigemptyset(action.sa_mask)
  discard sigaction(SIGTERM, action, nil)
  discard sigaction(SIGINT, action, nil)

  echo "listening ", port
  flushFile(stdout)
  loop.run()
  loop.close()

main()
