# Closure lifetime: a callback is kept alive while it is registered, the
# old one is released when it is replaced, and all are released when the
# handle closes. Run under both refc and orc by run_tests.sh. Memory is
# the Nim heap after a full collection (getOccupiedMem): each test makes
# closures that would hold far more than its threshold if they leaked.

import std/unittest
import flatuv

const
  replacements = 100_000
  flatLimit = 4 shl 20 # bytes of growth allowed where a leak gives >= 100 MiB

proc occupied(): int =
  GC_fullCollect()
  getOccupiedMem()

proc tagged(n: int; size: int): string =
  ## size bytes that say which n they were made for.
  result = newString(size)
  for i in 0 ..< size:
    result[i] = char((n + i) and 0xff)

proc isTagged(s: string; n: int; size: int): bool =
  s.len == size and s[0] == char(n and 0xff) and
    s[size - 1] == char((n + size - 1) and 0xff)

# Closures are made by these procs, one call each, so that every closure
# has its own environment: closures made in a loop body share the body's.

proc timerCallbackHolding(n, size: int): TimerCallback =
  let payload = tagged(n, size)
  result = proc (t: Timer) = doAssert payload.isTagged(n, size)

proc readCallbackHolding(n: int; got: ref string): ReadCallback =
  let payload = tagged(n, 1024)
  result = proc (s: Stream; data: openArray[char]; err: ref FlatuvError) =
    if err == nil and payload.isTagged(n, 1024):
      got[].add toString(data)
      s.readStop()

proc connectedPair(loop: Loop): (TCP, TCP) =
  ## A client and its accepted server side, over loopback.
  let server = newTCP(loop)
  server.bindAddr("127.0.0.1", 0)
  server.listen(1, nil)
  let client = newTCP(loop)
  client.connectSync("127.0.0.1", server.getSockName().port, 5000)
  let accepted = server.acceptSync(5000)
  server.close()
  (client, accepted)

suite "lifetime":
  test "an open handle without references stays alive; callbacks get the same object":
    let loop = newLoop()
    var created: pointer = nil
    var seen: pointer = nil
    proc startUnreferencedTimer() =
      let t = newTimer(loop)
      created = cast[pointer](t)
      t.start(1, 0, proc (timer: Timer) =
        seen = cast[pointer](timer)
        timer.close())
    startUnreferencedTimer()
    GC_fullCollect()
    loop.run()
    check seen != nil
    check seen == created
    loop.close()

  test "replacing a timer callback 100,000 times keeps memory flat":
    let loop = newLoop()
    let timer = newTimer(loop)
    let before = occupied()
    for n in 0 ..< replacements:
      timer.start(1000, 0, timerCallbackHolding(n, 1024))
    let growth = occupied() - before
    check growth < flatLimit
    timer.close()
    loop.run()
    loop.close()

  test "a callback that replaces itself 100,000 times keeps memory flat":
    let loop = newLoop()
    let timer = newTimer(loop)
    var fired = 0
    var intact = true
    proc callbackFor(n: int): TimerCallback =
      let payload = tagged(n, 1024)
      result = proc (t: Timer) =
        # The running closure was just replaced: it must still be whole.
        if n + 1 < replacements:
          t.start(0, 0, callbackFor(n + 1))
        if not payload.isTagged(n, 1024): intact = false
        inc fired
    let before = occupied()
    timer.start(0, 0, callbackFor(0))
    loop.run()
    let growth = occupied() - before
    check fired == replacements
    check intact
    check growth < flatLimit
    timer.close()
    loop.run()
    loop.close()

  test "readStart / readStop with a new closure 100,000 times keeps memory flat":
    let loop = newLoop()
    let (client, server) = connectedPair(loop)
    let got = new string
    let before = occupied()
    for n in 0 ..< replacements:
      client.readStart(readCallbackHolding(n, got))
      client.readStop()
    let growth = occupied() - before
    check growth < flatLimit
    # The last registered closure is the one that runs.
    client.readStart(readCallbackHolding(replacements, got))
    server.write("hello")
    while got[].len < 5:
      loop.run(runOnce)
    check got[] == "hello"
    client.close()
    server.close()
    loop.run()
    loop.close()

  test "closures are kept while registered and released on close":
    let loop = newLoop()
    const timers = 200
    const size = 256 * 1024
    let before = occupied()
    var handles: seq[Timer]
    for n in 0 ..< timers:
      let t = newTimer(loop)
      t.start(60_000, 0, timerCallbackHolding(n, size))
      handles.add t
    let held = occupied() - before
    check held >= timers * size # registered: nothing was freed
    var closed = 0
    let countClose = proc (h: Handle) = inc closed
    for t in handles:
      t.close(countClose)
    handles = @[]
    loop.run()
    check closed == timers
    let left = occupied() - before
    check left < flatLimit
    loop.close()

  test "write callbacks run once each and are released, also when cancelled":
    let loop = newLoop()
    let (client, server) = connectedPair(loop)
    const writes = 4000
    const chunk = 16 * 1024
    var done, cancelled = 0
    let before = occupied()
    # The server does not read, so the kernel's buffers fill and most of
    # the writes are still queued when the client closes.
    proc onWrite(n: int): WriteCallback =
      let payload = tagged(n, chunk)
      result = proc (s: Stream; err: ref FlatuvError) =
        doAssert payload.isTagged(n, chunk)
        if err == nil: inc done
        else:
          doAssert err.errorName == "ECANCELED"
          inc cancelled
    for n in 0 ..< writes:
      client.write(tagged(n, chunk), onWrite(n))
    loop.run(runNoWait)
    check client.writeQueueSize > 0
    client.close()
    server.close()
    loop.run()
    check done + cancelled == writes
    check cancelled > 0
    let growth = occupied() - before
    check growth < flatLimit
    loop.close()
