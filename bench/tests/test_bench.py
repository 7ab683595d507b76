"""Tests of the benchmark tools themselves: the load generator must catch a
server that echoes wrong bytes or hangs up early (else its req/s would
count broken echoes), and run.py must run a comparison end to end and
report errors through its exit status.

    FLATUV_BENCH_DIR=BUILD/bench python3 -m unittest discover -s bench/tests

FLATUV_BENCH_DIR is the CMake build's bench/ directory (fuv_loadgen and the
echo servers). ctest runs this when the benchmarks are built.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest

BENCH_DIR = os.environ.get("FLATUV_BENCH_DIR", "")
RUN_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "run.py")

# An echo server that misbehaves on purpose, in one of two ways: "flip"
# echoes everything but flips one bit of the 1000th byte of each
# connection's stream; "hangup" echoes the first 100 bytes and closes. Its
# second argument is a TCP port, or a path for a Unix domain socket.
BAD_SERVER = textwrap.dedent("""
    import socket, sys, threading
    mode, where = sys.argv[1], sys.argv[2]
    def serve(conn):
        seen = 0
        with conn:
            while True:
                data = bytearray(conn.recv(65536))
                if not data:
                    return
                if mode == "flip" and seen <= 999 < seen + len(data):
                    data[999 - seen] ^= 1
                if mode == "hangup" and seen + len(data) >= 100:
                    conn.sendall(data[:100 - seen])
                    return
                seen += len(data)
                conn.sendall(data)
    if where.isdigit():
        listener = socket.create_server(("127.0.0.1", int(where)))
    else:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(where)
        listener.listen()
    print("listening", where, flush=True)
    while True:
        conn, _ = listener.accept()
        if where.isdigit():
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
""")

# A UDP echo server that misbehaves on purpose: "flip" flips one bit of the
# 20th byte of every 50th datagram, "drop" echoes only every other one.
BAD_UDP_SERVER = textwrap.dedent("""
    import socket, sys
    mode, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("listening", port, flush=True)
    count = 0
    while True:
        data, addr = s.recvfrom(65536)
        count += 1
        data = bytearray(data)
        if mode == "flip" and count % 50 == 0:
            data[19] ^= 1
        if mode == "drop" and count % 2 == 0:
            continue
        s.sendto(data, addr)
""")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def program(name):
    return os.path.join(BENCH_DIR, name)


def require_programs(*names):
    """Fails (never skips) when the build's programs are not there."""
    missing = [n for n in names if not os.path.isfile(program(n))]
    if missing:
        raise AssertionError("FLATUV_BENCH_DIR=%r lacks %s" % (BENCH_DIR, missing))


class LoadgenVerifies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_programs("fuv_loadgen")

    def run_against_bad_server(self, mode, unix_path=None):
        where = unix_path or str(free_port())
        target = (["--unix", unix_path] if unix_path
                  else ["--host", "127.0.0.1", "--port", where])
        server = subprocess.Popen([sys.executable, "-c", BAD_SERVER, mode, where],
                                  stdout=subprocess.PIPE, text=True)
        try:
            self.assertIn("listening", server.stdout.readline())
            return subprocess.run(
                [program("fuv_loadgen")] + target +
                ["--conns", "2", "--size", "4096", "--duration", "0.5",
                 "--warmup", "0.1"],
                capture_output=True, text=True, timeout=60)
        finally:
            server.kill()
            server.wait()
            server.stdout.close()

    def test_a_flipped_bit_is_an_error(self):
        result = self.run_against_bad_server("flip")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("echoed bytes differ", result.stderr)
        self.assertRegex(result.stdout, r"errors=[1-9]")

    def test_an_early_hangup_is_an_error(self):
        result = self.run_against_bad_server("hangup")
        self.assertEqual(result.returncode, 1, result.stderr)
        # A FIN, or a reset when the server closed with bytes unread.
        self.assertRegex(result.stderr, "end of stream mid-message|reset by peer")

    def test_a_flipped_bit_over_a_unix_socket_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = self.run_against_bad_server(
                "flip", os.path.join(tmp, "bad.sock"))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("echoed bytes differ", result.stderr)
        self.assertRegex(result.stdout, r"errors=[1-9]")


class RunnerEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_programs("fuv_loadgen", "echo_flatuv", "echo_epoll")

    def test_compares_two_servers_and_reports_every_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report.json")
            result = subprocess.run(
                [sys.executable, RUN_PY, "--loadgen", program("fuv_loadgen"),
                 "--server", "flatuv=" + program("echo_flatuv"),
                 "--server", "epoll=" + program("echo_epoll"),
                 "--configs", "2x1024,2x65536", "--rounds", "2",
                 "--duration", "0.3", "--warmup", "0.1", "--steal-retries", "0",
                 "--json", report],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertIn("flatuv/epoll", result.stdout)
            self.assertIn("of medians", result.stdout)
            with open(report) as f:
                data = json.load(f)
        configs = data["configs"]
        self.assertEqual([(c["conns"], c["size"]) for c in configs],
                         [(2, 1024), (2, 65536)])
        for config in configs:
            self.assertEqual(len(config["runs"]), 4)  # 2 rounds x 2 servers
            for run in config["runs"]:
                self.assertEqual(run["errors"], 0)
                self.assertGreater(run["requests"], 0)
                self.assertGreaterEqual(run["steal"], 0.0)

    def test_compares_two_servers_over_unix_sockets(self):
        # Both kinds of name: a fresh path per run, and an abstract @NAME;
        # flatuv's fuv_pipe_t server against libuv's uv_pipe_t one.
        require_programs("echo_libuv")
        for transport in ("unix", "abstract"):
            with self.subTest(transport=transport):
                result = subprocess.run(
                    [sys.executable, RUN_PY, "--loadgen", program("fuv_loadgen"),
                     "--transport", transport,
                     "--server", "flatuv=" + program("echo_flatuv"),
                     "--server", "libuv=" + program("echo_libuv"),
                     "--configs", "2x65536", "--rounds", "2",
                     "--duration", "0.3", "--warmup", "0.1",
                     "--steal-retries", "0", "--json", "-"],
                    capture_output=True, text=True, timeout=120)
                self.assertEqual(result.returncode, 0,
                                 result.stdout + result.stderr)
                self.assertIn("pipe (Unix socket", result.stdout)
                data = json.loads(result.stdout[result.stdout.index("\n{") + 1:])
                self.assertEqual(data["transport"], transport)
                runs = data["configs"][0]["runs"]
                self.assertEqual(len(runs), 4)
                for run in runs:
                    self.assertEqual(run["errors"], 0)
                    self.assertGreater(run["requests"], 0)

    def test_a_server_that_breaks_echoes_fails_the_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = os.path.join(tmp, "bad_server.py")
            with open(bad, "w") as f:
                f.write(BAD_SERVER)
            result = subprocess.run(
                [sys.executable, RUN_PY, "--loadgen", program("fuv_loadgen"),
                 "--server", "flatuv=" + program("echo_flatuv"),
                 "--server", "bad=%s %s flip {port}" % (sys.executable, bad),
                 "--configs", "2x4096", "--rounds", "1",
                 "--duration", "0.3", "--warmup", "0.1", "--steal-retries", "0"],
                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        # Every connection fails at its first message, so the generator
        # gives up before its measured window: run.py says why and stops.
        self.assertRegex(result.stderr, "saw errors|echoed bytes differ")


def result_fields(stdout):
    """fuv_loadgen's result line as {name: number}."""
    line = [l for l in stdout.splitlines() if l.startswith("requests=")][0]
    return {k: float(v) for k, v in (f.split("=") for f in line.split())}


class UdpEcho(unittest.TestCase):
    """fuv_loadgen --proto udp against each UDP echo server, and against
    servers that break echoes or lose datagrams."""

    @classmethod
    def setUpClass(cls):
        require_programs("fuv_loadgen", "echo_udp_flatuv", "echo_udp_libuv",
                         "echo_udp_raw")

    def loadgen_against(self, argv, conns=4, size=1200, extra=()):
        port = str(free_port(socket.SOCK_DGRAM))
        server = subprocess.Popen(argv + [port], stdout=subprocess.PIPE,
                                  text=True)
        try:
            self.assertIn("listening", server.stdout.readline())
            return subprocess.run(
                [program("fuv_loadgen"), "--proto", "udp", "--port", port,
                 "--conns", str(conns), "--size", str(size),
                 "--duration", "0.3", "--warmup", "0.1"] + list(extra),
                capture_output=True, text=True, timeout=60)
        finally:
            server.terminate()
            server.wait(10)
            server.stdout.close()

    def test_every_server_echoes_every_byte(self):
        for name in ("echo_udp_flatuv", "echo_udp_libuv", "echo_udp_raw"):
            for conns, size in ((4, 64), (4, 1200), (2, 65507)):
                with self.subTest(server=name, conns=conns, size=size):
                    result = self.loadgen_against([program(name)], conns, size)
                    self.assertEqual(result.returncode, 0, result.stderr)
                    fields = result_fields(result.stdout)
                    self.assertEqual(fields["errors"], 0)
                    self.assertEqual(fields["total_lost"], 0)
                    self.assertGreater(fields["requests"], 0)

    def test_a_flipped_bit_is_an_error(self):
        result = self.loadgen_against(
            [sys.executable, "-c", BAD_UDP_SERVER, "flip"])
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("echoed datagram differs", result.stderr)

    def test_lost_datagrams_are_counted_not_waited_for(self):
        result = self.loadgen_against(
            [sys.executable, "-c", BAD_UDP_SERVER, "drop"],
            extra=["--timeout-ms", "20"])
        self.assertEqual(result.returncode, 0, result.stderr)
        fields = result_fields(result.stdout)
        self.assertGreater(fields["lost"], 0)
        self.assertGreater(fields["requests"], 0)
        self.assertEqual(fields["errors"], 0)

    def test_runner_compares_udp_servers(self):
        result = subprocess.run(
            [sys.executable, RUN_PY, "--loadgen", program("fuv_loadgen"),
             "--transport", "udp",
             "--server", "flatuv=" + program("echo_udp_flatuv"),
             "--server", "raw=" + program("echo_udp_raw"),
             "--configs", "2x64,2x1200", "--rounds", "2",
             "--duration", "0.3", "--warmup", "0.1",
             "--steal-retries", "0", "--json", "-"],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("== UDP, 2 conns x 1200 B", result.stdout)
        self.assertIn("flatuv/raw", result.stdout)
        data = json.loads(result.stdout[result.stdout.index("\n{") + 1:])
        self.assertEqual(data["transport"], "udp")
        self.assertEqual([(c["conns"], c["size"]) for c in data["configs"]],
                         [(2, 64), (2, 1200)])
        for config in data["configs"]:
            self.assertEqual(len(config["runs"]), 4)
            for run in config["runs"]:
                self.assertEqual(run["errors"], 0)
                self.assertGreater(run["requests"], 0)
                self.assertIn("lost", run)


if __name__ == "__main__":
    unittest.main()
