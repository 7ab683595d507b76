# Timers and async handles through the idiomatic layer: order, repeat,
# again, unref, and a callback that closes its own handle.

import std/unittest
import flatuv

suite "timers":
  test "timers fire in order of due time, then of start":
    let loop = newLoop()
    var order: seq[string]
    proc recorder(name: string): TimerCallback =
      result = proc (t: Timer) =
        order.add name
        t.close()
    let late = newTimer(loop)
    let early = newTimer(loop)
    let sameA = newTimer(loop)
    let sameB = newTimer(loop)
    late.start(30, 0, recorder("late"))
    sameA.start(10, 0, recorder("sameA"))
    early.start(0, 0, recorder("early"))
    sameB.start(10, 0, recorder("sameB"))
    loop.run()
    check order == @["early", "sameA", "sameB", "late"]
    loop.close()

  test "a repeating timer fires until stopped; again restarts it":
    let loop = newLoop()
    let t = newTimer(loop)
    var fired = 0
    t.start(1, 1, proc (t: Timer) =
      inc fired
      if fired == 3: t.stop())
    check t.repeat == 1
    loop.run()
    check fired == 3
    check not t.isActive
    t.again() # the callback stays registered
    loop.run(runOnce)
    t.close()
    loop.run()
    check fired >= 4
    loop.close()

  test "negative times raise EINVAL":
    let loop = newLoop()
    let t = newTimer(loop)
    expect FlatuvError:
      t.start(-1, 0, proc (t: Timer) = discard)
    expect FlatuvError:
      t.repeat = -5
    t.close()
    loop.run()
    loop.close()

  test "an unreferenced timer does not keep run going":
    let loop = newLoop()
    let t = newTimer(loop)
    var fired = false
    t.start(60_000, 0, proc (t: Timer) = fired = true)
    t.unrefHandle()
    check not t.hasRef
    check not loop.run()
    check not fired
    t.close()
    loop.run()
    loop.close()

  test "async: several sends before the loop runs give one call":
    let loop = newLoop()
    var calls = 0
    let a = newAsync(loop, proc (a: Async) =
      inc calls
      a.close())
    a.send()
    a.send()
    a.send()
    loop.run()
    check calls == 1
    loop.close()
