## The Nim conformance runner: executes every case of tests/conformance/
## cases.txt through flatuv's Nim module on real loopback sockets and
## compares what it observes with the case's expect.* values.
##
##   nim/build.sh -o:runner tests/conformance/nim/runner.nim
##   ./runner CASES_FILE
##
## Prints one line per case and then "conformance-nim: N passed, M failed";
## a case of a kind (or an error op) this runner does not know fails.
## Exits non-zero when any case failed.
##
## It uses the module's idiomatic layer; the raw layer only for the one
## call that layer does not wrap (fuv_tcp_pending_bytes) and for the
## FUV_UDP_PARTIAL flag's value.

import std/[os, sequtils, strutils, tables, tempfiles]
import flatuv
from flatuv/raw import nil

const caseTimeoutMs = 20_000 ## a scenario still running then has hung

type
  CaseFailure = object of CatchableError
    ## A call that should have worked did not, or the runner lacks a step.

  Ctx = ref object
    ## One case's loop, every handle made on it (the Nim module does not
    ## close handles by itself, and has no walk), what was observed and
    ## the unexpected failures.
    loop: Loop
    params: Table[string, string]
    handles: seq[Handle]
    seen: Table[string, string]
    failures: seq[string]

proc track[T: Handle](ctx: Ctx; h: T): T =
  ctx.handles.add h
  h

proc param(ctx: Ctx; key: string): string =
  if not ctx.params.hasKey(key):
    raise newException(CaseFailure, "the case has no parameter " & key)
  ctx.params[key]

proc intParam(ctx: Ctx; key: string): int = parseInt(ctx.param(key))

proc statusName(err: ref FlatuvError): string =
  ## "OK" for success (nil), else the error's libuv name.
  if err == nil: "OK" else: err.errorName

proc pattern(offset, length: int): string =
  ## Bytes offset..offset+length of every test stream (byte i is i mod
  ## 251), so that a reordered, lost or repeated byte shows.
  result = newString(length)
  for i in 0 ..< length:
    result[i] = char((offset + i) mod 251)

proc intact(data: string; length: int): string =
  if data.len == length and data == pattern(0, length): "yes" else: "no"

proc closeAll(ctx: Ctx) =
  for h in ctx.handles:
    if not h.isClosing:
      h.close()

proc boundTcp(ctx: Ctx; host: string): (TCP, int) =
  let tcp = ctx.track newTCP(ctx.loop)
  tcp.bindAddr(host, 0)
  (tcp, tcp.getSockName().port)

proc syncPair(ctx: Ctx; host: string): (TCP, TCP) =
  ## A client and the server side of its connection, made with the
  ## synchronous calls; the listener is closed once it accepted.
  let (listener, port) = ctx.boundTcp(host)
  listener.listen(16, nil)
  let client = ctx.track newTCP(ctx.loop)
  client.connectSync(host, port, 5000)
  let server = ctx.track listener.acceptSync(5000)
  listener.close()
  (client, server)

proc runLoop(ctx: Ctx) =
  ## Runs the loop until no referenced handle is active, under a guard
  ## timer that does not itself keep the loop running.
  let guard = ctx.track newTimer(ctx.loop)
  guard.start(caseTimeoutMs, 0, proc (t: Timer) =
    ctx.failures.add "the case did not finish within " & $caseTimeoutMs & " ms"
    ctx.closeAll())
  guard.unrefHandle()
  ctx.loop.run()

proc finishLoop(ctx: Ctx) =
  ## Closes what the scenario left open (an idle server side, the guard)
  ## and frees the loop, which fails if a handle is still there.
  ctx.closeAll()
  ctx.loop.run()
  ctx.loop.close()

proc readResult(data: string; err: ref FlatuvError): string =
  ## "<data>/EOF" (or "/<error>") for a stream read to its end.
  data & "/" & err.errorName

# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

proc runEcho(ctx: Ctx) =
  let host = ctx.param("host")
  let writes = ctx.intParam("writes")
  let size = ctx.intParam("size")
  var received = ""
  ctx.seen["end"] = "none"

  let (listener, port) = ctx.boundTcp(host)
  listener.listen(16, proc (s: Stream; err: ref FlatuvError) =
    if err != nil:
      ctx.failures.add "connection: " & err.errorName
      return
    let conn = ctx.track s.accept()
    conn.readStart(proc (c: Stream; data: openArray[char];
                         err: ref FlatuvError) =
      if err == nil:
        c.write(data)
      elif err.errorName == "EOF":
        c.shutdown(proc (c: Stream; err: ref FlatuvError) = c.close())
      else:
        ctx.failures.add "server read: " & err.errorName
        c.close())
    s.close())

  let client = ctx.track newTCP(ctx.loop)
  client.connect(host, port, proc (t: TCP; err: ref FlatuvError) =
    ctx.seen["connect"] = statusName(err)
    if err != nil:
      t.close()
      return
    ctx.seen["peer"] = t.getPeerName().ip
    for i in 0 ..< writes:
      t.write(pattern(i * size, size))
    t.shutdown()
    t.readStart(proc (c: Stream; data: openArray[char];
                      err: ref FlatuvError) =
      if err == nil:
        received.add toString(data)
        return
      ctx.seen["end"] = err.errorName
      c.close()))
  ctx.runLoop()
  ctx.seen["bytes"] = $received.len
  ctx.seen["intact"] = intact(received, writes * size)

proc runHalfClose(ctx: Ctx) =
  let host = ctx.param("host")
  let request = ctx.param("request")
  let reply = ctx.param("reply")
  var clientData, serverData = ""

  let (listener, port) = ctx.boundTcp(host)
  listener.listen(16, proc (s: Stream; err: ref FlatuvError) =
    let conn = ctx.track s.accept()
    conn.readStart(proc (c: Stream; data: openArray[char];
                         err: ref FlatuvError) =
      if err == nil:
        serverData.add toString(data)
        return
      ctx.seen["server_read"] = readResult(serverData, err)
      # The peer has finished sending; this side can still write.
      c.write(reply, proc (c: Stream; err: ref FlatuvError) =
        ctx.seen["server_write"] = statusName(err))
      c.shutdown(proc (c: Stream; err: ref FlatuvError) = c.close()))
    s.close())

  let client = ctx.track newTCP(ctx.loop)
  client.connect(host, port, proc (t: TCP; err: ref FlatuvError) =
    if err != nil:
      raise newException(CaseFailure, "connect: " & err.errorName)
    t.write(request)
    t.shutdown(proc (s: Stream; err: ref FlatuvError) =
      ctx.seen["shutdown"] = statusName(err))
    t.readStart(proc (c: Stream; data: openArray[char];
                      err: ref FlatuvError) =
      if err == nil:
        clientData.add toString(data)
        return
      ctx.seen["client_read"] = readResult(clientData, err)
      c.close()))
  ctx.runLoop()

proc runRefused(ctx: Ctx) =
  let host = ctx.param("host")
  var closeCalls = 0
  # A port that is bound but not listening refuses connections, and no
  # other program can take it while this handle holds it.
  let (_, port) = ctx.boundTcp(host)
  let client = ctx.track newTCP(ctx.loop)
  client.connect(host, port, proc (t: TCP; err: ref FlatuvError) =
    ctx.seen["connect"] = statusName(err)
    ctx.seen["closing_in_cb"] = if t.isClosing: "yes" else: "no"
    t.close(proc (h: Handle) = inc closeCalls))
  ctx.runLoop()
  ctx.seen["close_cb"] = $closeCalls

proc dropConnections(ctx: Ctx): ConnectionCallback =
  ## Accepts and closes whatever connects.
  result = proc (s: Stream; err: ref FlatuvError) =
    if err == nil:
      ctx.track(s.accept()).close()

proc runCloseDuringConnect(ctx: Ctx) =
  let host = ctx.param("host")
  var events: seq[string]
  let (listener, port) = ctx.boundTcp(host)
  listener.listen(16, dropConnections(ctx))
  let client = ctx.track newTCP(ctx.loop)
  client.connect(host, port, proc (t: TCP; err: ref FlatuvError) =
    events.add "connect:" & statusName(err))
  client.close(proc (h: Handle) =
    events.add "close"
    listener.close())
  ctx.runLoop()
  ctx.seen["events"] = events.join(",")

proc runCancelWrites(ctx: Ctx) =
  let size = ctx.intParam("size")
  let queued = ctx.intParam("queued")
  var events: seq[string]
  let (client, _) = ctx.syncPair(ctx.param("host"))
  let chunk = newString(size)
  # The server side never reads: once both socket buffers are full the
  # library has to queue. The bound keeps a broken core from looping.
  var fills = 0
  while client.writeQueueSize == 0 and fills < 100_000:
    client.write(chunk)
    inc fills
  ctx.seen["filled"] = if client.writeQueueSize > 0: "yes" else: "no"
  # A proc makes each callback, so that each captures its own index (a
  # closure made in a loop body shares the loop's variables).
  proc onWrite(index: int): WriteCallback =
    result = proc (s: Stream; err: ref FlatuvError) =
      events.add "write" & $index & ":" & statusName(err)
  for i in 0 ..< queued:
    client.write(chunk, onWrite(i))
  client.close(proc (h: Handle) = events.add "close")
  ctx.runLoop()
  ctx.seen["events"] = events.join(",")

proc callError(body: proc ()): string =
  ## Runs a call and returns "OK" or the name of the FlatuvError it raised.
  try:
    body()
    "OK"
  except FlatuvError as e:
    e.errorName

proc runShutdownTwice(ctx: Ctx) =
  let (client, _) = ctx.syncPair(ctx.param("host"))
  var secondCalls = 0
  ctx.seen["first"] = callError(proc () =
    client.shutdown(proc (s: Stream; err: ref FlatuvError) =
      ctx.seen["first_cb"] = statusName(err)))
  ctx.seen["second"] = callError(proc () =
    client.shutdown(proc (s: Stream; err: ref FlatuvError) =
      inc secondCalls))
  ctx.runLoop()
  ctx.seen["second_cb_calls"] = $secondCalls

proc runTimerOrder(ctx: Ctx) =
  var order: seq[string]
  # One callback per index, made by a proc (see runCancelWrites).
  proc onTimer(index: int): TimerCallback =
    result = proc (t: Timer) =
      order.add $index
      t.close()
  for index, ms in pairs(ctx.param("timeouts").split(',')):
    ctx.track(newTimer(ctx.loop)).start(parseInt(ms), 0, onTimer(index))
  ctx.runLoop()
  ctx.seen["order"] = order.join(",")

proc runReadStop(ctx: Ctx) =
  let size = ctx.intParam("size")
  let pauseMs = ctx.intParam("pause_ms")
  let (client, server) = ctx.syncPair(ctx.param("host"))
  var received = ""
  var stopped, paused, pending = false
  var callsWhileStopped = 0
  ctx.seen["end"] = "none"

  var onRead: ReadCallback
  # The pause is the one place a timer stands in for an event: it checks
  # that no event happens while reading is stopped.
  let onPause = proc (t: Timer) =
    pending = raw.pendingBytes(client.cTCP) > 0
    stopped = false
    client.readStart(onRead)
    t.close()
  onRead = proc (c: Stream; data: openArray[char]; err: ref FlatuvError) =
    if stopped:
      inc callsWhileStopped
    if err != nil:
      ctx.seen["end"] = err.errorName
      c.close()
      return
    received.add toString(data)
    if not paused:
      c.readStop()
      stopped = true
      paused = true
      ctx.track(newTimer(ctx.loop)).start(pauseMs, 0, onPause)

  server.write(pattern(0, size))
  server.shutdown()
  client.readStart(onRead)
  ctx.runLoop()
  ctx.seen["calls_while_stopped"] = $callsWhileStopped
  ctx.seen["pending_while_stopped"] = if pending: "yes" else: "no"
  ctx.seen["bytes"] = $received.len
  ctx.seen["intact"] = intact(received, size)

var abstractNames = 0

proc pipeName(kind, tmpDir: string): string =
  ## A path in tmpDir, or a Linux abstract name (first byte NUL) unique to
  ## this process and call.
  if kind == "abstract":
    inc abstractNames
    return "\0flatuv-conformance-" & $getCurrentProcessId() & "-" & $abstractNames
  tmpDir / "pipe"

proc echoBack(ctx: Ctx): ReadCallback =
  ## The echoing side of pipe_echo and fd_passing: writes back what it
  ## reads, shuts down at EOF.
  result = proc (c: Stream; data: openArray[char]; err: ref FlatuvError) =
    if err == nil:
      c.write(data)
    elif err.errorName == "EOF":
      c.shutdown(proc (c: Stream; err: ref FlatuvError) = c.close())
    else:
      ctx.failures.add "echo read: " & err.errorName
      c.close()

proc runPipeEcho(ctx: Ctx) =
  let writes = ctx.intParam("writes")
  let size = ctx.intParam("size")
  var received = ""
  ctx.seen["end"] = "none"
  let tmpDir = createTempDir("flatuv-conformance-", "")
  defer: removeDir(tmpDir)
  let name = pipeName(ctx.param("name"), tmpDir)

  let listener = ctx.track newPipe(ctx.loop)
  `bind`(listener, name)
  listener.listen(16, proc (s: Stream; err: ref FlatuvError) =
    if err != nil:
      ctx.failures.add "connection: " & err.errorName
      return
    let conn = ctx.track newPipe(ctx.loop)
    s.acceptInto(conn)
    conn.readStart(echoBack(ctx))
    s.close())
  ctx.seen["sockname"] = if listener.getsockname() == name: "match" else: "mismatch"

  let client = ctx.track newPipe(ctx.loop)
  client.connect(name, proc (p: Pipe; err: ref FlatuvError) =
    ctx.seen["connect"] = statusName(err)
    if err != nil:
      p.close()
      return
    for i in 0 ..< writes:
      p.write(pattern(i * size, size))
    p.shutdown()
    p.readStart(proc (c: Stream; data: openArray[char];
                      err: ref FlatuvError) =
      if err == nil:
        received.add toString(data)
        return
      ctx.seen["end"] = err.errorName
      c.close()))
  ctx.runLoop()
  ctx.seen["bytes"] = $received.len
  ctx.seen["intact"] = intact(received, writes * size)

proc runFdPassing(ctx: Ctx) =
  let host = ctx.param("host")
  let size = ctx.intParam("size")
  let half = size div 2
  var received = ""
  let (fd0, fd1) = socketpair()
  let sender = ctx.track newPipe(ctx.loop, ipc = true)
  let receiver = ctx.track newPipe(ctx.loop, ipc = true)
  sender.open(fd0)
  receiver.open(fd1)

  receiver.readStart(proc (c: Stream; data: openArray[char];
                           err: ref FlatuvError) =
    if err != nil:
      raise newException(CaseFailure, "receiver read: " & err.errorName)
    ctx.seen["pending_count"] = $receiver.pendingCount()
    ctx.seen["pending_type"] = handleTypeName(receiver.pendingType())
    let echo = ctx.track newTCP(ctx.loop)
    c.acceptInto(echo)
    echo.readStart(echoBack(ctx))
    c.close())

  let (listener, port) = ctx.boundTcp(host)
  listener.listen(16, proc (s: Stream; err: ref FlatuvError) =
    if err != nil:
      raise newException(CaseFailure, "connection: " & err.errorName)
    let conn = ctx.track s.accept()
    sender.write2("h", conn, proc (c: Stream; err: ref FlatuvError) = c.close())
    conn.close()
    s.close())

  let client = ctx.track newTCP(ctx.loop)
  client.connect(host, port, proc (t: TCP; err: ref FlatuvError) =
    if err != nil:
      raise newException(CaseFailure, "connect: " & err.errorName)
    # The first half is sent before the hand-off: it waits in the socket.
    t.write(pattern(0, half))
    t.readStart(proc (c: Stream; data: openArray[char];
                      err: ref FlatuvError) =
      if err != nil:
        if err.errorName != "EOF":
          raise newException(CaseFailure, "client read: " & err.errorName)
        c.close()
        return
      received.add toString(data)
      if received.len == half:
        # The first half came back through the passed handle.
        c.write(pattern(half, size - half))
        c.shutdown()))
  ctx.runLoop()
  ctx.seen["bytes"] = $received.len
  ctx.seen["intact"] = intact(received, size)

proc runLoopPhases(ctx: Ctx) =
  var order: seq[string]
  ctx.track(newTimer(ctx.loop)).start(0, 0, proc (t: Timer) =
    order.add "timer"
    t.close())
  let idle = ctx.track newIdle(ctx.loop)
  let prepare = ctx.track newPrepare(ctx.loop)
  let check = ctx.track newCheck(ctx.loop)
  idle.start(proc (h: Idle) = order.add "idle")
  prepare.start(proc (h: Prepare) = order.add "prepare")
  check.start(proc (h: Check) =
    order.add "check"
    if order.count("check") == 2:
      idle.close()
      prepare.close()
      check.close())
  ctx.runLoop()
  ctx.seen["order"] = order.join(",")

proc runCancelWrite(ctx: Ctx) =
  let size = ctx.intParam("size")
  var events: seq[string]
  var received = ""
  let (client, server) = ctx.syncPair(ctx.param("host"))
  # The peer does not read yet: once both socket buffers are full the
  # library has to queue. The bound keeps a broken core from looping.
  var sent = 0
  while client.writeQueueSize == 0 and sent < 100_000 * size:
    client.write(pattern(sent, size))
    sent += size
  # One callback per name, made by a proc (see runCancelWrites).
  proc onWrite(name: string): WriteCallback =
    result = proc (s: Stream; err: ref FlatuvError) =
      events.add name & ":" & statusName(err)
  # A and C continue the stream; B's bytes (255) would break it.
  client.write(pattern(sent, size), onWrite("A"))
  let b = client.write(repeat('\255', size), onWrite("B"))
  client.write(pattern(sent + size, size), onWrite("C"))
  sent += 2 * size
  ctx.seen["cancel"] = callError(proc () = b.cancel())
  client.shutdown(proc (s: Stream; err: ref FlatuvError) = s.close())
  server.readStart(proc (c: Stream; data: openArray[char];
                         err: ref FlatuvError) =
    if err == nil:
      received.add toString(data)
      return
    if err.errorName != "EOF":
      ctx.failures.add "peer read: " & err.errorName
    c.close())
  ctx.runLoop()
  ctx.seen["events"] = events.join(",")
  ctx.seen["intact"] = intact(received, sent)

proc runCancelConnect(ctx: Ctx) =
  let host = ctx.param("host")
  let (listener, port) = ctx.boundTcp(host)
  listener.listen(16, dropConnections(ctx))
  let client = ctx.track newTCP(ctx.loop)
  let request = client.connect(host, port, proc (t: TCP; err: ref FlatuvError) =
    ctx.seen["connect"] = statusName(err)
    t.connect(host, port, proc (t: TCP; err: ref FlatuvError) =
      ctx.seen["reconnect"] = statusName(err)
      t.close()
      listener.close()))
  ctx.seen["cancel"] = callError(proc () = request.cancel())
  ctx.runLoop()

proc boundUdp(ctx: Ctx; host: string): (UDP, int) =
  let udp = ctx.track newUDP(ctx.loop)
  udp.bindAddr(host, 0)
  (udp, udp.getSockName().port)

proc runUdpEcho(ctx: Ctx) =
  let host = ctx.param("host")
  let sizes = ctx.param("sizes").split(',').mapIt(parseInt(it))
  var echoes: seq[string]
  ctx.seen["sender"] = "none"
  let (server, port) = ctx.boundUdp(host)
  let (client, _) = ctx.boundUdp(host)
  server.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                         flags: int; data: openArray[char];
                         err: ref FlatuvError) =
    if err != nil:
      ctx.failures.add "server recv: " & err.errorName
    else:
      u.send(data, address.ip, address.port))
  client.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                         flags: int; data: openArray[char];
                         err: ref FlatuvError) =
    if err != nil:
      ctx.failures.add "client recv: " & err.errorName
      return
    ctx.seen["sender"] = address.ip
    echoes.add toString(data)
    if echoes.len == sizes.len:
      u.close()
      server.close())
  for size in sizes:
    client.send(pattern(0, size), host, port)
  ctx.runLoop()
  ctx.seen["datagrams"] = $echoes.len
  ctx.seen["bytes"] = $echoes.foldl(a + b.len, 0)
  ctx.seen["intact"] =
    if echoes == sizes.mapIt(pattern(0, it)): "yes" else: "no"

type UdpGot = object
  ## What one receive callback got.
  sender: string
  flags: int
  data: string
  err: ref FlatuvError

proc udpOne(ctx: Ctx): seq[UdpGot] =
  ## Sends one datagram of `size` bytes to a server whose largest datagram
  ## is `max` (when given); returns what the server's callback got.
  let host = ctx.param("host")
  var got: seq[UdpGot]
  let (server, port) = ctx.boundUdp(host)
  let (client, _) = ctx.boundUdp(host)
  if ctx.params.hasKey("max"):
    server.maxDatagram = ctx.intParam("max")
  server.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                         flags: int; data: openArray[char];
                         err: ref FlatuvError) =
    got.add UdpGot(sender: address.ip, flags: flags, data: toString(data),
                   err: err)
    u.close()
    client.close())
  client.send(pattern(0, ctx.intParam("size")), host, port)
  ctx.runLoop()
  got

proc runUdpTruncate(ctx: Ctx) =
  for g in ctx.udpOne():
    ctx.seen["nread"] = if g.err != nil: g.err.errorName else: $g.data.len
    ctx.seen["partial"] =
      if (g.flags and int(raw.FUV_UDP_PARTIAL)) != 0: "yes" else: "no"
    ctx.seen["intact"] = intact(g.data, g.data.len)

proc runUdpEmpty(ctx: Ctx) =
  let got = ctx.udpOne()
  ctx.seen["calls"] = $got.len
  for g in got:
    ctx.seen["nread"] = if g.err != nil: g.err.errorName else: $g.data.len
    ctx.seen["sender"] = g.sender

proc runUdpConnected(ctx: Ctx) =
  let host = ctx.param("host")
  ctx.seen["refused"] = "none"
  let (_, port) = ctx.boundUdp(host)
  # A port that was just free: nothing listens there once it is closed.
  let (closed, closedPort) = ctx.boundUdp(host)
  closed.close()
  let client = ctx.track newUDP(ctx.loop)
  client.connect(host, port)
  ctx.seen["other_dest"] = callError(proc () = client.send("x", host, closedPort))
  client.connect()
  client.connect(host, closedPort)
  client.recvStart(proc (u: UDP; address: tuple[ip: string, port: int];
                         flags: int; data: openArray[char];
                         err: ref FlatuvError) =
    ctx.seen["refused"] = statusName(err)
    u.close())
  client.send("x")
  ctx.runLoop()

proc ignoreRead(c: Stream; data: openArray[char]; err: ref FlatuvError) =
  discard

proc errorOp(ctx: Ctx; op, tmpDir: string): proc () =
  ## Prepares one error op and returns the failing call. Every handle made
  ## here is closed by finishLoop; tmpDir is a temporary directory for pipe
  ## names.
  let loop = ctx.loop
  case op
  of "bind_bad_ip":
    let tcp = ctx.track newTCP(loop)
    result = proc () = tcp.bindAddr("300.1.2.3", 0)
  of "bind_ipv6only_ipv4":
    let tcp = ctx.track newTCP(loop)
    result = proc () = tcp.bindAddr("127.0.0.1", 0, ipv6Only = true)
  of "listen_taken_port":
    let (first, port) = ctx.boundTcp("127.0.0.1")
    first.listen(16, nil)
    let second = ctx.track newTCP(loop)
    second.bindAddr("127.0.0.1", port)
    result = proc () = second.listen(16, nil)
  of "accept_nothing_pending":
    let (server, _) = ctx.boundTcp("127.0.0.1")
    server.listen(16, nil)
    result = proc () = discard ctx.track(server.accept())
  of "read_start_unconnected":
    let tcp = ctx.track newTCP(loop, familyInet)
    result = proc () = tcp.readStart(ignoreRead)
  of "read_start_twice":
    let (client, _) = ctx.syncPair("127.0.0.1")
    client.readStart(ignoreRead)
    result = proc () = client.readStart(ignoreRead)
  of "connect_port_zero":
    let tcp = ctx.track newTCP(loop)
    result = proc () =
      tcp.connect("127.0.0.1", 0, proc (t: TCP; err: ref FlatuvError) = discard)
  of "connect_twice":
    let (listener, port) = ctx.boundTcp("127.0.0.1")
    listener.listen(16, dropConnections(ctx))
    let client = ctx.track newTCP(loop)
    let ignoreConnect = proc (t: TCP; err: ref FlatuvError) = discard
    client.connect("127.0.0.1", port, ignoreConnect)
    result = proc () = client.connect("127.0.0.1", port, ignoreConnect)
  of "write_after_shutdown":
    let (client, _) = ctx.syncPair("127.0.0.1")
    client.shutdown()
    result = proc () = client.write("x")
  of "recv_timeout":
    let (client, _) = ctx.syncPair("127.0.0.1")
    result = proc () = discard client.recv(16, 10)
  of "close_twice":
    let timer = ctx.track newTimer(loop)
    timer.close()
    result = proc () = timer.close()
  of "timer_again_unstarted":
    let timer = ctx.track newTimer(loop)
    result = proc () = timer.again()
  of "loop_close_busy":
    let timer = ctx.track newTimer(loop)
    timer.start(1000, 0, proc (t: Timer) = discard)
    result = proc () = loop.close()
  of "accept_into_busy":
    # A connection waits (the loop accepted it for the callback); the
    # handle to accept it into is bound. The error the callback raises
    # stops the loop and comes out of run.
    let (server, port) = ctx.boundTcp("127.0.0.1")
    let (bound, _) = ctx.boundTcp("127.0.0.1")
    server.listen(16, proc (s: Stream; err: ref FlatuvError) =
      try:
        s.acceptInto(bound)
      finally:
        s.close())
    ctx.track(newTCP(loop)).connect("127.0.0.1", port)
    result = proc () = ctx.runLoop()
  of "cancel_completed":
    let (client, _) = ctx.syncPair("127.0.0.1")
    let request = client.write("x", proc (s: Stream; err: ref FlatuvError) = discard)
    loop.run() # until the write's callback ran
    result = proc () = request.cancel()
  of "pipe_bind_in_use":
    let name = pipeName("path", tmpDir)
    `bind`(ctx.track(newPipe(loop)), name)
    let second = ctx.track newPipe(loop)
    result = proc () = `bind`(second, name)
  of "udp_bind_bad_ip":
    let udp = ctx.track newUDP(loop)
    result = proc () = udp.bindAddr("300.1.2.3", 0)
  of "udp_bind_port_range":
    let udp = ctx.track newUDP(loop)
    result = proc () = udp.bindAddr("127.0.0.1", 65536)
  of "udp_send_closed":
    let (udp, port) = ctx.boundUdp("127.0.0.1")
    udp.close()
    result = proc () = udp.send("x", "127.0.0.1", port)
  of "udp_membership_no_socket":
    let udp = ctx.track newUDP(loop)
    result = proc () = udp.setMembership("239.255.0.1", "", joinGroup)
  of "udp_recv_timeout":
    let (udp, _) = ctx.boundUdp("127.0.0.1")
    result = proc () = discard udp.recvSync(16, 10)
  of "shutdown_after_close_reset":
    let (client, _) = ctx.syncPair("127.0.0.1")
    client.closeReset()
    result = proc () = client.shutdown()
  else:
    raise newException(CaseFailure,
                       "error op '" & op & "' is not implemented by this runner")

proc runError(ctx: Ctx) =
  let tmpDir = createTempDir("flatuv-conformance-", "")
  defer: removeDir(tmpDir)
  ctx.seen["error"] = callError(ctx.errorOp(ctx.param("op"), tmpDir))

type Scenario = proc (ctx: Ctx) {.nimcall.}

let scenarios = {
  "echo": Scenario(runEcho),
  "half_close": runHalfClose,
  "refused": runRefused,
  "close_during_connect": runCloseDuringConnect,
  "cancel_writes": runCancelWrites,
  "shutdown_twice": runShutdownTwice,
  "timer_order": runTimerOrder,
  "read_stop": runReadStop,
  "pipe_echo": runPipeEcho,
  "fd_passing": runFdPassing,
  "loop_phases": runLoopPhases,
  "cancel_write": runCancelWrite,
  "cancel_connect": runCancelConnect,
  "udp_echo": runUdpEcho,
  "udp_truncate": runUdpTruncate,
  "udp_empty": runUdpEmpty,
  "udp_connected": runUdpConnected,
  "error": runError,
}.toTable

# --------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------

type Case = object
  id, kind: string
  fields: seq[(string, string)] # in file order

proc parseCases(path: string): seq[Case] =
  for line in lines(path):
    let tokens = line.splitWhitespace()
    if tokens.len < 2 or tokens[0].startsWith("#"):
      continue
    var c = Case(id: tokens[0], kind: tokens[1])
    for token in tokens[2 .. ^1]:
      let eq = token.find('=')
      if eq > 0:
        c.fields.add((token[0 ..< eq], token[eq + 1 .. ^1]))
    result.add c

proc runCase(c: Case): string =
  ## Runs one case; returns "" if it passed, else why it failed.
  if not scenarios.hasKey(c.kind):
    return "kind '" & c.kind & "' is not implemented by this runner"
  let ctx = Ctx(loop: newLoop())
  for (key, value) in c.fields:
    ctx.params[key] = value
  try:
    scenarios[c.kind](ctx)
  except CatchableError as e:
    ctx.failures.add $e.name & ": " & e.msg
  try:
    ctx.finishLoop()
  except CatchableError as e:
    ctx.failures.add "cleanup: " & $e.name & ": " & e.msg
  if ctx.failures.len > 0:
    return ctx.failures[0]
  for (key, expected) in c.fields:
    if key.startsWith("expect."):
      let name = key["expect.".len .. ^1]
      if not ctx.seen.hasKey(name):
        return key & ": expected " & expected & ", observed nothing"
      if ctx.seen[name] != expected:
        return key & ": expected " & expected & ", observed " & ctx.seen[name]
  ""

proc main() =
  if paramCount() != 1:
    stderr.writeLine "usage: runner CASES_FILE"
    quit 2
  var passed, failed = 0
  for c in parseCases(paramStr(1)):
    let why = runCase(c)
    if why.len == 0:
      inc passed
      echo "PASS ", c.id
    else:
      inc failed
      echo "FAIL ", c.id, ": ", why
    flushFile(stdout)
  echo "conformance-nim: ", passed, " passed, ", failed, " failed"
  quit(if failed == 0 and passed > 0: 0 else: 1)

main()
