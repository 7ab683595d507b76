# Misuse of closing and closed handles, and of a closed loop, raises
# FlatuvError (EINVAL) instead of crashing: the wrapper hands the library a
# NULL handle once the close callback has run, and the library checks.

import std/unittest
import flatuv

template expectEinval(body: untyped) =
  var name = "nothing raised"
  try:
    body
  except FlatuvError as e:
    name = e.errorName
  check name == "EINVAL"

proc noConnection(s: Stream; err: ref FlatuvError) = discard
proc noRead(s: Stream; data: openArray[char]; err: ref FlatuvError) = discard
proc noConnect(t: TCP; err: ref FlatuvError) = discard
proc noTimer(t: Timer) = discard

template raisesEinval(failures: var seq[string]; call: string;
                      body: untyped) =
  var outcome = "nothing raised"
  try:
    body
  except FlatuvError as e:
    outcome = e.errorName
  if outcome != "EINVAL":
    failures.add call & ": " & outcome

proc tcpCallsNotRaisingEinval(t: TCP): seq[string] =
  ## Makes every TCP and stream call on t; returns those that did not
  ## raise EINVAL, with what they did instead.
  raisesEinval(result, "close"): t.close()
  raisesEinval(result, "bindAddr"): t.bindAddr("127.0.0.1", 0)
  raisesEinval(result, "listen"): t.listen(8, noConnection)
  raisesEinval(result, "accept"): discard t.accept()
  raisesEinval(result, "readStart"): t.readStart(noRead)
  raisesEinval(result, "readStop"): t.readStop()
  raisesEinval(result, "write"): t.write("data")
  raisesEinval(result, "tryWrite"): discard t.tryWrite("data")
  # shutdown is ENOTCONN on a closing handle, as libuv's uv_shutdown.
  block:
    var outcome = "nothing raised"
    try:
      t.shutdown()
    except FlatuvError as e:
      outcome = e.errorName
    if outcome notin ["ENOTCONN", "EINVAL"]:
      result.add "shutdown: " & outcome
  raisesEinval(result, "connect"): t.connect("127.0.0.1", 9, noConnect)
  raisesEinval(result, "setNoDelay"): t.setNoDelay(true)
  raisesEinval(result, "setKeepAlive"): t.setKeepAlive(true, 10)
  raisesEinval(result, "getSockName"): discard t.getSockName()
  raisesEinval(result, "getPeerName"): discard t.getPeerName()
  raisesEinval(result, "closeReset"): t.closeReset()
  if t.isActive: result.add "isActive: true"
  if t.isReadable: result.add "isReadable: true"
  if t.isWritable: result.add "isWritable: true"

suite "misuse":
  test "every call on a closed TCP handle raises EINVAL":
    let loop = newLoop()
    let t = newTCP(loop)
    t.bindAddr("127.0.0.1", 0)
    var closed = 0
    t.close(proc (h: Handle) = inc closed)
    loop.run()
    check closed == 1
    check t.isClosed
    check tcpCallsNotRaisingEinval(t) == newSeq[string]()
    # ref / unref are allowed on a closing handle, as in libuv, but not on
    # a closed one.
    expectEinval: t.unrefHandle()
    expectEinval: t.refHandle()
    loop.close()

  test "every call on a closing TCP handle raises EINVAL":
    let loop = newLoop()
    let t = newTCP(loop)
    t.bindAddr("127.0.0.1", 0)
    t.close()
    check t.isClosing and not t.isClosed
    check tcpCallsNotRaisingEinval(t) == newSeq[string]()
    loop.run()
    check t.isClosed
    loop.close()

  test "a closed connected stream raises instead of writing":
    let loop = newLoop()
    let server = newTCP(loop)
    server.bindAddr("127.0.0.1", 0)
    var serverSide: TCP
    server.listen(8, proc (s: Stream; err: ref FlatuvError) =
      serverSide = s.accept()
      serverSide.close()
      server.close())
    let client = newTCP(loop)
    client.connectSync("127.0.0.1", server.getSockName().port, 2000)
    loop.run()
    check serverSide != nil and serverSide.isClosed
    check tcpCallsNotRaisingEinval(serverSide) == newSeq[string]()
    client.close()
    loop.run()
    loop.close()

  test "timer and async calls after close raise EINVAL":
    let loop = newLoop()
    let timer = newTimer(loop)
    let async = newAsync(loop, proc (a: Async) = discard)
    timer.close()
    async.close()
    loop.run()
    expectEinval: timer.start(10, 0, noTimer)
    expectEinval: timer.stop()
    expectEinval: timer.again()
    expectEinval: timer.repeat = 5
    check timer.repeat == 0
    check timer.dueIn == 0
    expectEinval: async.send()
    expectEinval: async.close()
    loop.close()

  test "calling the handle's own close inside its close callback raises":
    let loop = newLoop()
    let timer = newTimer(loop)
    var inner = ""
    timer.close(proc (h: Handle) =
      try:
        h.close()
      except FlatuvError as e:
        inner = e.errorName)
    loop.run()
    check inner == "EINVAL"
    loop.close()

  test "a closed loop raises EINVAL for new handles and runs":
    let loop = newLoop()
    loop.close()
    expectEinval: discard newTCP(loop)
    expectEinval: discard newTimer(loop)
    expectEinval: loop.run()
    expectEinval: loop.close()
    check not loop.alive
