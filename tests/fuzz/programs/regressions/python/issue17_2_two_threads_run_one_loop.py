# Issue 17, item 2: two threads run one loop. The second thread's run()
# must raise flatuv.Error (EBUSY) at once, decided under the GIL; the
# issue asks for it to be run 10 times (PFZ_REPEAT).
# verdict before the fix: crash (9 runs in 10: SIGSEGV, Fatal Python error
# PyEval_RestoreThread, SystemError)
PFZ_REPEAT = 10
    # ---- progfuzz ops ----
    # op 0
    t1 = flatuv.Timer(L); t1.start(lambda h: None, 0.001, 0.001)
    # op 1
    def other1():
        for _ in range(2000):
            try:
                L.run(flatuv.RUN_NOWAIT)
            except flatuv.Error:
                pass
    # op 2
    g1 = flatuv.Timer(L); g1.start(lambda h: L.stop(), 0.3, 0.3)
    # op 3
    th1 = threading.Thread(target=other1); th1.start()
    # op 4
    for _ in range(3):
        with G: L.run()
    # op 5
    th1.join()
    # ---- progfuzz end ----

