"""No input from Python can crash the process: fuzz_api.py drives every
public method with wrong types, None, huge and negative numbers, closed and
never-created handles, and asserts an exception each time, then walks
20,000 random calls. It runs in a subprocess, so a crash is a failure."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_public_method_rejects_bad_input_without_crashing(seed):
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", os.path.join(HERE, "fuzz_api.py"), str(seed)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, "exit %d\n%s\n%s" % (
        proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["missed"] == []
    assert result["checked"] > 2000
    assert result["walked"] == 20000
