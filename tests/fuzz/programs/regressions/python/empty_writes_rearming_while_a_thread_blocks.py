# progfuzz seed 1037 (lang python), minimized before the fixes of issue 17.
# verdict then: hang (in cb4). Empty writes re-issued from a write callback
# (with a timer restarted there too) while another thread calls
# accept_sync, connect_sync and run: item 3's write shape with item 2's
# threads.
PFZ_REPEAT = 1
    # ---- progfuzz ops ----
    # op 0
    def cb4(*a):
        h = a[0] if a else None
        log.append('cb4')
        with G: t3.start(cb4, 0.001)
        with G: h.again()
        with G: h.write(b"", cb4)
    # op 1
    with G:
        s2 = flatuv.TCP(L)
        s2.bind(("127.0.0.1", 0))
        s2.listen(on_conn)
        ADDR = s2.getsockname()
    # op 2
    with G: c2 = flatuv.TCP(L)
    # op 3
    with G:
        c2.connect(ADDR, cb_raise)
        c2.write(b"", cb5)
    # op 4
    with G: c2.writev([b'a', b'b'], cb4)
    # op 5
    def f2():
        for _i in range(19):
            with G: s2.accept_sync(timeout=0.005)
            with G: c2.connect_sync(ADDR, timeout=0.01)
            with G: L.run()
            time.sleep(0.0005)
    th = threading.Thread(target=f2); threads.append(th); th.start()
    # ---- progfuzz end ----

