# progfuzz program: lang python, seed 1218
# verdict: crash (AddressSanitizer: SEGV, main thread T0)
# Found by progfuzz: another thread calls run(), walk() and recv() on L while
# the main thread runs it (an Async with a raising callback keeps it alive).
# Same family as issue 17 item 2: every call from a foreign thread while the
# loop runs must be handed to the loop's thread or raise EBUSY.
PFZ_REPEAT = 5
    # ---- progfuzz ops ----
    # op 0
    with G: a1 = flatuv.Async(L, cb_raise)
    # op 1
    def f2():
        for _i in range(29):
            with G: c2.recv(64, timeout=0.005)
            with G: L.walk(cb_noop)
            with G: L.run()
    th = threading.Thread(target=f2); threads.append(th); th.start()
    # op 2
    with G: L.run(flatuv.RUN_DEFAULT)
    # ---- progfuzz end ----

