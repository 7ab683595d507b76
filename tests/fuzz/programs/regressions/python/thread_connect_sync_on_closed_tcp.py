# progfuzz program: lang python, seed 1158
# verdict: crash (AddressSanitizer: heap-use-after-free in a cfunction call;
# racy: about one run in three before the fix, hence PFZ_REPEAT 10)
# Found by progfuzz: a TCP closed (twice), then another thread calls
# connect_sync() on it while the main thread runs the loop, which frees
# the handle: the thread's call uses the freed handle. Issue 17 item 2 family.
PFZ_REPEAT = 10
    # ---- progfuzz ops ----
    # op 0
    with G: c4 = flatuv.TCP(L)
    # op 1
    with G: c4.close(); c4.close()
    # op 2
    def f1():
        for _i in range(32):
            with G: c4.connect_sync(ADDR, timeout=0.01)
            with G: conns.clear()
            time.sleep(0.0005)
    th = threading.Thread(target=f1); threads.append(th); th.start()
    # op 3
    with G: L.run(flatuv.RUN_DEFAULT)
    # ---- progfuzz end ----

