"""Memory of the commonest client shape: connect, write, drop the object.

Issue 17's benchmark: CYCLES clients (default one million) each created in
a function that connects to a loopback server, writes a message with a
callback and returns without keeping any reference. The pending requests
hold the handle until their callbacks have run, then the idle handle is
collected and closed. The server side, in the same loop, reads each
message and closes on EOF, then starts the next client, so CONCURRENCY
clients are in flight at any time.

RSS is read after the warm-up (10% of the cycles) and at the end; the run
prints both and the growth, and exits 1 if it is 10% or more.

    python bench/python/memory.py [CYCLES] [CONCURRENCY]
"""

import gc
import resource
import sys
import time

import flatuv

MESSAGE = b"hello"


def rss_kib():
    """The current resident set size in KiB (from /proc, not the peak)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() // 1024


class Bench:
    def __init__(self, cycles, concurrency):
        self.loop = flatuv.Loop()
        self.cycles = cycles
        self.concurrency = concurrency
        self.started = 0
        self.finished = 0
        self.callbacks = 0
        self.errors = 0
        self.warm_rss = None
        self.server = flatuv.TCP(self.loop)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(self.on_connection, backlog=1024)
        self.address = self.server.getsockname()

    def on_done(self, handle, error):
        self.callbacks += 1
        if error is not None:
            self.errors += 1

    def start_client(self):
        """Connect, write, forget: nothing keeps the object but the
        requests it has pending."""
        self.started += 1
        c = flatuv.TCP(self.loop)
        c.connect(self.address, self.on_done)
        c.write(MESSAGE, self.on_done)

    def on_connection(self, server, error):
        conn = server.accept()
        conn.read_start(self.on_read)

    def on_read(self, conn, data, error):
        if data is not None:
            return
        conn.close()
        self.finished += 1
        if self.finished == self.cycles // 10:
            gc.collect()
            self.warm_rss = rss_kib()
        if self.started < self.cycles:
            self.start_client()
        elif self.finished == self.cycles:
            self.server.close()

    def run(self):
        for _ in range(min(self.concurrency, self.cycles)):
            self.start_client()
        self.loop.run()


def main():
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    bench = Bench(cycles, concurrency)
    t0 = time.monotonic()
    bench.run()
    elapsed = time.monotonic() - t0
    gc.collect()
    end_rss = rss_kib()
    growth = (end_rss - bench.warm_rss) / bench.warm_rss
    print("cycles %d in %.1f s (%.0f/s), callbacks %d, errors %d"
          % (bench.finished, elapsed, bench.finished / elapsed,
             bench.callbacks, bench.errors))
    print("rss after warm-up %d KiB, at the end %d KiB, growth %.1f%%"
          % (bench.warm_rss, end_rss, 100 * growth))
    ok = (bench.finished == cycles and bench.callbacks == 2 * cycles
          and bench.errors == 0 and growth < 0.10)
    print("memory:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
