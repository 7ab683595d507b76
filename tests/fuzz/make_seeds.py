#!/usr/bin/env python3
"""Writes the committed seed corpus of the two fuzz harnesses.

The seeds are small hand-made programs in the harnesses' input languages
(see the op_* functions of fuzz_api.c and the header of fuzz_addr.c), so
that fuzzing starts from inputs that reach deep states: connected pairs
exchanging data, a listener accepting, timers firing, closes with writes
pending. Deterministic: running it again gives the same files.

    tests/fuzz/make_seeds.py [CORPUS_DIR]   (default: tests/fuzz/corpus)
"""
import os
import struct
import sys

# Operation numbers of fuzz_api.c's run_op().
TCP_NEW, SOCKETPAIR, LISTEN, CONNECT, ACCEPT, TIMER_NEW, ASYNC_NEW = range(7)
READ_START, READ_STOP, WRITE, WRITEV, TRY_WRITE, SHUTDOWN = range(7, 13)
CLOSE, CLOSE_RESET, REF, TIMER, ASYNC_SEND, SYNC, SOCKOPT = range(13, 20)
DETACH_OPEN, WATER_MARKS, GETTERS, LOOP, RUN = range(20, 25)
PIPE_NEW, PIPE_PAIR, PIPE_BIND, PIPE_CONNECT, PIPE_MISC = range(25, 30)
WATCHER, REQ_WRITE, _REQ_WRITE2, REQ_USE, LOOP2 = range(30, 35)

# op_pipe_pair modes; op_pipe_bind / op_pipe_connect names (fuzz_api.c's
# make_names: 0-2 paths, 3-4 abstract, 5 too long, 6 abstract of 108
# bytes, 7 of 109, 8 path of 107, 9 of 108, 10 "", 11 in no directory,
# 12 a NUL inside, 13 "\0", 14 NULL).
PAIR_PLAIN, PAIR_IPC, PAIR_IPC_TCP, PAIR_PIPE2 = range(4)
BIND2, LISTEN_FLAG, LISTEN_CB = 1, 8, 16
PREPARE, CHECK, IDLE = range(3)
W_NEW, W_START, W_STOP = 4, 5, 3
# op_req_write modes: low 2 bits the call, CB a callback, NO_REQ no request
# object, HANDOVER (write2: close the passed end) / SHUTDOWN (mode 3),
# CANCEL_NOW cancel right after the call.
R_WRITE, R_WRITEV, R_WRITE2, R_OTHER = range(4)
CB, NO_REQ, HANDOVER, CANCEL_NOW = 4, 16, 32, 192
SHUTDOWN_REQ = 32
# op_req_use: cancel, type, release (then the index of the held request).
CANCEL, TYPE, RELEASE = 0, 3, 5
# op_accept modes.
ACC_TCP, ACC_SYNC, ACC_STREAM, ACC_STREAM_SYNC, ACC_INTO_NEW, ACC_INTO = range(6)

NOWAIT, ONCE, DEFAULT = 0, 2, 3
# A byte >= NESTED lets the next callback make one call (fuzz_api.c).
NESTED = 252


def run(how=ONCE, times=1):
    return [RUN, how] * times


def pair():
    """A socketpair opened as slots 0 and 1, both reading."""
    return [SOCKETPAIR, 0, READ_START, 0, 1, READ_START, 1, 1]


def write(slot, size_sel, *size_bytes, cb=True):
    # mode: low 4 bits non-zero (real data), bit 5 clear for a callback.
    return [WRITE, slot, 1 if cb else 33, size_sel, *size_bytes]


def listener_and_client():
    """Slot 0 listens on 127.0.0.1, slot 1 connects to it, slot 2 is the
    accepted end."""
    return ([TCP_NEW, 3,
             LISTEN, 0, 1, 0, 0, 1, 16,
             TCP_NEW, 3,
             CONNECT, 1, 1, 0, 1]
            + run(ONCE, 4)
            + [ACCEPT, 0, 0, 1]
            + run(ONCE, 2))


def pipe_server_and_client(name=0, bind2=False):
    """Slot 0: a pipe listening on a name; slot 1 connects to it; slot 2
    is the accepted end, reading."""
    mode = (BIND2 if bind2 else 0) | LISTEN_FLAG | LISTEN_CB
    return ([PIPE_NEW, 0, 1, PIPE_BIND, 0, name, mode, 16,
             PIPE_NEW, 0, 1, PIPE_CONNECT, 1, name, (1 if bind2 else 0) | CB]
            + run(ONCE, 3) + [ACCEPT, 0, ACC_STREAM, 1, READ_START, 2, 1])


def ipc_and_pair():
    """Slots 0, 1: an IPC pipe pair; slots 2, 3: a socketpair; all reading."""
    return [PIPE_PAIR, PAIR_IPC, READ_START, 0, 1, READ_START, 1, 1,
            SOCKETPAIR, 0, READ_START, 2, 1, READ_START, 3, 1]


API_SEEDS = {
    "pair_echo": pair() + write(0, 2, 200) + write(1, 3, 0x00, 0x10)
    + run(ONCE, 4) + [CLOSE, 0, CLOSE, 1] + run(NOWAIT, 2),
    "pair_big_write_close": pair() + write(0, 6) + write(0, 6) + run(ONCE)
    + [CLOSE, 0] + run(ONCE, 3),
    "pair_writev_shutdown": pair() + [WRITEV, 0, 3, 1, 2, 1, 2, 40, 1, 2, 9, 2]
    + [SHUTDOWN, 0, 1] + write(0, 1) + run(ONCE, 4),
    "pair_try_write_sync": [SOCKETPAIR, 0] + [TRY_WRITE, 0, 1, 3, 0, 4]
    + [SYNC, 0, 1, 2, 77] + [SYNC, 1, 2, 0, 1, 1] + run(NOWAIT),
    "pair_water_marks": pair() + [WATER_MARKS, 0, 1, 100, 0, 0, 0, 1, 1]
    + write(0, 5, 0, 0, 2, 0) + run(ONCE, 6),
    "pair_detach_reopen": [SOCKETPAIR, 0, DETACH_OPEN, 0, 1]
    + [TCP_NEW, 3, DETACH_OPEN, 2, 0, 0, 1] + [READ_START, 2, 1]
    + write(1, 2, 5) + run(ONCE, 2),
    "pair_close_reset": pair() + write(0, 4, 0, 0) + [CLOSE_RESET, 1]
    + run(ONCE, 3),
    "pair_double_close": pair() + [CLOSE, 0, CLOSE, 0, READ_START, 0, 1]
    + write(0, 1) + run(NOWAIT),
    "tcp_accept_echo": listener_and_client() + [READ_START, 2, 1]
    + write(1, 2, 100) + write(2, 2, 50) + run(ONCE, 4)
    + [SHUTDOWN, 1, 1] + run(ONCE, 3),
    "tcp_connect_refused": [TCP_NEW, 3, CONNECT, 0, 1, 3, 1]
    + run(ONCE, 3),
    "tcp_close_connecting": [TCP_NEW, 3, LISTEN, 0, 1, 0, 0, 1, 1,
                             TCP_NEW, 3, CONNECT, 1, 1, 0, 1]
    + write(1, 2, 10) + [CLOSE, 1] + run(ONCE, 2),
    "tcp_sockopts": [TCP_NEW, 0] + sum(
        ([SOCKOPT, 0, 1, 0, 0, 0, k, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]
         for k in range(16)), []),
    "timers": [TIMER_NEW, TIMER_NEW,
               TIMER, 0, 0, 0, 1, 1, TIMER, 1, 0, 2, 0, 1,
               TIMER, 0, 4, 1, TIMER, 0, 3] + run(ONCE, 3)
    + [TIMER, 0, 2, CLOSE, 1] + run(NOWAIT),
    "async": [ASYNC_NEW, ASYNC_SEND, 0, ASYNC_SEND, 0] + run(ONCE)
    + [REF, 0, 1, ASYNC_SEND, 0] + run(DEFAULT) + [CLOSE, 0],
    "wrong_kinds": [TIMER_NEW, ASYNC_NEW, SOCKETPAIR, 0]
    + [READ_START, 0, 1, WRITE, 1, 1, 1, WRITE, 1, 0, TIMER, 2, 0, 1, 1, 1]
    + [ASYNC_SEND, 2, SOCKOPT, 0, 5, SOCKOPT, 1, 14, DETACH_OPEN, 1, 1]
    + [GETTERS, 0, 0, GETTERS, 2, 2, GETTERS, 99, 5] + run(NOWAIT),
    "loop_calls": [ASYNC_NEW, LOOP, 1, LOOP, 2, 1, LOOP, 3, 1] + run(ONCE)
    + [LOOP, 0] + run(DEFAULT) + [LOOP, 2, 0, LOOP, 3, 1] + run(ONCE),
    "walk_closes": [TIMER_NEW, TCP_NEW, 3, ASYNC_NEW, GETTERS, 0, 3,
                    NESTED, NESTED, NESTED]
    + run(ONCE),
    "nested_from_callbacks": pair() + write(0, 2, 30) + run(ONCE)
    + [NESTED, CLOSE, 1, NESTED, READ_STOP, 0] + run(ONCE, 2),
    # ---- issue 12 ----
    "pipe_pair_echo": [PIPE_PAIR, PAIR_PLAIN, READ_START, 0, 1, READ_START, 1, 1]
    + write(0, 2, 200) + write(1, 3, 0x00, 0x10) + run(ONCE, 4)
    + [SHUTDOWN, 0, 1] + run(ONCE, 3),
    "pipe2_one_way": [PIPE_PAIR, PAIR_PIPE2, READ_START, 0, 1] + write(1, 2, 100)
    + write(0, 2, 10) + run(ONCE, 3) + [CLOSE, 1] + run(ONCE, 3),
    "pipe_path_server": pipe_server_and_client(0) + write(1, 2, 50)
    + [PIPE_MISC, 0, 0, 0, 6, PIPE_MISC, 1, 1, 1, 6, PIPE_MISC, 1, 1, 1, 2,
       PIPE_MISC, 0, 2, 3, PIPE_MISC, 0, 2, 0, PIPE_MISC, 0, 3, 1, 0, 0, 0]
    + run(ONCE, 3) + [CLOSE, 0] + run(ONCE, 2),
    "pipe_abstract_server": pipe_server_and_client(3, bind2=True) + write(1, 2, 50)
    + [PIPE_MISC, 0, 0, 0, 6, PIPE_MISC, 1, 1, 1, 6, PIPE_MISC, 0, 2, 3]
    + run(ONCE, 3),
    "pipe_names": [PIPE_NEW, 0, 1, PIPE_NEW, 0, 1]
    + sum(([PIPE_BIND, 0, k, 0, PIPE_BIND, 1, k, BIND2,
            PIPE_CONNECT, 0, k, CB, PIPE_CONNECT, 1, k, 1 | CB]
           for k in (5, 7, 10, 12, 13, 14, 11)), [])
    + [PIPE_BIND, 0, 6, BIND2, PIPE_MISC, 0, 0, 0, 6, PIPE_MISC, 0, 0, 0, 4]
    + [PIPE_BIND, 1, 8, 0, PIPE_MISC, 1, 0, 0, 6, PIPE_MISC, 1, 2, 1]
    + [PIPE_NEW, 0, 1, PIPE_BIND, 2, 9, 0, PIPE_BIND, 2, 4, BIND2 | 6, 1]
    + run(ONCE, 2),
    "pipe_accept_into": [PIPE_NEW, 0, 1, PIPE_BIND, 0, 1, LISTEN_FLAG | LISTEN_CB, 4,
                         PIPE_NEW, 0, 1, PIPE_CONNECT, 1, 1, CB]
    + run(ONCE, 3) + [ACCEPT, 0, ACC_INTO_NEW, 0, ACCEPT, 0, ACC_INTO_NEW, 1]
    + [READ_START, 3, 1] + write(1, 2, 9) + run(ONCE, 3),
    "pipe_sync": [PIPE_NEW, 0, 1, PIPE_BIND, 0, 2, LISTEN_FLAG, 4, PIPE_NEW, 0, 1,
                  SYNC, 1, 3, 1, 2, ACCEPT, 0, ACC_STREAM_SYNC]
    + [SYNC, 1, 1, 2, 20, SYNC, 2, 2, 0, 1, 1] + run(NOWAIT),
    "pipe_open_detached": [SOCKETPAIR, 0, DETACH_OPEN, 0, 1, PIPE_NEW, 0, 1,
                           DETACH_OPEN, 2, 0, 0, 1, READ_START, 2, 1]
    + write(1, 2, 5) + run(ONCE, 2),
    "watchers": [WATCHER, PREPARE, W_NEW, WATCHER, CHECK, W_NEW, WATCHER, IDLE, W_NEW,
                 WATCHER, PREPARE, W_START, 0, WATCHER, CHECK, W_START, 1,
                 WATCHER, IDLE, W_START, 2]
    + run(ONCE, 2) + [LOOP2, 7, WATCHER, IDLE, W_STOP, 2, WATCHER, PREPARE, W_NEW]
    + run(ONCE) + [NESTED, WATCHER, PREPARE, W_START, 3] + run(ONCE, 2)
    + [WATCHER, CHECK, W_STOP, 1, WATCHER, PREPARE, W_START, 1] + run(DEFAULT)
    + [CLOSE, 0] + run(ONCE),
    "req_write_cancel": pair() + write(0, 6)
    + [REQ_WRITE, 0, R_WRITE | CB, 2, 100, REQ_WRITE, 0, R_WRITE | CB, 2, 50,
       REQ_WRITE, 0, R_WRITEV | CB, 2, 2, 30, 2, 40, REQ_WRITE, 0, R_WRITE, 2, 70]
    + [REQ_USE, CANCEL, 1, REQ_USE, TYPE, 0, REQ_USE, CANCEL, 3, REQ_USE, RELEASE, 0]
    + run(ONCE, 6) + [REQ_USE, CANCEL, 0],
    "req_cancel_now": pair() + write(0, 6)
    + [REQ_WRITE, 0, R_WRITE | CB | CANCEL_NOW, 2, 100,
       REQ_WRITE, 0, R_WRITE | CB | NO_REQ, 2, 20,
       REQ_WRITE, 0, R_OTHER | CB | SHUTDOWN_REQ | CANCEL_NOW]
    + write(0, 2, 10) + run(ONCE, 6),
    "req_connect_cancel": [TCP_NEW, 3, LISTEN, 0, 1, 0, 0, 1, 16, TCP_NEW, 3,
                           REQ_WRITE, 1, R_OTHER | CB, 1, 0, REQ_USE, CANCEL, 0]
    + run(ONCE, 3) + [TCP_NEW, 3, REQ_WRITE, 2, R_OTHER | CB | CANCEL_NOW, 1, 0]
    + run(ONCE, 3) + [REQ_USE, CANCEL, 0, REQ_USE, TYPE, 1] + [CLOSE, 1, CLOSE, 2]
    + run(ONCE, 2) + [REQ_USE, TYPE, 0],
    "req_pipe_connect": [PIPE_NEW, 0, 1, PIPE_BIND, 0, 0, LISTEN_FLAG | LISTEN_CB, 4,
                         PIPE_NEW, 0, 1, PIPE_CONNECT, 1, 0, 2 | CB,
                         REQ_USE, CANCEL, 0] + run(ONCE, 3)
    + [PIPE_CONNECT, 1, 0, 2 | CB] + run(ONCE, 3) + [REQ_USE, TYPE, 0],
    "write2_handover": ipc_and_pair() + write(2, 2, 30) + run(ONCE, 2)
    + [REQ_WRITE, 0, R_WRITE2 | CB | HANDOVER, 2, 1, 10] + run(ONCE, 3)
    + [PIPE_MISC, 1, 4, ACCEPT, 1, ACC_STREAM, 1, READ_START, 2, 1]
    + write(2, 2, 40) + write(3, 2, 40) + run(ONCE, 4),
    "write2_accept_into": ipc_and_pair()
    + [REQ_WRITE, 0, R_WRITE2 | CB | HANDOVER | NO_REQ, 3, 1, 3] + run(ONCE, 3)
    + [ACCEPT, 1, ACC_INTO_NEW, 1, ACCEPT, 1, ACC_INTO_NEW, 0, READ_START, 3, 1]
    + write(2, 2, 40) + run(ONCE, 4),
    "write2_not_accepted": ipc_and_pair()
    + [REQ_WRITE, 0, R_WRITE2 | CB, 2, 1, 1, REQ_WRITE, 0, R_WRITE2 | CB, 1, 1, 1,
       REQ_WRITE, 1, R_WRITE2 | CB, 0, 0]
    + run(ONCE, 3) + [PIPE_MISC, 1, 4, CLOSE, 1] + run(ONCE, 2),
    "write2_cancelled": ipc_and_pair() + write(0, 6)
    + [REQ_WRITE, 0, R_WRITE2 | CB | HANDOVER, 2, 1, 10, REQ_USE, CANCEL, 0]
    + write(0, 2, 10) + run(ONCE, 8) + [PIPE_MISC, 1, 4],
    "loop2": [ASYNC_NEW, LOOP2, 0, 2, 0, LOOP2, 0, 1, 0, LOOP2, 0, 0, 3,
              LOOP2, 1, LOOP2, 2, 0, LOOP2, 2, 5, LOOP2, 3, LOOP2, 4, 0, LOOP2, 4, 1,
              LOOP2, 5, 0, LOOP2, 5, 1, LOOP2, 6, 1, 0, LOOP2, 6, 0, 0, 0, LOOP2, 7]
    + [ASYNC_SEND, 0] + run(ONCE) + [NESTED, LOOP2, 1]
    + [ASYNC_SEND, 0] + run(DEFAULT) + [NESTED, LOOP2, 0, 2, 0]
    + [ASYNC_SEND, 0] + run(NOWAIT) + [NESTED, LOOP2, 5, 1] + [LOOP2, 3],
}

ADDR_SEEDS = {
    "v4": (0x81, 80, 64, "127.0.0.1"),
    "v4_bind": (0x81, 0, 64, "127.0.0.1"),
    "v4_short_name": (0x80, 8080, 5, "192.168.100.200"),
    "v4_bad": (0x80, 1, 64, "1.2.3.256"),
    "v4_port_range": (0x00, 70000, 64, "10.0.0.1"),
    "v6": (0x81, 443, 64, "::1"),
    "v6_full": (0x80, 1, 64, "2001:0db8:0000:0000:0000:ff00:0042:8329"),
    "v6_mapped": (0x81, 0, 64, "::ffff:127.0.0.1"),
    "v6_scope_name": (0x81, 0, 64, "fe80::1%lo"),
    "v6_scope_num": (0x80, 0, 64, "fe80::1%4294967295"),
    "v6_scope_bad": (0x80, 0, 64, "fe80::1%"),
    "v6_long": (0x80, 0, 64, "1111:2222:3333:4444:5555:6666:7777:8888:9999"),
    "v6_ipv6only_v4": (0x83, 0, 64, "127.0.0.1"),
    "v6_reuseport": (0x85, 0, 64, "::1"),
    "empty": (0x81, 0, 0, ""),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(os.path.join(out, "api"), exist_ok=True)
    os.makedirs(os.path.join(out, "addr"), exist_ok=True)
    for name, ops in API_SEEDS.items():
        with open(os.path.join(out, "api", name), "wb") as f:
            f.write(bytes(b & 0xFF for b in ops))
    for name, (flags, port, name_size, text) in ADDR_SEEDS.items():
        with open(os.path.join(out, "addr", name), "wb") as f:
            f.write(struct.pack("<BiI", flags, port, name_size) +
                    text.encode())


if __name__ == "__main__":
    main()
