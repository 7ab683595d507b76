# progfuzz seed 1283 (lang python), minimized before the fixes of issue 17.
# verdict then: hang (in cb6). An empty write issued from its own write
# callback completes at once and joined the completion list being drained:
# the core's write-callback pass never ended (item 3's write shape).
PFZ_REPEAT = 1
    # ---- progfuzz ops ----
    # op 0
    def cb6(*a):
        h = a[0] if a else None
        log.append('cb6')
        with G: c1.read_start(cb_raise)
        with G: h.write(b"", cb6)
        with G: h.close_reset(cb5)
    # op 1
    with G:
        s2 = flatuv.TCP(L)
        s2.bind(("127.0.0.1", 0))
        s2.listen(on_conn)
        ADDR = s2.getsockname()
    # op 2
    with G: c4 = flatuv.TCP(L)
    # op 3
    with G:
        c4.connect(ADDR, cb6)
    # op 4
    for _i in range(23):
        with G: L.run(flatuv.RUN_NOWAIT)
    # ---- progfuzz end ----

