# progfuzz program: lang python, seed 1024
# verdict: hang (the guard timer never fires)
# Found by progfuzz: issue 17 item 3 seen from Python: an Async whose
# callback sends it again starves the loop; run(RUN_NOWAIT) never returns.
# Core: core/src/async.c rescans from the head after every callback.
PFZ_REPEAT = 2
    # ---- progfuzz ops ----
    # op 0
    def cb4(*a):
        h = a[0] if a else None
        log.append('cb4')
        with G: h.read_stop()
        with G: a1.send()
    # op 1
    with G: a1 = flatuv.Async(L, cb4)
    # op 2
    with G: c4 = flatuv.TCP(L)
    # op 3
    with G:
        c4.connect(ADDR, cb4)
        c4.read_start(cb4)
    # op 4
    for _i in range(6):
        with G: L.run(flatuv.RUN_NOWAIT)
    # ---- progfuzz end ----

