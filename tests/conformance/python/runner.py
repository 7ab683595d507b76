"""The Python conformance runner: executes every case of
tests/conformance/cases.txt through the flatuv package on real loopback
sockets and compares what it observes with the case's expect.* values.

    python runner.py CASES_FILE

Run it with an interpreter that has the flatuv wheel installed. Prints one
line per case and then "conformance-python: N passed, M failed"; a case of
a kind (or an error op) this runner does not know fails. Exits non-zero
when any case failed.
"""

import itertools
import os
import sys
import tempfile

import flatuv

CASE_TIMEOUT = 20.0  # seconds; a scenario still running then has hung


class CaseFailure(Exception):
    """A call that should have worked did not, or the runner lacks a step."""


def status_name(error):
    """"OK" for success (None), else the error's libuv name."""
    return "OK" if error is None else error.name


def pattern(offset, length):
    """Bytes offset..offset+length of every test stream (byte i is i mod
    251), so that a reordered, lost or repeated byte shows."""
    start = offset % 251
    return (_CYCLE[start:] + _CYCLE * (length // 251 + 1))[:length]


_CYCLE = bytes(range(251))


def intact(data, length):
    return "yes" if len(data) == length and data == pattern(0, length) else "no"


def bound_tcp(loop, host):
    tcp = flatuv.TCP(loop)
    tcp.bind((host, 0))
    return tcp, tcp.getsockname()[1]


def sync_pair(loop, host):
    """A client and the server side of its connection, made with the
    synchronous calls; the listener is closed once it accepted."""
    listener, port = bound_tcp(loop, host)
    listener.listen(None, 16)
    client = flatuv.TCP(loop)
    client.connect_sync((host, port), timeout=5.0)
    server = listener.accept_sync(timeout=5.0)
    listener.close()
    return client, server


def run_loop(loop, failures):
    """Runs the loop until no referenced handle is active, under a guard
    timer that does not itself keep the loop running."""
    def on_guard(timer):
        failures.append("the case did not finish within %g s" % CASE_TIMEOUT)
        loop.walk(lambda handle: handle.close())

    guard = flatuv.Timer(loop)
    guard.start(on_guard, CASE_TIMEOUT)
    guard.unref()
    loop.run()


def finish_loop(loop):
    """Closes what the scenario left open (an idle server side, the guard)
    and frees the loop, which fails if a handle is still there."""
    loop.walk(lambda handle: handle.close())
    loop.run()
    loop.close()


# ---------------------------------------------------------------------------
# Scenarios: each takes the case's parameters, a dict to put observations
# in and a list of unexpected failures, and runs on a loop of its own.
# ---------------------------------------------------------------------------


def run_echo(loop, params, seen, failures):
    host = params["host"]
    writes, size = int(params["writes"]), int(params["size"])
    received = bytearray()
    seen["end"] = "none"

    def on_server_read(stream, data, error):
        if data is not None:
            stream.write(data)
        elif error is None:
            stream.shutdown(lambda s, err: s.close())
        else:
            failures.append("server read: %s" % error.name)
            stream.close()

    def on_connection(listener, error):
        if error is not None:
            failures.append("connection: %s" % error.name)
            return
        listener.accept().read_start(on_server_read)
        listener.close()

    def on_client_read(stream, data, error):
        if data is not None:
            received.extend(data)
            return
        seen["end"] = "EOF" if error is None else error.name
        stream.close()

    def on_connect(tcp, error):
        seen["connect"] = status_name(error)
        if error is not None:
            tcp.close()
            return
        seen["peer"] = tcp.getpeername()[0]
        for i in range(writes):
            tcp.write(pattern(i * size, size))
        tcp.shutdown()
        tcp.read_start(on_client_read)

    listener, port = bound_tcp(loop, host)
    listener.listen(on_connection, 16)
    flatuv.TCP(loop).connect((host, port), on_connect)
    run_loop(loop, failures)
    seen["bytes"] = str(len(received))
    seen["intact"] = intact(bytes(received), writes * size)


def read_result(data, error):
    """"<data>/EOF" (or "/<error>") for a stream read to its end."""
    return "%s/%s" % (bytes(data).decode("latin-1"),
                      "EOF" if error is None else error.name)


def run_half_close(loop, params, seen, failures):
    host = params["host"]
    request, reply = params["request"].encode(), params["reply"].encode()
    client_data, server_data = bytearray(), bytearray()

    def on_client_read(stream, data, error):
        if data is not None:
            client_data.extend(data)
            return
        seen["client_read"] = read_result(client_data, error)
        stream.close()

    def on_server_write(stream, error):
        seen["server_write"] = status_name(error)

    def on_server_read(stream, data, error):
        if data is not None:
            server_data.extend(data)
            return
        seen["server_read"] = read_result(server_data, error)
        # The peer has finished sending; this side can still write.
        stream.write(reply, on_server_write)
        stream.shutdown(lambda s, err: s.close())

    def on_connection(listener, error):
        listener.accept().read_start(on_server_read)
        listener.close()

    def on_shutdown(stream, error):
        seen["shutdown"] = status_name(error)

    def on_connect(tcp, error):
        if error is not None:
            raise CaseFailure("connect: %s" % error.name)
        tcp.write(request)
        tcp.shutdown(on_shutdown)
        tcp.read_start(on_client_read)

    listener, port = bound_tcp(loop, host)
    listener.listen(on_connection, 16)
    flatuv.TCP(loop).connect((host, port), on_connect)
    run_loop(loop, failures)


def run_refused(loop, params, seen, failures):
    host = params["host"]
    close_calls = []

    def on_connect(tcp, error):
        seen["connect"] = status_name(error)
        seen["closing_in_cb"] = "yes" if tcp.closing else "no"
        tcp.close(lambda handle: close_calls.append(handle))

    # A port that is bound but not listening refuses connections, and no
    # other program can take it while this handle holds it.
    bound, port = bound_tcp(loop, host)
    flatuv.TCP(loop).connect((host, port), on_connect)
    run_loop(loop, failures)
    seen["close_cb"] = str(len(close_calls))


def drop_connection(listener, error):
    """Accepts and closes whatever connects."""
    if error is None:
        listener.accept().close()


def run_close_during_connect(loop, params, seen, failures):
    host = params["host"]
    events = []
    listener, port = bound_tcp(loop, host)
    listener.listen(drop_connection, 16)

    def on_close(handle):
        events.append("close")
        listener.close()

    client = flatuv.TCP(loop)
    client.connect((host, port),
                   lambda tcp, error: events.append("connect:" + status_name(error)))
    client.close(on_close)
    run_loop(loop, failures)
    seen["events"] = ",".join(events)


def run_cancel_writes(loop, params, seen, failures):
    size, queued = int(params["size"]), int(params["queued"])
    events = []
    client, server = sync_pair(loop, params["host"])
    chunk = bytes(size)
    # The server side never reads: once both socket buffers are full the
    # library has to queue. The bound keeps a broken core from looping.
    fills = 0
    while client.write_queue_size == 0 and fills < 100000:
        client.write(chunk)
        fills += 1
    seen["filled"] = "yes" if client.write_queue_size > 0 else "no"

    def on_write(index):
        return lambda stream, error: events.append(
            "write%d:%s" % (index, status_name(error)))

    for i in range(queued):
        client.write(chunk, on_write(i))
    client.close(lambda handle: events.append("close"))
    run_loop(loop, failures)
    seen["events"] = ",".join(events)


def call_error(call, *args):
    """Runs a call and returns "OK" or the name of the Error it raised."""
    try:
        call(*args)
    except flatuv.Error as error:
        return error.name
    return "OK"


def run_shutdown_twice(loop, params, seen, failures):
    client, server = sync_pair(loop, params["host"])
    second_calls = []

    def on_first(stream, error):
        seen["first_cb"] = status_name(error)

    seen["first"] = call_error(client.shutdown, on_first)
    seen["second"] = call_error(client.shutdown,
                                lambda stream, error: second_calls.append(error))
    run_loop(loop, failures)
    seen["second_cb_calls"] = str(len(second_calls))


def run_timer_order(loop, params, seen, failures):
    order = []

    def on_timer(index):
        def fire(timer):
            order.append(str(index))
            timer.close()
        return fire

    for index, ms in enumerate(params["timeouts"].split(",")):
        flatuv.Timer(loop).start(on_timer(index), int(ms) / 1000.0)
    run_loop(loop, failures)
    seen["order"] = ",".join(order)


def run_read_stop(loop, params, seen, failures):
    size, pause = int(params["size"]), int(params["pause_ms"]) / 1000.0
    client, server = sync_pair(loop, params["host"])
    received = bytearray()
    state = {"stopped": False, "paused": False, "calls_while_stopped": 0,
             "pending": False}
    seen["end"] = "none"

    # The pause is the one place a timer stands in for an event: it checks
    # that no event happens while reading is stopped.
    def on_pause(timer):
        state["pending"] = client.pending_bytes() > 0
        state["stopped"] = False
        client.read_start(on_read)
        timer.close()

    def on_read(stream, data, error):
        if state["stopped"]:
            state["calls_while_stopped"] += 1
        if data is None:
            seen["end"] = "EOF" if error is None else error.name
            stream.close()
            return
        received.extend(data)
        if not state["paused"]:
            stream.read_stop()
            state["stopped"] = state["paused"] = True
            flatuv.Timer(loop).start(on_pause, pause)

    server.write(pattern(0, size))
    server.shutdown()
    client.read_start(on_read)
    run_loop(loop, failures)
    seen["calls_while_stopped"] = str(state["calls_while_stopped"])
    seen["pending_while_stopped"] = "yes" if state["pending"] else "no"
    seen["bytes"] = str(len(received))
    seen["intact"] = intact(bytes(received), size)


_abstract_names = itertools.count(1)


def pipe_name(kind, tmpdir):
    """A path in tmpdir, or a Linux abstract name (first byte NUL) unique
    to this process and call."""
    if kind == "abstract":
        return "\0flatuv-conformance-%d-%d" % (os.getpid(), next(_abstract_names))
    return os.path.join(tmpdir, "pipe")


def echo_back(stream, data, error):
    """The echoing side of pipe_echo and fd_passing: writes back what it
    reads, shuts down at EOF."""
    if data is not None:
        stream.write(data)
    elif error is None:
        stream.shutdown(lambda s, err: s.close())
    else:
        raise CaseFailure("echo read: %s" % error.name)


def run_pipe_echo(loop, params, seen, failures):
    writes, size = int(params["writes"]), int(params["size"])
    received = bytearray()
    seen["end"] = "none"

    def on_connection(listener, error):
        if error is not None:
            raise CaseFailure("connection: %s" % error.name)
        listener.accept(flatuv.Pipe(loop)).read_start(echo_back)
        listener.close()

    def on_client_read(stream, data, error):
        if data is not None:
            received.extend(data)
            return
        seen["end"] = "EOF" if error is None else error.name
        stream.close()

    def on_connect(pipe, error):
        seen["connect"] = status_name(error)
        if error is not None:
            pipe.close()
            return
        for i in range(writes):
            pipe.write(pattern(i * size, size))
        pipe.shutdown()
        pipe.read_start(on_client_read)

    with tempfile.TemporaryDirectory(prefix="flatuv-conformance-") as tmpdir:
        name = pipe_name(params["name"], tmpdir)
        listener = flatuv.Pipe(loop)
        listener.bind(name)
        listener.listen(on_connection, 16)
        seen["sockname"] = "match" if listener.getsockname() == name else "mismatch"
        flatuv.Pipe(loop).connect(name, on_connect)
        run_loop(loop, failures)
    seen["bytes"] = str(len(received))
    seen["intact"] = intact(bytes(received), writes * size)


def run_fd_passing(loop, params, seen, failures):
    host, size = params["host"], int(params["size"])
    half = size // 2
    received = bytearray()
    fd0, fd1 = flatuv.socketpair()
    sender, receiver = flatuv.Pipe(loop, ipc=True), flatuv.Pipe(loop, ipc=True)
    sender.open(fd0)
    receiver.open(fd1)

    def on_connection(listener, error):
        if error is not None:
            raise CaseFailure("connection: %s" % error.name)
        conn = listener.accept()
        sender.write2(b"h", conn, lambda s, err: s.close())
        conn.close()
        listener.close()

    def on_receiver_read(pipe, data, error):
        if data is None:
            raise CaseFailure("receiver read: %s" % status_name(error))
        seen["pending_count"] = str(pipe.pending_count)
        seen["pending_type"] = flatuv.handle_type_name(pipe.pending_handle_type())
        pipe.accept(flatuv.TCP(loop)).read_start(echo_back)
        pipe.close()

    def on_client_read(tcp, data, error):
        if data is None:
            if error is not None:
                raise CaseFailure("client read: %s" % error.name)
            tcp.close()
            return
        received.extend(data)
        if len(received) == half:
            # The first half came back through the passed handle.
            tcp.write(pattern(half, size - half))
            tcp.shutdown()

    def on_connect(tcp, error):
        if error is not None:
            raise CaseFailure("connect: %s" % error.name)
        # The first half is sent before the hand-off: it waits in the socket.
        tcp.write(pattern(0, half))
        tcp.read_start(on_client_read)

    receiver.read_start(on_receiver_read)
    listener, port = bound_tcp(loop, host)
    listener.listen(on_connection, 16)
    flatuv.TCP(loop).connect((host, port), on_connect)
    run_loop(loop, failures)
    seen["bytes"] = str(len(received))
    seen["intact"] = intact(bytes(received), size)


def run_loop_phases(loop, params, seen, failures):
    order = []

    def on_timer(timer):
        order.append("timer")
        timer.close()

    def on_check(check):
        order.append("check")
        if order.count("check") == 2:
            for handle in (idle, prepare, check):
                handle.close()

    flatuv.Timer(loop).start(on_timer, 0)
    idle, prepare, check = flatuv.Idle(loop), flatuv.Prepare(loop), flatuv.Check(loop)
    idle.start(lambda handle: order.append("idle"))
    prepare.start(lambda handle: order.append("prepare"))
    check.start(on_check)
    run_loop(loop, failures)
    seen["order"] = ",".join(order)


def run_cancel_write(loop, params, seen, failures):
    size = int(params["size"])
    events, received = [], bytearray()
    client, server = sync_pair(loop, params["host"])
    # The peer does not read yet: once both socket buffers are full the
    # library has to queue. The bound keeps a broken core from looping.
    sent = 0
    while client.write_queue_size == 0 and sent < 100000 * size:
        client.write(pattern(sent, size))
        sent += size

    def on_write(name):
        return lambda stream, error: events.append(
            "%s:%s" % (name, status_name(error)))

    # A and C continue the stream; B's bytes (255) would break it.
    client.write(pattern(sent, size), on_write("A"))
    b = client.write(b"\xff" * size, on_write("B"))
    client.write(pattern(sent + size, size), on_write("C"))
    sent += 2 * size
    seen["cancel"] = call_error(b.cancel)
    client.shutdown(lambda stream, error: stream.close())

    def on_peer_read(stream, data, error):
        if data is not None:
            received.extend(data)
            return
        if error is not None:
            raise CaseFailure("peer read: %s" % error.name)
        stream.close()

    server.read_start(on_peer_read)
    run_loop(loop, failures)
    seen["events"] = ",".join(events)
    seen["intact"] = intact(bytes(received), sent)


def run_cancel_connect(loop, params, seen, failures):
    host = params["host"]
    listener, port = bound_tcp(loop, host)
    listener.listen(drop_connection, 16)

    def on_reconnect(tcp, error):
        seen["reconnect"] = status_name(error)
        tcp.close()
        listener.close()

    def on_connect(tcp, error):
        seen["connect"] = status_name(error)
        tcp.connect((host, port), on_reconnect)

    request = flatuv.TCP(loop).connect((host, port), on_connect)
    seen["cancel"] = call_error(request.cancel)
    run_loop(loop, failures)


def bound_udp(loop, host):
    udp = flatuv.UDP(loop)
    udp.bind((host, 0))
    return udp, udp.getsockname()[1]


def run_udp_echo(loop, params, seen, failures):
    host = params["host"]
    sizes = [int(s) for s in params["sizes"].split(",")]
    echoes = []
    seen["sender"] = "none"

    def on_server(udp, address, flags, data, error):
        if error is not None:
            failures.append("server recv: %s" % error.name)
            return
        udp.send(address, data)

    def on_client(udp, address, flags, data, error):
        if error is not None:
            failures.append("client recv: %s" % error.name)
            return
        seen["sender"] = address[0]
        echoes.append(data)
        if len(echoes) == len(sizes):
            udp.close()
            server.close()

    server, port = bound_udp(loop, host)
    client, _ = bound_udp(loop, host)
    server.start_recv(on_server)
    client.start_recv(on_client)
    for size in sizes:
        client.send((host, port), pattern(0, size))
    run_loop(loop, failures)
    seen["datagrams"] = str(len(echoes))
    seen["bytes"] = str(sum(len(e) for e in echoes))
    seen["intact"] = "yes" if echoes == [pattern(0, s) for s in sizes] else "no"


def udp_one(loop, params, failures):
    """Sends one datagram of `size` bytes to a server whose largest datagram
    is `max` (when given); returns [(address, flags, data, error)] for what
    the server's receive callback got."""
    host, size = params["host"], int(params["size"])
    got = []

    def on_recv(udp, address, flags, data, error):
        got.append((address, flags, data, error))
        udp.close()
        client.close()

    server, port = bound_udp(loop, host)
    client, _ = bound_udp(loop, host)
    if "max" in params:
        server.set_max_datagram(int(params["max"]))
    server.start_recv(on_recv)
    client.send((host, port), pattern(0, size))
    run_loop(loop, failures)
    return got


def run_udp_truncate(loop, params, seen, failures):
    for address, flags, data, error in udp_one(loop, params, failures):
        seen["nread"] = error.name if error is not None else str(len(data))
        seen["partial"] = "yes" if flags & flatuv.UDP_PARTIAL else "no"
        seen["intact"] = intact(data or b"", len(data or b""))


def run_udp_empty(loop, params, seen, failures):
    got = udp_one(loop, params, failures)
    seen["calls"] = str(len(got))
    for address, flags, data, error in got:
        seen["nread"] = error.name if error is not None else str(len(data))
        seen["sender"] = address[0] if address else "none"


def run_udp_connected(loop, params, seen, failures):
    host = params["host"]
    seen["refused"] = "none"

    def on_recv(udp, address, flags, data, error):
        seen["refused"] = status_name(error)
        udp.close()

    server, port = bound_udp(loop, host)
    # A port that was just free: nothing listens there once it is closed.
    closed, closed_port = bound_udp(loop, host)
    closed.close()
    client = flatuv.UDP(loop)
    client.connect((host, port))
    seen["other_dest"] = call_error(client.send, (host, closed_port), b"x")
    client.connect(None)
    client.connect((host, closed_port))
    client.start_recv(on_recv)
    client.send(None, b"x")
    run_loop(loop, failures)
    server.close()


def ignore(*args):
    pass


def error_op(loop, op, keep, tmpdir, failures):
    """Performs one error op; returns the failing call and its arguments.
    Every handle made here is closed by finish_loop(); until then keep
    holds the ones the op needs, since the binding closes an idle handle
    that the program drops (a dropped server side would end the stream);
    tmpdir is a temporary directory for pipe names; failures the case's, for
    an op that runs the loop."""
    if op == "bind_bad_ip":
        return flatuv.TCP(loop).bind, ("300.1.2.3", 0)
    if op == "bind_ipv6only_ipv4":
        return flatuv.TCP(loop).bind, ("127.0.0.1", 0), flatuv.TCP_IPV6ONLY
    if op == "listen_taken_port":
        first, port = bound_tcp(loop, "127.0.0.1")
        first.listen(None, 16)
        keep.append(first)
        second = flatuv.TCP(loop)
        second.bind(("127.0.0.1", port))
        return second.listen, None, 16
    if op == "accept_nothing_pending":
        server, port = bound_tcp(loop, "127.0.0.1")
        server.listen(None, 16)
        return (server.accept,)
    if op == "read_start_unconnected":
        return flatuv.TCP(loop, flatuv.AF_INET).read_start, ignore
    if op == "read_start_twice":
        client, server = sync_pair(loop, "127.0.0.1")
        keep.append(server)
        client.read_start(ignore)
        return client.read_start, ignore
    if op == "connect_port_zero":
        return flatuv.TCP(loop).connect, ("127.0.0.1", 0)
    if op == "connect_twice":
        listener, port = bound_tcp(loop, "127.0.0.1")
        listener.listen(drop_connection, 16)
        client = flatuv.TCP(loop)
        client.connect(("127.0.0.1", port))
        return client.connect, ("127.0.0.1", port)
    if op == "write_after_shutdown":
        client, server = sync_pair(loop, "127.0.0.1")
        keep.append(server)
        client.shutdown()
        return client.write, b"x"
    if op == "recv_timeout":
        client, server = sync_pair(loop, "127.0.0.1")
        keep.append(server)
        return client.recv, 16, 0.010
    if op == "close_twice":
        timer = flatuv.Timer(loop)
        timer.close()
        return (timer.close,)
    if op == "timer_again_unstarted":
        return (flatuv.Timer(loop).again,)
    if op == "loop_close_busy":
        flatuv.Timer(loop).start(ignore, 1.0)
        return (loop.close,)
    if op == "accept_into_busy":
        # A connection waits (the loop accepted it for the callback); the
        # handle to accept it into is bound. The error the callback raises
        # stops the loop and comes out of run.
        server, port = bound_tcp(loop, "127.0.0.1")
        bound, _ = bound_tcp(loop, "127.0.0.1")
        keep.append(bound)

        def on_connection(server, error):
            try:
                server.accept(bound)
            finally:
                server.close()

        server.listen(on_connection, 16)
        flatuv.TCP(loop).connect(("127.0.0.1", port))
        return run_loop, loop, failures
    if op == "cancel_completed":
        client, server = sync_pair(loop, "127.0.0.1")
        keep.append(server)
        request = client.write(b"x", ignore)
        loop.run()  # until the write's callback ran
        return (request.cancel,)
    if op == "pipe_bind_in_use":
        name = pipe_name("path", tmpdir)
        first = flatuv.Pipe(loop)
        first.bind(name)
        keep.append(first)
        return flatuv.Pipe(loop).bind, name
    if op == "udp_bind_bad_ip":
        return flatuv.UDP(loop).bind, ("300.1.2.3", 0)
    if op == "udp_bind_port_range":
        return flatuv.UDP(loop).bind, ("127.0.0.1", 65536)
    if op == "udp_send_closed":
        udp, port = bound_udp(loop, "127.0.0.1")
        udp.close()
        return udp.send, ("127.0.0.1", port), b"x"
    if op == "udp_membership_no_socket":
        return (flatuv.UDP(loop).set_membership, "239.255.0.1",
                flatuv.JOIN_GROUP)
    if op == "udp_recv_timeout":
        udp, _ = bound_udp(loop, "127.0.0.1")
        keep.append(udp)
        return udp.recv_sync, 16, 0.010
    if op == "shutdown_after_close_reset":
        client, server = sync_pair(loop, "127.0.0.1")
        keep.append(server)
        client.close_reset()
        return (client.shutdown,)
    raise CaseFailure("error op %r is not implemented by this runner" % op)


def run_error(loop, params, seen, failures):
    keep = []
    with tempfile.TemporaryDirectory(prefix="flatuv-conformance-") as tmpdir:
        seen["error"] = call_error(*error_op(loop, params["op"], keep, tmpdir,
                                            failures))


SCENARIOS = {
    "echo": run_echo,
    "half_close": run_half_close,
    "refused": run_refused,
    "close_during_connect": run_close_during_connect,
    "cancel_writes": run_cancel_writes,
    "shutdown_twice": run_shutdown_twice,
    "timer_order": run_timer_order,
    "read_stop": run_read_stop,
    "pipe_echo": run_pipe_echo,
    "fd_passing": run_fd_passing,
    "loop_phases": run_loop_phases,
    "cancel_write": run_cancel_write,
    "cancel_connect": run_cancel_connect,
    "udp_echo": run_udp_echo,
    "udp_truncate": run_udp_truncate,
    "udp_empty": run_udp_empty,
    "udp_connected": run_udp_connected,
    "error": run_error,
}

# ---------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------


def parse_cases(path):
    """Yields (id, kind, {key: value}) for each case line."""
    with open(path) as f:
        for line in f:
            tokens = line.split()
            if len(tokens) < 2 or tokens[0].startswith("#"):
                continue
            fields = dict(t.split("=", 1) for t in tokens[2:] if "=" in t)
            yield tokens[0], tokens[1], fields


def run_case(case_id, kind, fields):
    """Runs one case; returns None if it passed, else why it failed."""
    seen, failures = {}, []
    scenario = SCENARIOS.get(kind)
    if scenario is None:
        return "kind %r is not implemented by this runner" % kind
    loop = flatuv.Loop()
    try:
        scenario(loop, fields, seen, failures)
    except Exception as e:  # a failed call, or a callback that raised
        failures.append("%s: %s" % (type(e).__name__, e))
    try:
        finish_loop(loop)
    except Exception as e:
        failures.append("cleanup: %s: %s" % (type(e).__name__, e))
    if failures:
        return failures[0]
    for key, expected in fields.items():
        if key.startswith("expect."):
            observed = seen.get(key[len("expect."):])
            if observed != expected:
                return "%s: expected %s, observed %s" % (
                    key, expected, "nothing" if observed is None else observed)
    return None


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s CASES_FILE\n" % argv[0])
        return 2
    passed = failed = 0
    for case_id, kind, fields in parse_cases(argv[1]):
        why = run_case(case_id, kind, fields)
        if why is None:
            passed += 1
            print("PASS %s" % case_id)
        else:
            failed += 1
            print("FAIL %s: %s" % (case_id, why))
        sys.stdout.flush()
    print("conformance-python: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
