"""The runner's verdicts, on programs built to earn each one. They use this
interpreter and need no flatuv: the prelude is not involved."""

import sys

from progfuzz import runner

END = 'print("PROGFUZZ-END")\n'


def run(text, timeout=10.0):
    return runner.run_text("python", text, timeout=timeout)


def test_ok():
    assert run(END).verdict == "ok"


def test_segfault_is_a_crash():
    result = run("import ctypes\nctypes.string_at(0)\n" + END)
    assert result.verdict == "crash", result


def test_fatal_error_is_a_crash():
    assert runner.classify("python", 0, "PROGFUZZ-END", "Fatal Python error: x\n", False)[0] == "crash"
    assert runner.classify("python", 0, "PROGFUZZ-END",
                           "==1==ERROR: AddressSanitizer: heap-use-after-free\n", False)[0] == "crash"
    assert runner.classify("python", 3, "", "SystemError: error return without exception set\n",
                           False)[0] == "crash"
    assert runner.classify("lua", -6, "", "PANIC: unprotected error in call to Lua API\n",
                           False)[0] == "crash"


def test_hang():
    result = run("import time\nwhile True:\n    time.sleep(0.1)\n", timeout=1.0)
    assert result.verdict == "hang"
    assert "in <module>" in result.signature   # where faulthandler saw it


def test_undocumented_exception():
    text = ('import sys\nsys.stderr.write("PROGFUZZ-UNDOCUMENTED: KeyError: 1\\n")\n'
            "sys.exit(3)\n")
    result = run(text)
    assert result.verdict == "undocumented"
    assert result.signature == "KeyError: 1"


def test_exception_escaping_is_an_error():
    assert run("raise KeyError(1)\n" + END).verdict == "error"


def test_ignored_exception_is_undocumented():
    text = ("class A:\n    def __del__(self):\n        raise KeyError(2)\n"
            "a = A()\ndel a\n" + END)
    assert run(text).verdict == "undocumented"


def test_rss_growth():
    text = ("import os\nkeep = []\n"
            "def rss():\n    return int(open('/proc/self/statm').read().split()[1]) * 4\n"
            "for i in range(12):\n"
            "    keep.append(bytearray(8 << 20))\n"
            "    print('PROGFUZZ-RSS', i, rss())\n" + END)
    result = run(text)
    assert result.verdict == "rss", result.stdout


def test_flat_rss_is_ok():
    samples = "".join("PROGFUZZ-RSS %d %d\n" % (i, 50000 + i) for i in range(12))
    assert runner.classify("python", 0, samples + "PROGFUZZ-END\n", "", False)[0] == "ok"


def test_missing_end_is_an_error():
    assert run("pass\n").verdict == "error"
