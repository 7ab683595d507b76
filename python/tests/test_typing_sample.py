"""typing_sample.py, the program python/run_tests.sh type-checks with
mypy --strict against the installed stubs, also runs: its types are the
package's real ones."""

import os

from conftest import run_child

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typing_sample.py")


def test_the_typed_sample_runs():
    with open(SAMPLE) as f:
        code, out, err = run_child(f.read())
    assert code == 0, err
    assert out.strip() == "typing sample: ok"
