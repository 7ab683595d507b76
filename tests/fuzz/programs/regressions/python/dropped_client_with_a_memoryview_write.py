# progfuzz seed 1181 (lang python), minimized before the fixes of issue 17.
# verdict then: crash (UBSan: null fuvpy_loop_t in flatuv_py.c). A client
# connects and writes a memoryview slice with a callback, then its only
# name is rebound to a never-created TCP: item 1, the dropped handle freed
# under its pending connect and write.
PFZ_REPEAT = 1
    # ---- progfuzz ops ----
    # op 0
    def cb1(*a):
        h = a[0] if a else None
        log.append('cb1')
        with G: h.send()
        with G: c3.connect(ADDR, on_read)
    # op 1
    def cb6(*a):
        h = a[0] if a else None
        log.append('cb6')
        with G: h.read_stop()
    # op 2
    with G: c1 = flatuv.TCP(L)
    # op 3
    with G:
        c1.connect(ADDR, cb6)
    # op 4
    with G: c1.write(memoryview(b"abcdef")[1:4], cb1)
    # op 5
    c1 = flatuv.TCP.__new__(flatuv.TCP)
    # op 6
    for _i in range(45):
        with G: L.run(flatuv.RUN_NOWAIT)
    # ---- progfuzz end ----

