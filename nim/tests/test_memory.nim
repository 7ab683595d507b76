# Memory (issue 12): a timer created, started with a callback, stopped and
# closed with a callback a million times leaves the resident set size
# where the first 10,000 left it. The bound (10%) is generous; the run
# takes a few seconds even in debug mode.

import std/[strutils, unittest]
import flatuv

proc rssKiB(): int =
  ## The current resident set size, from /proc (not the peak).
  parseInt(readFile("/proc/self/statm").splitWhitespace()[1]) * 4

suite "memory":
  test "a million timer cycles leave the RSS of the first 10,000":
    let loop = newLoop()
    proc cycles(n: int) =
      for i in 1 .. n:
        let t = newTimer(loop)
        t.start(60000, 0, proc (t: Timer) = discard)
        t.stop()
        t.close(proc (h: Handle) = discard)
        if i mod 1000 == 0: loop.run(runNoWait)
      loop.run()
      GC_fullCollect()
    cycles(10_000)
    let first = rssKiB()
    cycles(990_000)
    let last = rssKiB()
    echo "  RSS after 10,000 cycles: ", first, " KiB; after 1,000,000: ", last, " KiB"
    check (last - first) * 10 < first
    loop.close()
