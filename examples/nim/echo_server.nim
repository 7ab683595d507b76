## A TCP echo server on flatuv, in Nim (the C one is examples/c/echo_server.c).
##
##   echo_server [--once N] [PORT] [IP]
##
## Listens on IP (default 127.0.0.1; "::1" or "::" for IPv6) and PORT
## (default 7000; 0 picks a free port, which is printed). Every byte a
## client sends is written back; when a client finishes sending, the server
## shuts down its side and closes the connection. With --once N it stops
## listening after N connections and exits once they are closed. Ctrl-C
## stops it cleanly.
##
## Build and run:  nim/build.sh -o:/tmp/echo_server examples/nim/echo_server.nim
##                 /tmp/echo_server 7000

import std/[os, strutils]
import flatuv

var stopper: Async # woken by Ctrl-C, from the signal handler

proc main() =
  var acceptLimit = 0
  var positional: seq[string]
  var i = 1
  while i <= paramCount():
    if paramStr(i) == "--once" and i < paramCount():
      acceptLimit = parseInt(paramStr(i + 1))
      i += 2
    else:
      positional.add paramStr(i)
      inc i
  let port = if positional.len > 0: parseInt(positional[0]) else: 7000
  let ip = if positional.len > 1: positional[1] else: "127.0.0.1"

  let loop = newLoop()
  let listener = newTCP(loop)
  var accepted = 0
  var connections: seq[TCP] # open ones, to close them all on Ctrl-C

  proc forget(conn: TCP) =
    let at = connections.find(conn)
    if at >= 0: connections.del(at)

  proc onRead(s: Stream; data: openArray[char]; err: ref FlatuvError) =
    if err == nil:
      s.write(data)
    elif err.errorName == "EOF":
      # Finish echoing what is queued, then close.
      s.shutdown(proc (s: Stream; err: ref FlatuvError) =
        forget(TCP(s))
        s.close())
    else:
      echo "connection error: ", err.msg
      forget(TCP(s))
      s.close()

  listener.bindAddr(ip, port)
  listener.listen(128, proc (server: Stream; err: ref FlatuvError) =
    if err != nil:
      echo "accept failed: ", err.msg
      return
    let conn = server.accept()
    connections.add conn
    inc accepted
    let peer = conn.getPeerName()
    echo "connection ", accepted, " from ", peer.ip, " port ", peer.port
    conn.setNoDelay(true)
    conn.readStart(onRead)
    if acceptLimit > 0 and accepted >= acceptLimit:
      listener.close()
      stopper.close())

  stopper = newAsync(loop, proc (a: Async) =
    echo "stopping"
    for conn in connections: conn.close()
    connections.setLen(0)
    if not listener.isClosing: listener.close()
    a.close())
  setControlCHook(proc () {.noconv.} = stopper.send())

  echo "listening ", listener.getSockName().port
  flushFile(stdout)
  loop.run()
  loop.close()

main()
