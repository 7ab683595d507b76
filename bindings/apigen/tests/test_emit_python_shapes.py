"""Issue 11's "Done when" for Python: a copy of the header gains one
function of each shape (bindings/apigen/tests/shapes/shapes.h: a
predicate, a setter returning a status, a getter with out-parameters, a
call taking a callback, a constructor of a new handle kind), with no other
edit; the module is rebuilt from it by python/CMakeLists.txt (the build
the wheel uses, pointed at the copy) and each function is called from
Python: the method exists, its docstring comes from the copied header, and
its stub type-checks under mypy --strict.

    python3 -m pytest -q bindings/apigen/tests/test_emit_python_shapes.py

Needs CMake, a C compiler, Python's headers and the pinned SWIG (as the
wheel's build does); the mypy check needs mypy (python/run_tests.sh
installs it), else it is skipped.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from testlib import copy_header_with_shapes, run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SHAPES = os.path.join(HERE, "shapes")

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="no cmake")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The flatuv package built from the copied header and installed into a
    directory: (site dir, copied header's text)."""
    tmp = tmp_path_factory.mktemp("shapes")
    include = str(tmp / "include")
    copy_header_with_shapes(include)
    build, site = str(tmp / "build"), str(tmp / "site")
    run(["cmake", "-S", os.path.join(ROOT, "python"), "-B", build,
         "-DCMAKE_BUILD_TYPE=Release", "-DPython_EXECUTABLE=" + sys.executable,
         "-DFLATUV_HEADER_DIR=" + include,
         "-DFLATUV_EXTRA_SOURCES=" + os.path.join(SHAPES, "shapes.c")])
    run(["cmake", "--build", build, "-j2"])
    run(["cmake", "--install", build, "--prefix", site, "--component", "python"])
    with open(os.path.join(include, "flatuv.h")) as f:
        return site, f.read()


def run_python(site, source):
    env = dict(os.environ, PYTHONPATH=site)
    return run([sys.executable, "-c", textwrap.dedent(source)], env=env, cwd=site)


CALLS = """
    import inspect
    import json
    import flatuv

    out = {}
    loop = flatuv.Loop()
    timer = flatuv.Timer(loop)

    # A predicate: a read-only property, a bool.
    out["repeating"] = [timer.repeating]
    timer.repeat = 0.5
    out["repeating"].append(timer.repeating)
    timer.repeat = 0

    # A getter with out-parameters: a tuple.
    out["times"] = list(timer.get_times())

    # A call taking a callback; it runs from the loop.
    fired = []
    timer.start_once(0.001, lambda t: fired.append(t is timer))
    out["times_started"] = list(timer.get_times())
    loop.run()
    out["fired"] = fired

    # A setter returning a status: None, and an Error once closed.
    out["set"] = [timer.set_referenced(False), timer.has_ref()]
    timer.set_referenced(True)
    out["set"].append(timer.has_ref())

    # The constructor of a new handle kind: a class of its own.
    gauge = flatuv.Gauge(loop)
    out["gauge"] = [type(gauge).__name__, [c.__name__ for c in type(gauge).__mro__][:3],
                   gauge.active, gauge.closed]
    gauge.set_referenced(False)
    gauge.close()
    timer.close()
    loop.run()
    try:
        timer.set_referenced(True)
    except flatuv.Error as e:
        out["closed"] = e.name

    out["docs"] = {name: inspect.getdoc(obj) for name, obj in [
        ("repeating", flatuv.Timer.repeating), ("get_times", flatuv.Timer.get_times),
        ("start_once", flatuv.Timer.start_once),
        ("set_referenced", flatuv.Handle.set_referenced),
        ("gauge", flatuv.Gauge.__init__)]}
    out["c_api"] = {k: v for k, v in flatuv.C_API.items() if k in (
        "fuv_timer_is_repeating", "fuv_handle_set_referenced", "fuv_timer_get_times",
        "fuv_timer_start_once", "fuv_gauge_new")}
    loop.close()
    print(json.dumps(out))
"""


@needs_cmake
def test_each_shape_is_callable_from_python(site):
    site_dir, header = site
    out = json.loads(run_python(site_dir, CALLS).strip().split("\n")[-1])
    assert out["repeating"] == [False, True]
    assert out["times"] == [0, 0]
    assert out["times_started"][1] == 0 and out["times_started"][0] >= 0
    assert out["fired"] == [True]
    assert out["set"] == [None, False, True]
    assert out["gauge"] == ["Gauge", ["Gauge", "Handle", "HandleBase"], False, False]
    assert out["closed"] == "EINVAL"
    assert out["c_api"] == {
        "fuv_timer_is_repeating": "Timer.repeating",
        "fuv_handle_set_referenced": "Handle.set_referenced",
        "fuv_timer_get_times": "Timer.get_times",
        "fuv_timer_start_once": "Timer.start_once",
        "fuv_gauge_new": "Gauge.__init__",
    }
    # Each docstring is the copied header's comment and the C prototype.
    docs = out["docs"]
    for name, text in [
            ("repeating", "Returns 1 if the timer repeats"),
            ("get_times", "Writes the timer's time until due and its repeat interval"),
            ("start_once", "Runs cb once after timeout_ms"),
            ("set_referenced", "References (on) or unreferences the handle"),
            ("gauge", "Creates a gauge handle on the loop")]:
        assert text in " ".join(docs[name].split()), name
        assert text in " ".join(header.split())
        assert "\nC: int fuv_" in docs[name], name
    assert "timeout is in seconds" in " ".join(docs["start_once"].split())


SAMPLE = """
from typing import Tuple

import flatuv


def shapes(loop: flatuv.Loop) -> Tuple[bool, Tuple[int, int]]:
    timer = flatuv.Timer(loop)
    repeating: bool = timer.repeating
    timer.start_once(0.5, lambda t: t.stop())
    timer.set_referenced(False)
    gauge: flatuv.Gauge = flatuv.Gauge(loop)
    gauge.close(lambda handle: None)
    return repeating, timer.get_times()
"""

BAD_SAMPLE = """
import flatuv

loop = flatuv.Loop()
timer = flatuv.Timer(loop)
timer.repeating = True
timer.start_once("soon", lambda: None)
count: str = timer.get_times()
"""


@needs_cmake
def test_the_shapes_stubs_type_check(site, tmp_path):
    pytest.importorskip("mypy")
    site_dir, _ = site
    env = dict(os.environ, PYTHONPATH=site_dir, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(SAMPLE)
    bad.write_text(BAD_SAMPLE)
    out = run([sys.executable, "-m", "mypy", "--strict", str(good)], env=env)
    assert "Success" in out
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", str(bad)], env=env,
                          stdout=subprocess.PIPE, universal_newlines=True)
    assert proc.returncode == 1
    for line in ('Property "repeating" defined in "Timer" is read-only',
                 'Argument 1 to "start_once" of "Timer" has incompatible type "str"',
                 'Incompatible types in assignment (expression has type "tuple[int, int]"'):
        assert line in proc.stdout, proc.stdout
    stubtest = run([sys.executable, "-m", "mypy.stubtest", "flatuv"], env=env)
    assert "Success" in stubtest
