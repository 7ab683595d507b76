# Issue 17, item 1: a handle nobody references is freed under its pending
# request. connect + write on a TCP dropped at once, then run(): the
# binding segfaulted. Must print connect None, write None; the server
# receives hello; run() returns.
# verdict before the fix: crash (SIGSEGV / AddressSanitizer)
PFZ_REPEAT = 5
    # ---- progfuzz ops ----
    # op 0
    sock1 = socket.socket(); sock1.bind(("127.0.0.1", 0)); sock1.listen(8)
    # op 1
    def send_hello1():
        c = flatuv.TCP(L, flatuv.AF_INET)
        c.connect(sock1.getsockname(), lambda h, err: log.append(("connect", err)))
        c.write(b"hello", lambda h, err: log.append(("write", err)))
    send_hello1()
    # op 2
    with G: L.run()
    # op 3
    expect(log == [("connect", None), ("write", None)], "callbacks ran: %r" % (log,))
    peer1, _ = sock1.accept(); peer1.settimeout(5)
    expect(peer1.recv(16) == b"hello", "the server received hello")
    peer1.close(); sock1.close()
    # ---- progfuzz end ----

