## A TCP echo client on flatuv, in Nim (the C one is examples/c/echo_client.c).
##
##   echo_client [--count K] [--size BYTES] [PORT] [IP]
##
## Connects to IP (default 127.0.0.1) and PORT (default 7000), sends K
## messages (default 5) one at a time, each waiting for its whole echo and
## checking it byte for byte; messages are text padded to at least BYTES
## bytes. Then it shuts down its side, waits for the server to close, and
## exits 0 if every echo matched, 1 otherwise. It gives up after 10 s of
## silence.
##
## Build and run:  nim/build.sh -o:/tmp/echo_client examples/nim/echo_client.nim
##                 /tmp/echo_client 7000

import std/[os, strutils]
import flatuv

const idleTimeoutMs = 10_000

proc message(n, size: int): string =
  result = "message " & $n
  while result.len < size:
    result.add char(ord('a') + result.len mod 26)

proc main(): int =
  var count = 5
  var size = 0
  var positional: seq[string]
  var i = 1
  while i <= paramCount():
    case paramStr(i)
    of "--count":
      count = parseInt(paramStr(i + 1)); i += 2
    of "--size":
      size = parseInt(paramStr(i + 1)); i += 2
    else:
      positional.add paramStr(i); inc i
  let port = if positional.len > 0: parseInt(positional[0]) else: 7000
  let ip = if positional.len > 1: positional[1] else: "127.0.0.1"

  let loop = newLoop()
  let tcp = newTCP(loop)
  let idle = newTimer(loop)
  var current = 0
  var expected = message(0, size)
  var received = ""
  var failed = false

  proc finish(why: string) =
    if why.len > 0:
      echo why
      failed = true
    if not idle.isClosing: idle.close()
    if not tcp.isClosing: tcp.close()

  proc onIdle(t: Timer) = finish("no answer for " & $idleTimeoutMs & " ms")

  proc onRead(s: Stream; data: openArray[char]; err: ref FlatuvError) =
    if err != nil:
      # The server closes after our shutdown: EOF is the normal end.
      finish(if err.errorName == "EOF" and current == count: ""
             else: "read: " & err.msg)
      return
    idle.again()
    received.add toString(data)
    if received.len < expected.len:
      return
    if received != expected:
      finish("echo " & $current & " differs")
      return
    echo "echo ", current, ": ", received.len, " bytes ok"
    inc current
    received.setLen(0)
    if current == count:
      s.shutdown()
    else:
      expected = message(current, size)
      s.write(expected)

  tcp.connect(ip, port, proc (t: TCP; err: ref FlatuvError) =
    if err != nil:
      finish("connect: " & err.msg)
      return
    t.setNoDelay(true)
    t.readStart(onRead)
    t.write(expected))
  idle.start(idleTimeoutMs, idleTimeoutMs, onIdle)

  loop.run()
  loop.close()
  if failed: 1 else: 0

quit(main())
