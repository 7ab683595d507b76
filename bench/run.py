#!/usr/bin/env python3
"""Compare echo servers with fuv_loadgen: alternating rounds, pinned cores,
median ratios of throughput and of server CPU time per request.

Servers are given as NAME=COMMAND. The command gets the port as its last
argument, or wherever it says {port}, and must print a line containing
"listening" on stdout once it accepts connections. The first server is the
subject: every other one is a baseline it is compared with.

With --transport unix (or abstract) the servers listen on a Unix domain
stream socket instead: the command gets a fresh filesystem path (or @NAME,
an abstract name) in place of the port, and the load generator connects
there.

    python3 bench/run.py                       # flatuv, libuv, epoll from build/
    python3 bench/run.py --server flatuv=build/bench/echo_flatuv \\
                         --server libuv=build/bench/echo_libuv --rounds 7
    python3 bench/run.py --syscalls            # system calls per request
    python3 bench/run.py --transport unix --configs 10x1024,10x65536
    python3 bench/run.py --transport udp       # UDP: flatuv, libuv, raw

With --transport udp the servers are UDP echo servers bound to 127.0.0.1
and the given port (default: echo_udp_flatuv, echo_udp_libuv and
echo_udp_raw), and fuv_loadgen runs with --proto udp: CONNS clients with
one datagram of BYTES each in flight, every echo checked byte for byte, a
datagram not echoed in time counted as lost (the "lost" column) rather
than waited for. "req/s" is then datagrams echoed per second and "CPU
us/req" the server's CPU time per datagram.

Each run starts the server afresh, pinned to one core, and the load
generator pinned to another. The server's CPU time (utime + stime of the
server and its descendants, from /proc/PID/stat) is read when the load
generator reports that its warm-up is over and again when it reports its
result, so it covers exactly the measured window.

Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
DEFAULT_CONFIGS = "1x1024,10x1024,100x1024,10x65536"
DEFAULT_SERVERS = ("flatuv", "libuv", "epoll")
DEFAULT_UDP_CONFIGS = "10x64,10x1200,100x1200"
# The UDP servers' names in the tables, and their programs' names.
DEFAULT_UDP_SERVERS = (("flatuv", "echo_udp_flatuv"), ("libuv", "echo_udp_libuv"),
                       ("raw", "echo_udp_raw"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_S = 20.0


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

def free_port(kind=socket.SOCK_STREAM):
    """A port nobody listens on now (the server binds it a moment later);
    kind SOCK_DGRAM for a UDP one."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin(cpu, argv):
    return (["taskset", "-c", str(cpu)] + argv) if cpu is not None else argv


class Endpoints:
    """Where each run's server listens: a free TCP port, or a fresh Unix
    socket name (a path in a directory of this invocation's own, removed
    at exit, or an abstract @NAME), never one an earlier run used."""

    def __init__(self, transport):
        self.transport = transport
        self.count = 0
        self.dir = (tempfile.mkdtemp(prefix="fuv-bench-")
                    if transport == "unix" else None)

    def next(self):
        self.count += 1
        if self.transport == "tcp":
            return str(free_port())
        if self.transport == "udp":
            return str(free_port(socket.SOCK_DGRAM))
        if self.transport == "unix":
            return os.path.join(self.dir, "echo-%d.sock" % self.count)
        return "@fuv-bench-%d-%d" % (os.getpid(), self.count)

    def close(self):
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)


def server_argv(command, endpoint):
    """The server's argv: the endpoint (a port, a path or @NAME) where the
    command says {port} (or {endpoint}), else as its last argument."""
    argv = shlex.split(command)
    marks = ("{port}", "{endpoint}")
    if any(m in a for a in argv for m in marks):
        out = []
        for a in argv:
            for m in marks:
                a = a.replace(m, endpoint)
            out.append(a)
        return out
    return argv + [endpoint]


def children_of():
    """Maps each pid to its child pids, from /proc/*/stat."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it exited while we looked
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def stolen_seconds(cpus):
    """CPU time the hypervisor took from the given cores (None: all), in
    seconds, from /proc/stat's steal column. On a VM this is the share of a
    run lost to other guests, which req/s cannot tell from a slow server."""
    names = {"cpu"} if cpus is None else {"cpu%d" % c for c in cpus}
    total = 0
    try:
        with open("/proc/stat") as f:
            for line in f:
                fields = line.split()
                if fields and fields[0] in names and len(fields) > 8:
                    total += int(fields[8])
    except OSError:
        return 0.0
    return total / CLOCK_TICKS


def busy_seconds(cpus):
    """Time the given cores (None: all) spent running anything, in seconds
    (user, nice, system, irq, softirq from /proc/stat). Less the server's
    and the load generator's own CPU, it is what other processes took from
    the pinned cores: the steal column does not see them, as they run in
    this machine."""
    names = {"cpu"} if cpus is None else {"cpu%d" % c for c in cpus}
    total = 0
    try:
        with open("/proc/stat") as f:
            for line in f:
                fields = line.split()
                if fields and fields[0] in names and len(fields) > 7:
                    total += sum(int(fields[i]) for i in (1, 2, 3, 6, 7))
    except OSError:
        return 0.0
    return total / CLOCK_TICKS


def cpu_seconds(pid):
    """utime + stime of pid and every live descendant, in seconds.

    A process's stat counts all its threads, finished ones included; the
    resolution is one clock tick (1/CLOCK_TICKS s)."""
    children = children_of()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total / CLOCK_TICKS


class Server:
    """One server process, started afresh, ready once it says so."""

    def __init__(self, name, command, port, cpu):
        self.name = name
        self.argv = pin(cpu, server_argv(command, port))
        self.stderr = tempfile.TemporaryFile()
        self.stderr_text = ""
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=self.stderr,
            stdin=subprocess.DEVNULL)
        self.ready = threading.Event()
        self.output = []
        # A thread drains stdout so that a chatty server never blocks on a
        # full pipe, and tells us when the "listening" line has come.
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.ready.wait(READY_TIMEOUT_S) or self.proc.poll() is not None:
            self.kill()
            raise BenchError("server %s (%s) did not print 'listening': %s"
                             % (name, shlex.join(self.argv), self.errors()))

    def _drain(self):
        with self.proc.stdout:
            for line in self.proc.stdout:
                self.output.append(line.decode(errors="replace"))
                if b"listening" in line:
                    self.ready.set()
        self.ready.set()  # exited: let the waiter see it

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def errors(self):
        """The end of what the server wrote on stderr."""
        if not self.stderr.closed:
            self.stderr.seek(0)
            self.stderr_text = self.stderr.read().decode(
                errors="replace").strip()[-2000:]
        return self.stderr_text

    def _reap(self):
        status = self.proc.wait()
        self.errors()
        self.stderr.close()
        return status

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s. Returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self._reap()

    def kill(self):
        if self.alive():
            self.proc.kill()
        self._reap()


def parse_result(line):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([-\d.]+)", line)}


def wait_status(pid):
    """Reaps pid; returns (exit code, its CPU seconds from rusage)."""
    _, status, usage = os.wait4(pid, 0)
    if hasattr(os, "waitstatus_to_exitcode"):
        code = os.waitstatus_to_exitcode(status)
    else:
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return code, usage.ru_utime + usage.ru_stime


def loadgen_target(endpoint):
    """fuv_loadgen's options for where the server listens."""
    if endpoint.isdigit():
        return ["--host", "127.0.0.1", "--port", endpoint]
    return ["--unix", endpoint]


def run_loadgen(args, endpoint, conns, size, duration, warmup, sample):
    """Runs fuv_loadgen against endpoint (a port, a path or @NAME). Calls
    sample() when the measured window starts and again when it ends, and
    returns (result, first sample, second sample)."""
    proto = ["--proto", "udp"] if args.transport == "udp" else []
    argv = pin(args.load_cpu, [args.loadgen] + loadgen_target(endpoint) + proto + [
        "--conns", str(conns), "--size", str(size),
        "--duration", str(duration), "--warmup", str(warmup)])
    at_start = at_end = result = None
    window_started = False
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr,
                                stdin=subprocess.DEVNULL)
        started = time.monotonic()
        with proc.stdout:
            for raw in proc.stdout:
                line = raw.decode(errors="replace").strip()
                if line == "warmup_done":
                    at_start = sample(proc.pid)
                    window_started = True
                elif line.startswith("requests="):
                    at_end = sample(proc.pid)
                    result = parse_result(line)
        # Reaped with wait4 for its CPU time, which tells whether the load
        # generator itself was near saturation.
        code, load_cpu = wait_status(proc.pid)
        proc.returncode = code
        wall = time.monotonic() - started
        stderr.seek(0)
        messages = stderr.read().decode(errors="replace").strip()
    if result is None or not window_started:
        raise BenchError("fuv_loadgen failed (exit %d): %s" % (code, messages))
    result["loadgen_exit"] = code
    result["loadgen_cpu_util"] = load_cpu / wall if wall > 0 else 0.0
    if messages:
        result["loadgen_stderr"] = messages[-1000:]
    return result, at_start, at_end


# --------------------------------------------------------------------------
# Throughput and CPU per request
# --------------------------------------------------------------------------

def one_run(args, name, command, conns, size):
    port = args.endpoints.next()
    server = Server(name, command, port, args.server_cpu)
    try:
        cores = (None if args.server_cpu is None
                 else [args.server_cpu, args.load_cpu])
        result, at_start, at_end = run_loadgen(
            args, port, conns, size, args.duration, args.warmup,
            lambda load_pid: (cpu_seconds(server.pid), stolen_seconds(cores),
                              busy_seconds(cores), cpu_seconds(load_pid)))
        died = not server.alive()
    finally:
        status = server.stop()
    requests = result["requests"]
    cpu = at_end[0] - at_start[0]
    ncores = len(cores) if cores is not None else (os.cpu_count() or 1)
    stolen = at_end[1] - at_start[1]
    # What the cores ran besides the two measured processes (other users'
    # builds, say); clock-tick resolution, so a percent or two is noise.
    others = max(0.0, (at_end[2] - at_start[2]) - cpu
                 - (at_end[3] - at_start[3]))
    run = {
        "server": name, "conns": conns, "size": size,
        "req_per_s": result["req_per_s"], "requests": requests,
        "seconds": result["seconds"],
        "p50_us": result["p50_us"], "p99_us": result["p99_us"],
        "errors": int(result["errors"]),
        "lost": int(result.get("lost", 0)),
        "server_cpu_s": cpu,
        "cpu_us_per_req": cpu * 1e6 / requests if requests else float("nan"),
        "server_cpu_util": cpu / result["seconds"] if result["seconds"] else 0,
        "loadgen_cpu_util": result["loadgen_cpu_util"],
        "steal": (stolen / (result["seconds"] * ncores)
                  if result["seconds"] else 0.0),
        "others": (others / (result["seconds"] * ncores)
                   if result["seconds"] else 0.0),
        "server_exit": status,
    }
    # A server may exit 0 or die of the SIGTERM that stops it; any other
    # end (a crash when the clients hung up, say) is an error.
    if died or status not in (0, -signal.SIGTERM):
        run["errors"] += 1
        run["note"] = "server %s (status %d): %s" % (
            "died during the run" if died else "ended badly", status,
            server.errors())
    return run


def ratio_stats(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values)}


def summarize(runs, names, rounds):
    """Medians per server and paired per-round ratios subject/baseline."""
    per_server = {}
    for name in names:
        mine = [r for r in runs if r["server"] == name]
        per_server[name] = {
            key: statistics.median(r[key] for r in mine)
            for key in ("req_per_s", "cpu_us_per_req", "p50_us", "p99_us",
                        "server_cpu_util", "loadgen_cpu_util", "steal",
                        "others")
        }
        per_server[name]["errors"] = sum(r["errors"] for r in mine)
        per_server[name]["lost"] = sum(r.get("lost", 0) for r in mine)
        per_server[name]["runs"] = len(mine)
    subject = names[0]
    ratios = {}
    for other in names[1:]:
        rps, cpu = [], []
        for i in range(rounds):
            a = [r for r in runs if r["server"] == subject and r["round"] == i]
            b = [r for r in runs if r["server"] == other and r["round"] == i]
            if not a or not b:
                continue
            a, b = a[0], b[0]
            if b["req_per_s"] > 0:
                rps.append(a["req_per_s"] / b["req_per_s"])
            if b["cpu_us_per_req"] > 0:
                cpu.append(a["cpu_us_per_req"] / b["cpu_us_per_req"])
        # The ratio of the two servers' medians as well: when single runs
        # swing widely it can differ from the median of per-round ratios,
        # and a reader should see that the two disagree.
        mine, theirs = per_server[subject], per_server[other]
        ratios["%s/%s" % (subject, other)] = {
            "req_per_s": ratio_stats(rps), "cpu_per_req": ratio_stats(cpu),
            "req_per_s_of_medians": (mine["req_per_s"] / theirs["req_per_s"]
                                     if theirs["req_per_s"] else None),
            "cpu_per_req_of_medians": (
                mine["cpu_us_per_req"] / theirs["cpu_us_per_req"]
                if theirs["cpu_us_per_req"] else None)}
    return {"servers": per_server, "ratios": ratios}


TRANSPORT_LABELS = {"tcp": "TCP", "unix": "pipe (Unix socket, path)",
                    "abstract": "pipe (Unix socket, abstract name)",
                    "udp": "UDP"}


def print_table(conns, size, summary, rounds, duration, transport="tcp"):
    print()
    print("== %s, %d conn%s x %d B: median of %d alternating rounds of "
          "%.1f s ==" % (TRANSPORT_LABELS[transport], conns,
                         "" if conns == 1 else "s", size, rounds, duration))
    print("%-10s %12s %11s %9s %9s %9s %9s %7s %6s %6s %6s" % (
        "server", "req/s", "CPU us/req", "srv CPU", "load CPU",
        "p50 us", "p99 us", "errors", "lost", "steal", "others"))
    for name, s in summary["servers"].items():
        print("%-10s %12.0f %11.2f %8.0f%% %8.0f%% %9.1f %9.1f %7d %6d "
              "%5.1f%% %5.1f%%" % (
                  name, s["req_per_s"], s["cpu_us_per_req"],
                  100 * s["server_cpu_util"], 100 * s["loadgen_cpu_util"],
                  s["p50_us"], s["p99_us"], s["errors"], s["lost"],
                  100 * s["steal"], 100 * s["others"]))
    if summary.get("runs_repeated_for_steal"):
        print("(%d runs repeated: the hypervisor took more than the "
              "--max-steal share of the cores)" % summary["runs_repeated_for_steal"])
    for pair, r in summary["ratios"].items():
        def fmt(x, of_medians):
            if x is None:
                return "n/a"
            text = "%.3f [%.3f-%.3f]" % (x["median"], x["min"], x["max"])
            if of_medians is not None:
                text += " (of medians %.3f)" % of_medians
            return text
        print("%-18s req/s ratio %s   CPU/req ratio %s" % (
            pair, fmt(r["req_per_s"], r["req_per_s_of_medians"]),
            fmt(r["cpu_per_req"], r["cpu_per_req_of_medians"])))
    sys.stdout.flush()


def throughput(args, servers, configs):
    report = []
    names = [n for n, _ in servers]
    for conns, size in configs:
        runs = []
        retried = 0
        for rnd in range(args.rounds):
            for name, command in servers:
                run = one_run(args, name, command, conns, size)
                # A run the hypervisor took much of is measuring the other
                # guests: run it again (a few times at most, then keep it).
                for _ in range(args.steal_retries):
                    if run["steal"] <= args.max_steal:
                        break
                    print("  round %d %s: %.1f%% of the cores stolen, "
                          "running it again" % (rnd, name, 100 * run["steal"]),
                          file=sys.stderr)
                    retried += 1
                    run = one_run(args, name, command, conns, size)
                run["round"] = rnd
                runs.append(run)
                if args.verbose:
                    print("  round %d %-8s %10.0f req/s %7.2f us/req "
                          "srv %3.0f%% load %3.0f%% steal %4.1f%% "
                          "others %4.1f%% errors %d lost %d" % (
                              rnd, name, run["req_per_s"],
                              run["cpu_us_per_req"],
                              100 * run["server_cpu_util"],
                              100 * run["loadgen_cpu_util"],
                              100 * run["steal"], 100 * run["others"],
                              run["errors"], run["lost"]),
                          file=sys.stderr)
        summary = summarize(runs, names, args.rounds)
        summary["runs_repeated_for_steal"] = retried
        print_table(conns, size, summary, args.rounds, args.duration,
                    args.transport)
        report.append({"conns": conns, "size": size, "runs": runs,
                       "summary": summary})
    return report


# --------------------------------------------------------------------------
# System calls per request
# --------------------------------------------------------------------------

def parse_strace_summary(path):
    """Parses `strace -c` output into {syscall: (calls, errors)}."""
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 5 or not fields[3].isdigit():
                continue
            name = fields[-1]
            if name == "total":
                continue
            errors = int(fields[4]) if len(fields) == 6 else 0
            counts[name] = (int(fields[3]), errors)
    return counts


def drain_and_close(stream):
    with stream:
        stream.read()


def attach_strace(pid, out_path, cpu):
    """Attaches strace -c -f to pid; returns once it has attached."""
    proc = subprocess.Popen(
        pin(cpu, ["strace", "-c", "-f", "-o", out_path, "-p", str(pid)]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL)
    # strace reports "Process N attached" on stderr once tracing starts.
    line = proc.stderr.readline().decode(errors="replace")
    if "attached" not in line:
        proc.kill()
        raise BenchError("strace could not attach: " + line.strip())
    threading.Thread(target=drain_and_close, args=(proc.stderr,),
                     daemon=True).start()
    return proc


def attach_perf(pid, out_path, cpu):
    """Counts pid's system calls with perf's raw_syscalls tracepoint."""
    proc = subprocess.Popen(
        pin(cpu, ["perf", "stat", "-x,", "-o", out_path,
                  "-e", "raw_syscalls:sys_enter", "-p", str(pid)]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL)
    # perf prints nothing when it starts; make sure it has not failed.
    try:
        proc.wait(0.5)
    except subprocess.TimeoutExpired:
        threading.Thread(target=drain_and_close, args=(proc.stderr,),
                         daemon=True).start()
        return proc
    with proc.stderr:
        raise BenchError("perf failed: " + proc.stderr.read().decode())


def parse_perf_output(path):
    with open(path) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) > 2 and "raw_syscalls:sys_enter" in fields[2]:
                return {"(all)": (int(fields[0]), 0)}
    raise BenchError("no syscall count in perf output " + path)


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def wait_for_fds(pid, count, timeout_s=5.0):
    """Polls until pid has at most count open fds: after the load
    generator exits, the server has closed every connection, so that their
    teardown is counted too. Gives up quietly after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while open_fds(pid) > count and time.monotonic() < deadline:
        time.sleep(0.01)


def syscall_run(args, name, command):
    port = args.endpoints.next()
    server = Server(name, command, port, args.server_cpu)
    out = tempfile.NamedTemporaryFile(prefix="fuv-syscalls-", suffix=".txt",
                                      delete=False)
    out.close()
    try:
        if args.syscall_tool == "strace":
            tracer = attach_strace(server.pid, out.name, args.server_cpu)
        else:
            tracer = attach_perf(server.pid, out.name, args.server_cpu)
        idle_fds = open_fds(server.pid)
        try:
            result, _, _ = run_loadgen(
                args, port, args.syscall_conns, args.syscall_size,
                args.syscall_seconds, 0, lambda _pid: None)
            wait_for_fds(server.pid, idle_fds)
        finally:
            tracer.send_signal(signal.SIGINT)  # detach and write the summary
            tracer.wait(30)
    finally:
        server.stop()
    if args.syscall_tool == "strace":
        counts = parse_strace_summary(out.name)
    else:
        counts = parse_perf_output(out.name)
    os.unlink(out.name)
    # Every request the server saw while traced, warm-up included.
    requests = int(result["total_requests"])
    total = sum(c for c, _ in counts.values())
    return {
        "server": name, "tool": args.syscall_tool,
        "conns": args.syscall_conns, "size": args.syscall_size,
        "requests": requests, "syscalls": total,
        "syscalls_per_req": total / requests if requests else float("nan"),
        "errors": int(result["errors"]),
        "by_syscall": {
            k: {"calls": c, "errors": e,
                "per_req": c / requests if requests else float("nan")}
            for k, (c, e) in sorted(counts.items(), key=lambda kv: -kv[1][0])
        },
    }


def syscalls(args, servers):
    print()
    print("== system calls per request, %s: %d conns x %d B, %.1f s under "
          "%s ==" % (TRANSPORT_LABELS[args.transport], args.syscall_conns,
                     args.syscall_size, args.syscall_seconds,
             "strace -c -f" if args.syscall_tool == "strace"
             else "perf stat -e raw_syscalls:sys_enter"))
    report = []
    for name, command in servers:
        r = syscall_run(args, name, command)
        report.append(r)
        print("%-10s %8.3f syscalls/request  (%d syscalls, %d requests, "
              "%d errors)" % (name, r["syscalls_per_req"], r["syscalls"],
                              r["requests"], r["errors"]))
        for sc, c in r["by_syscall"].items():
            if c["per_req"] >= args.syscall_threshold:
                extra = (" (%d failed: %.3f/req)"
                         % (c["errors"], c["errors"] / r["requests"])
                         if c["errors"] else "")
                print("    %-16s %9d calls %8.3f/req%s" % (
                    sc, c["calls"], c["per_req"], extra))
        sys.stdout.flush()
    return report


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_configs(text):
    configs = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*(\d+)x(\d+)\s*", item)
        if not m:
            raise argparse.ArgumentTypeError(
                "configuration %r is not CONNSxBYTES" % item)
        configs.append((int(m.group(1)), int(m.group(2))))
    return configs


def parse_server(text):
    name, sep, command = text.partition("=")
    if not sep or not name or not command:
        raise argparse.ArgumentTypeError("--server wants NAME=COMMAND")
    return name, command


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(REPO_DIR, "build"),
                   help="CMake build tree holding bench/ (default: %(default)s)")
    p.add_argument("--loadgen", help="fuv_loadgen binary "
                   "(default: BUILD_DIR/bench/fuv_loadgen)")
    p.add_argument("--server", action="append", type=parse_server,
                   metavar="NAME=COMMAND",
                   help="a server to compare; repeat. The first is compared "
                   "with each of the others. Default: flatuv, libuv and "
                   "epoll from BUILD_DIR/bench")
    p.add_argument("--configs", type=parse_configs,
                   help="CONNSxBYTES,... (default: %s; with --transport "
                   "udp %s)" % (DEFAULT_CONFIGS, DEFAULT_UDP_CONFIGS))
    p.add_argument("--rounds", type=int, default=5,
                   help="alternating rounds per configuration (default 5)")
    p.add_argument("--duration", type=float, default=3.0,
                   help="measured seconds per run (default 3)")
    p.add_argument("--warmup", type=float, default=0.5,
                   help="unmeasured seconds before each run (default 0.5)")
    p.add_argument("--server-cpu", type=int, default=0,
                   help="core for the server (default 0)")
    p.add_argument("--load-cpu", type=int, default=1,
                   help="core for the load generator (default 1)")
    p.add_argument("--no-pin", action="store_true",
                   help="do not pin with taskset")
    p.add_argument("--transport", choices=("tcp", "unix", "abstract", "udp"),
                   default="tcp",
                   help="tcp (default: 127.0.0.1 and a free port), unix (a "
                   "Unix domain stream socket at a fresh filesystem path), "
                   "abstract (one with a fresh abstract name, @NAME) or udp "
                   "(UDP echo servers on a free port); the servers get the "
                   "port, the path or @NAME")
    p.add_argument("--syscalls", action="store_true",
                   help="count system calls per request instead")
    p.add_argument("--syscall-tool", choices=("strace", "perf"),
                   default="strace",
                   help="strace -c -f (default; slows the server, so "
                   "batches grow) or perf's syscall tracepoint (full speed)")
    p.add_argument("--syscall-seconds", type=float, default=3.0)
    p.add_argument("--syscall-conns", type=int, default=10)
    p.add_argument("--syscall-size", type=int, default=1024)
    p.add_argument("--syscall-threshold", type=float, default=0.001,
                   help="list syscalls made at least this often per request")
    p.add_argument("--json", metavar="FILE",
                   help="also write every run and summary as JSON ('-' for "
                   "stdout)")
    p.add_argument("--max-steal", type=float, default=0.05,
                   help="repeat a run when the hypervisor stole more than "
                        "this share of the two cores (/proc/stat steal; "
                        "default 0.05)")
    p.add_argument("--steal-retries", type=int, default=3,
                   help="how often to repeat such a run at most (default 3; "
                        "0 keeps every run)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print each run on stderr as it finishes")
    args = p.parse_args()

    bench_bin = os.path.join(args.build_dir, "bench")
    args.loadgen = args.loadgen or os.path.join(bench_bin, "fuv_loadgen")
    if not os.access(args.loadgen, os.X_OK):
        p.error("no load generator at %s: build with -DFLATUV_BUILD_BENCH=ON "
                "or give --loadgen" % args.loadgen)
    if args.configs is None:
        args.configs = parse_configs(DEFAULT_UDP_CONFIGS
                                     if args.transport == "udp"
                                     else DEFAULT_CONFIGS)
    defaults = (DEFAULT_UDP_SERVERS if args.transport == "udp"
                else [(n, "echo_" + n) for n in DEFAULT_SERVERS])
    servers = args.server or [
        (n, os.path.join(bench_bin, prog)) for n, prog in defaults]
    if len({n for n, _ in servers}) != len(servers):
        p.error("server names must differ")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.no_pin or shutil.which("taskset") is None:
        if not args.no_pin:
            print("warning: taskset not found; not pinning", file=sys.stderr)
        args.server_cpu = args.load_cpu = None
    elif args.server_cpu == args.load_cpu:
        p.error("server and load generator need different cores")
    if args.syscalls and shutil.which(args.syscall_tool) is None:
        p.error("%s is not installed" % args.syscall_tool)

    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "host": platform.node(), "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "servers": dict(servers),
        "server_cpu": args.server_cpu, "load_cpu": args.load_cpu,
        "transport": args.transport,
    }
    print("# %s  %s  %d cpus  server on core %s, load on core %s" % (
        meta["date"], meta["kernel"], meta["cpus"], args.server_cpu,
        args.load_cpu))
    args.endpoints = Endpoints(args.transport)
    try:
        if args.syscalls:
            meta["syscalls"] = syscalls(args, servers)
        else:
            meta.update(rounds=args.rounds, duration=args.duration,
                        warmup=args.warmup)
            meta["configs"] = throughput(args, servers, args.configs)
    except BenchError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    finally:
        args.endpoints.close()
    if args.json:
        text = json.dumps(meta, indent=2)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as f:
                f.write(text + "\n")
    bad = [r for c in meta.get("configs", []) for r in c["runs"]
           if r["errors"]] + [r for r in meta.get("syscalls", [])
                              if r["errors"]]
    if bad:
        print("error: %d run(s) saw errors; see --json for details" % len(bad),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
