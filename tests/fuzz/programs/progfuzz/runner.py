"""Runs one program in its own process and gives it a verdict.

The interpreter and its environment come from the caller's environment, so
that run.sh can point the fuzzer at a sanitizer build without the fuzzer's
own process loading it:

  PROGFUZZ_PYTHON   the Python that has flatuv installed (default: this one)
  PROGFUZZ_LUA      the Lua (default: lua5.4)
  PROGFUZZ_LUA_DIR  the directory holding flatuv.lua and flatuv/raw.so
  PROGFUZZ_PRELOAD  LD_PRELOAD for the programs only (libasan, libubsan)

The verdict of a finished run is decided by classify(), from the exit
status and the output alone, so that it can be tested without running
anything.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from .program import SUFFIX

VERDICTS = ("ok", "crash", "hang", "undocumented", "rss", "wrong", "error")

# RSS growth between the sample at a third of the repeats and the last one
# that is a verdict: relative, and at least this many KiB, so that a few
# pages of allocator noise in a small process are not a leak.
# Programs with fewer samples are not judged: under ASan, RSS grows over the
# first repeats while the allocator's quarantine fills.
RSS_GROWTH = 0.10
RSS_MIN_KB = 1024
RSS_MIN_SAMPLES = 10

_CRASH_PATTERNS = [
    re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)[^\n]*"),
    re.compile(r"[^\n]*runtime error: [^\n]*"),             # UBSan
    re.compile(r"Fatal Python error: [^\n]*"),
    re.compile(r"[^\n]*SystemError: [^\n]*"),
    re.compile(r"PANIC: unprotected error[^\n]*"),          # Lua's lua_atpanic
    re.compile(r"XXX lineno: [^\n]*"),                      # CPython's frame corrupted
]


@dataclass
class Result:
    """What one run gave: the verdict, a one-line signature of the cause
    (for grouping findings), the exit status and the output."""

    verdict: str
    signature: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def failed(self):
        return self.verdict != "ok"


def rss_samples(stdout):
    """The (repeat, KiB) pairs the program printed, in order."""
    return [(int(m.group(1)), int(m.group(2)))
            for m in re.finditer(r"^PROGFUZZ-RSS (\d+) (\d+)\s*$", stdout, re.M)]


def rss_growth(samples):
    """Growth of RSS from the sample at a third of the repeats to the last,
    as (ratio, KiB), or None with fewer than RSS_MIN_SAMPLES samples."""
    if len(samples) < RSS_MIN_SAMPLES:
        return None
    base = samples[len(samples) // 3][1]
    last = samples[-1][1]
    return (last - base) / base if base else 0.0, last - base


def _top_frame(stderr):
    """The first frame of a sanitizer report that is not the sanitizer's or
    libc's own, as "function file:line", for the signature."""
    for m in re.finditer(r"^\s*#\d+ 0x[0-9a-f]+ in (\S+) (\S+)", stderr, re.M):
        func, where = m.group(1), m.group(2)
        if re.match(r"(__interceptor_|__asan|__ubsan|__sanitizer|_?_?libc|raise|abort)",
                     func) or "libsanitizer" in where:
            continue
        return "%s %s" % (func, os.path.basename(where))
    return ""


def _python_hang_site(stderr):
    """The innermost frame of the main thread in faulthandler's dump."""
    m = re.search(r"(?:Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):\n"
                  r"\s+File \"[^\"]*\", line (\d+) in (\S+)", stderr)
    return "line %s in %s" % (m.group(1), m.group(2)) if m else ""


def classify(lang, returncode, stdout, stderr, timed_out):
    """The verdict and signature of a finished (or killed) run."""
    if timed_out:
        site = _python_hang_site(stderr) if lang == "python" else ""
        return "hang", ("hang " + site).strip()
    for pattern in _CRASH_PATTERNS:
        m = pattern.search(stderr)
        if m:
            sig = m.group(0).strip()
            sig = re.sub(r"==\d+==", "", sig)
            sig = re.sub(r"0x[0-9a-f]+", "0x?", sig)
            top = _top_frame(stderr)
            return "crash", (sig + (" at " + top if top else ""))[:300]
    if returncode < 0:
        return "crash", "killed by %s" % signal.Signals(-returncode).name
    m = re.search(r"^PROGFUZZ-UNDOCUMENTED: ([^\n]*)", stderr, re.M)
    if m:
        return "undocumented", m.group(1)[:200]
    m = re.search(r"^PROGFUZZ-WRONG: ([^\n]*)", stderr, re.M)
    if m:
        return "wrong", m.group(1)[:200]
    unraisable = _unraisable(stderr)
    if unraisable:
        return "undocumented", unraisable
    if returncode != 0 or "PROGFUZZ-END" not in stdout:
        last = [line for line in stderr.splitlines() if line.strip()]
        return "error", ("exit %d: %s" % (returncode, last[-1] if last else ""))[:200]
    growth = rss_growth(rss_samples(stdout))
    if growth and growth[0] > RSS_GROWTH and growth[1] >= RSS_MIN_KB:
        return "rss", "RSS grew %.0f%% (%d KiB)" % (growth[0] * 100, growth[1])
    return "ok", ""


def _unraisable(stderr):
    """An exception Python could not raise (in a finalizer, or a second
    callback failing after the first stopped run()) of a kind the program
    does not cause itself: a binding bug too. The program's Marker and the
    documented kinds (a callback of the wrong arity gives a TypeError) are
    not findings."""
    for block in re.split(r"(?=^Exception ignored)", stderr, flags=re.M):
        if not block.startswith("Exception ignored"):
            continue
        last = [line for line in block.splitlines() if line.strip()
                and not line.startswith((" ", "Traceback", "Exception ignored"))]
        what = last[0] if last else ""
        if re.match(r"(__main__\.)?(Marker|TypeError|ValueError|OverflowError)\b", what) \
                or re.search(r"Error: \[E[A-Z0-9]+\]", what):
            continue
        return "ignored: " + what[:180]
    return ""


def command(lang, path):
    """The command line and environment that run a program file."""
    env = dict(os.environ)
    preload = env.pop("PROGFUZZ_PRELOAD", "")
    if preload:
        env["LD_PRELOAD"] = preload
    # Sanitizer settings for the programs: CPython and Lua leak at exit by
    # design; a failing allocation is an error the binding reports rather
    # than a report of ASan's; a small quarantine keeps RSS meaningful.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:allocator_may_return_null=1:"
                   "quarantine_size_mb=4:handle_abort=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if lang == "python":
        return [env.get("PROGFUZZ_PYTHON", sys.executable), "-X", "faulthandler", path], env
    lua_dir = env.get("PROGFUZZ_LUA_DIR")
    if lua_dir:
        env["LUA_PATH"] = "%s/?.lua;;" % lua_dir
        env["LUA_CPATH"] = "%s/?.so;;" % lua_dir
    return [env.get("PROGFUZZ_LUA", "lua5.4"), path], env


# A program prints this line after each repeat of its operations; a hang
# is a program that makes no such progress for `timeout` seconds. Soak
# programs (many repeats, runs bounded by the guard timer) may take far
# longer than that in all, so the whole run is capped only at this many
# times the timeout.
PROGRESS = "PROGFUZZ-RSS"
TOTAL_TIMEOUTS = 6


def _drain(stream, lines, progress):
    """Reads a pipe to its end, noting the time of each progress line."""
    for line in stream:
        lines.append(line)
        if line.startswith(PROGRESS):
            progress[0] = time.monotonic()


def _wait_for_progress(proc, progress, timeout):
    """Waits for the process; True if it stalled (no progress line for
    timeout seconds) or ran past TOTAL_TIMEOUTS times it."""
    start = time.monotonic()
    while proc.poll() is None:
        now = time.monotonic()
        if now - progress[0] > timeout or now - start > TOTAL_TIMEOUTS * timeout:
            return True
        time.sleep(0.05)
    return False


def run_file(lang, path, timeout=20.0):
    """Runs a program file and returns its Result."""
    path = os.path.abspath(path)
    argv, env = command(lang, path)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=os.path.dirname(os.path.abspath(path)),
                            start_new_session=True, text=True, errors="replace")
    out_lines, err_lines, progress = [], [], [start]
    readers = [threading.Thread(target=_drain, args=(proc.stdout, out_lines, progress)),
               threading.Thread(target=_drain, args=(proc.stderr, err_lines, [0]))]
    for r in readers:
        r.start()
    timed_out = _wait_for_progress(proc, progress, timeout)
    if timed_out:
        # SIGABRT first: faulthandler dumps every thread's stack, which
        # tells where it hung; then the whole process group goes.
        _signal_group(proc, signal.SIGABRT)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    _signal_group(proc, signal.SIGKILL)  # any child the program left behind
    for r in readers:
        r.join()
    out, err = "".join(out_lines), "".join(err_lines)
    verdict, signature = classify(lang, proc.returncode, out, err, timed_out)
    return Result(verdict, signature, proc.returncode, out, err,
                  time.monotonic() - start)


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_text(lang, text, timeout=20.0, keep=None):
    """Runs program source text: written to keep (a path) if given, else to
    a temporary file removed afterwards."""
    if keep:
        with open(keep, "w") as f:
            f.write(text)
        return run_file(lang, keep, timeout)
    fd, path = tempfile.mkstemp(prefix="progfuzz-", suffix=SUFFIX[lang])
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return run_file(lang, path, timeout)
    finally:
        os.unlink(path)


def run_program(program, timeout=20.0, keep=None):
    """Runs a Program."""
    return run_text(program.lang, program.render(), timeout, keep)
