# progfuzz seed 1023 (lang python), minimized before the fixes of issue 17.
# verdict then: hang (in cb6). An Async whose callback re-sends it and walks
# the loop, whose walk callback runs the loop and sends again, while another
# thread closes handles and runs RUN_NOWAIT: item 3 (an async re-sending
# itself starved the loop) reached through walk, with item 2's threads.
PFZ_REPEAT = 1
    # ---- progfuzz ops ----
    # op 0
    def cb4(*a):
        h = a[0] if a else None
        log.append('cb4')
        with G: h.start(cb4, 0)
        with G: L.walk(cb6)
    # op 1
    def cb6(*a):
        h = a[0] if a else None
        log.append('cb6')
        with G: L.run(flatuv.RUN_DEFAULT)
        with G: a1.send()
        gc.collect()
    # op 2
    with G: a1 = flatuv.Async(L, cb4)
    # op 3
    with G: a1.send()
    # op 4
    def f2():
        for _i in range(24):
            with G: c4.close()
            with G: s1.close()
            with G: L.run(flatuv.RUN_NOWAIT)
            time.sleep(0.0005)
    th = threading.Thread(target=f2); threads.append(th); th.start()
    # ---- progfuzz end ----

