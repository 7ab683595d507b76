# progfuzz program: lang python, seed 1017
# verdict: hang (racy; seen within PFZ_REPEAT 30 before the fix)
# Found by progfuzz: another thread's recv(64, timeout=0.005) and
# run(RUN_NOWAIT) on a client with a 1 MiB write pending to an echoing
# server: the thread's recv never returns (its timeout is not honoured, or
# the call is handed to a loop nobody runs), so join() waits for ever.
# Issue 17 item 2 family: calls from a foreign thread.
PFZ_REPEAT = 30
    # ---- progfuzz ops ----
    # op 0
    def cb4(*a):
        h = a[0] if a else None
        log.append('cb4')
        with G: t1.start(cb6, 0.005)
    # op 1
    with G:
        s1 = flatuv.TCP(L)
        s1.bind(("127.0.0.1", 0))
        s1.listen(on_conn)
        ADDR = s1.getsockname()
    # op 2
    with G: c3 = flatuv.TCP(L)
    # op 3
    with G:
        c3.connect(ADDR, cb4)
        c3.read_start(cb3)
        c3.write(b"y" * (1 << 20), cb4)
    # op 4
    def f2():
        for _i in range(40):
            with G: c3.recv(64, timeout=0.005)
            with G: L.run(flatuv.RUN_NOWAIT)
    th = threading.Thread(target=f2); threads.append(th); th.start()
    # ---- progfuzz end ----

