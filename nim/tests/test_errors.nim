# Failures raise FlatuvError with the flatuv code and its libuv name, or
# reach callbacks as a FlatuvError; exceptions raised inside callbacks
# come out of run().

import std/[strutils, unittest]
import flatuv
from flatuv/raw import nil

template expectFlatuv(expectedName: string; body: untyped) =
  ## Runs body, which must raise FlatuvError named expectedName.
  var raised: ref FlatuvError = nil
  try:
    body
  except FlatuvError as e:
    raised = e
  check raised != nil
  if raised != nil:
    check raised.errorName == expectedName
    check raised.code < 0
    check errorName(raised.code) == expectedName

proc closeAll(loop: Loop; handles: varargs[Handle]) =
  for h in handles:
    h.close()
  loop.run()
  loop.close()

suite "errors":
  test "FlatuvError is an OSError with the errno, the name and a message":
    let loop = newLoop()
    let t = newTCP(loop)
    try:
      t.bindAddr("not an address", 0)
      check false # bindAddr must raise
    except OSError as e:
      check e of FlatuvError
      let fe = (ref FlatuvError)(e)
      check fe.errorName == "EINVAL"
      check fe.errorCode == int32(-fe.code)
      # The proc and the address (issue 12).
      check fe.msg == "EINVAL: invalid argument (bindAddr(\"not an address\", 0))"
    closeAll(loop, t)

  test "a refused connectSync names the proc and the address":
    let loop = newLoop()
    let listener = newTCP(loop)
    listener.bindAddr("127.0.0.1", 0)
    let port = listener.getSockName().port
    let t = newTCP(loop)
    try:
      t.connectSync("127.0.0.1", port, 2000)
      check false # connectSync must raise
    except FlatuvError as e:
      check e.errorName == "ECONNREFUSED"
      check e.msg == "ECONNREFUSED: connection refused (connectSync(\"127.0.0.1\", " &
        $port & "))"
    closeAll(loop, t, listener)

  test "connection refused reaches the connect callback; the handle stays open":
    let loop = newLoop()
    # A bound socket that does not listen: connecting to it is refused.
    let bound = newTCP(loop)
    bound.bindAddr("127.0.0.1", 0)
    discard bound.fileno() # has a socket
    let port = bound.getSockName().port
    let client = newTCP(loop)
    var connectErr: ref FlatuvError = nil
    var calls = 0
    client.connect("127.0.0.1", port, proc (t: TCP; err: ref FlatuvError) =
      inc calls
      connectErr = err)
    loop.run()
    check calls == 1
    check connectErr != nil
    if connectErr != nil:
      check connectErr.errorName == "ECONNREFUSED"
    check not client.isClosing
    closeAll(loop, bound, client)

  test "listen on a port in use raises EADDRINUSE":
    let loop = newLoop()
    let first = newTCP(loop)
    first.bindAddr("127.0.0.1", 0)
    first.listen(8, proc (s: Stream; err: ref FlatuvError) = discard)
    let second = newTCP(loop)
    second.bindAddr("127.0.0.1", first.getSockName().port)
    expectFlatuv("EADDRINUSE"):
      second.listen(8, proc (s: Stream; err: ref FlatuvError) = discard)
    closeAll(loop, first, second)

  test "accept with no connection waiting raises EAGAIN":
    let loop = newLoop()
    let server = newTCP(loop)
    server.bindAddr("127.0.0.1", 0)
    server.listen(8, proc (s: Stream; err: ref FlatuvError) = discard)
    expectFlatuv("EAGAIN"):
      discard server.accept()
    closeAll(loop, server)

  test "listen before bind raises EINVAL":
    let loop = newLoop()
    let t = newTCP(loop)
    expectFlatuv("EINVAL"):
      t.listen(8, proc (s: Stream; err: ref FlatuvError) = discard)
    closeAll(loop, t)

  test "readStart twice raises EALREADY; the first callback stays":
    let loop = newLoop()
    let server = newTCP(loop)
    server.bindAddr("127.0.0.1", 0)
    var got = ""
    server.listen(8, proc (s: Stream; err: ref FlatuvError) =
      let c = s.accept()
      c.write("x")
      c.close()
      server.close())
    let client = newTCP(loop)
    client.connectSync("127.0.0.1", server.getSockName().port, 2000)
    client.readStart(proc (s: Stream; data: openArray[char];
                           err: ref FlatuvError) =
      if err == nil: got.add toString(data)
      else: s.close())
    expectFlatuv("EALREADY"):
      client.readStart(proc (s: Stream; data: openArray[char];
                             err: ref FlatuvError) =
        got.add "wrong callback")
    loop.run()
    check got == "x"
    loop.close()

  test "an exception raised in a callback propagates from run":
    let loop = newLoop()
    let timer = newTimer(loop)
    timer.start(0, 0, proc (t: Timer) =
      raise newException(ValueError, "from the timer"))
    expect ValueError:
      loop.run()
    # The loop is still usable afterwards.
    var fired = false
    timer.start(0, 0, proc (t: Timer) = fired = true)
    loop.run()
    check fired
    closeAll(loop, timer)

  test "run inside a callback raises EBUSY out of the outer run":
    let loop = newLoop()
    let timer = newTimer(loop)
    timer.start(0, 0, proc (t: Timer) = loop.run())
    expectFlatuv("EBUSY"):
      loop.run()
    closeAll(loop, timer)

  test "closing a loop with an open handle raises EBUSY":
    let loop = newLoop()
    let timer = newTimer(loop)
    expectFlatuv("EBUSY"):
      loop.close()
    closeAll(loop, timer)

  test "a read on a reset connection fails with ECONNRESET":
    let loop = newLoop()
    let server = newTCP(loop)
    server.bindAddr("127.0.0.1", 0)
    # The server resets the connection once the client's data has arrived,
    # so the client is connected by then.
    server.listen(8, proc (s: Stream; err: ref FlatuvError) =
      let conn = s.accept()
      conn.readStart(proc (c: Stream; data: openArray[char];
                           err: ref FlatuvError) =
        TCP(c).closeReset()
        server.close()))
    let client = newTCP(loop)
    var readErr: ref FlatuvError = nil
    client.connect("127.0.0.1", server.getSockName().port,
                   proc (t: TCP; err: ref FlatuvError) =
      check err == nil
      t.write("ping")
      t.readStart(proc (s: Stream; data: openArray[char];
                        err: ref FlatuvError) =
        if err != nil:
          readErr = err
          s.close()))
    loop.run()
    check readErr != nil
    if readErr != nil:
      check readErr.errorName == "ECONNRESET"
    loop.close()

suite "version":
  test "the run-time version matches the header the raw layer came from":
    let v = version()
    check v == (raw.FUV_VERSION_MAJOR, raw.FUV_VERSION_MINOR,
                raw.FUV_VERSION_PATCH)
    check versionString() == "$1.$2.$3" % [$v.major, $v.minor, $v.patch]
