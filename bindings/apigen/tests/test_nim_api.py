"""Tests of apigen.emit_nim, the Nim binding's idiomatic layer
(flatuv/api.nim, included by nim/src/flatuv.nim).

    python3 -m pytest -q bindings/apigen/tests/test_nim_api.py

nim/tests/ tests what Nim users see; these test the generator: the procs it
makes by role, every one of them compiling at its exact C types, and issue
11's shapes (bindings/apigen/tests/shapes/) called from Nim, raw and
idiomatic, after regenerating from a copy of the header with no other edit.
They need the pinned SWIG, a C compiler and Nim ($NIM, else nim: skipped
without it).
"""

import glob
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
APIGEN = os.path.join(ROOT, "bindings", "apigen", "apigen")
SHAPES = os.path.join(HERE, "shapes")
NIM = os.environ.get("NIM", "nim")
CC = os.environ.get("CC", "cc")

from apigen import emit_nim  # noqa: E402

needs_nim = pytest.mark.skipif(shutil.which(NIM) is None,
                               reason="no Nim compiler (%s)" % NIM)


@pytest.fixture(scope="module")
def gen(api):
    return emit_nim.generator(api)


@pytest.fixture(scope="module")
def core_lib(tmp_path_factory):
    """The C core as a static library: $FLATUV_STATIC_LIB, else compiled
    here from core/src with the epoll backend."""
    given = os.environ.get("FLATUV_STATIC_LIB")
    if given and os.path.exists(given):
        return given
    out = tmp_path_factory.mktemp("core")
    objects = []
    for src in sorted(glob.glob(os.path.join(ROOT, "core", "src", "*.c"))):
        if os.path.basename(src) == "poll.c":
            continue
        obj = str(out / (os.path.basename(src) + ".o"))
        run([CC, "-c", "-O1", "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "core", "include"),
             "-I" + os.path.join(ROOT, "core", "src"), "-o", obj, src])
        objects.append(obj)
    lib = str(out / "libflatuv.a")
    run(["ar", "rcs", lib] + objects)
    return lib


def nim_lib_dir():
    out = subprocess.run([NIM, "dump", "--dump.format:json", "--hints:off",
                          os.devnull], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True)
    return json.loads(out.stdout)["libpath"]


def generate(tmp, interface, include, lib):
    """apigen's own command, as nim/build.sh runs it."""
    out = os.path.join(tmp, "gen")
    run([sys.executable, APIGEN, "nim", "--interface", interface, "-I", include,
         "--out", out, "--passc=-I" + include, "--passl=" + lib,
         "--passl=-lpthread"])
    return out


def nim_c(tmp, program, gen_dir, run_it=True, strict_c=None):
    exe = os.path.join(tmp, "prog")
    cache = os.path.join(tmp, "nimcache")
    run([NIM, "c", "--hints:off", "--nimcache:" + cache, "-o:" + exe,
         "--path:" + gen_dir, "--path:" + os.path.join(ROOT, "nim", "src"), program])
    if strict_c:
        # Nim hides C warnings; newer C compilers reject these outright.
        name = os.path.basename(program)
        for c_file in glob.glob(os.path.join(cache, "*.c")):
            if not os.path.basename(c_file).endswith(("flatuv.nim.c", name + ".c")):
                continue
            run([CC, "-fsyntax-only", "-Werror=incompatible-pointer-types",
                 "-Werror=int-conversion", "-I" + nim_lib_dir(), "-I" + strict_c, c_file])
    return run([exe]) if run_it else ""


# ---- by role ---------------------------------------------------------------

def proc_of(gen, head):
    for block in gen.text.split("\n\n"):
        if block.startswith(head):
            return block
    raise AssertionError("no proc starting %r in api.nim" % head)


def test_a_status_raises_and_a_predicate_is_a_bool(gen):
    body = proc_of(gen, "proc stop*(timer: Timer) =")
    assert 'discard check(rc, "stop")' in body
    assert "result = check(rc, \"isActive\") != 0" in proc_of(
        gen, "proc isActive*(handle: Handle): bool =")


def test_durations_are_checked_ms_and_callbacks_come_last(gen):
    body = proc_of(gen, "proc start*(timer: Timer; timeoutMs: int; repeatMs: int; "
                        "cb: TimerCallback) =")
    assert 'checkMs(timeoutMs, "start")' in body
    assert "timer.onTimer = cb" in body


def test_getters_and_setters_are_nim_properties(gen):
    proc_of(gen, "proc repeat*(timer: Timer): int =")
    proc_of(gen, "proc `repeat=`*(timer: Timer; repeatMs: int) =")
    proc_of(gen, "proc dueIn*(timer: Timer): int =")


def test_out_parameters_are_returned(gen):
    proc_of(gen, "proc getSockName*(tcp: TCP): tuple[ip: string, port: int] =")
    proc_of(gen, "proc linger*(tcp: TCP): tuple[on: int, seconds: int] =")
    proc_of(gen, "proc recv*(stream: Stream; size: int; timeoutMs: int = -1): string =")
    proc_of(gen, "proc accept*(server: Stream): TCP =")


def test_one_shot_callbacks_live_in_a_request(gen):
    body = proc_of(gen, "proc write*(stream: Stream; data: openArray[char]; "
                        "cb: WriteCallback = nil): Req {.discardable.} =")
    assert "GC_ref(req)" in body and "GC_unref(req)" in body
    # The request the C call made is the proc's result.
    assert "addr reqOut" in body and "result = newReq(reqOut)" in body
    assert "proc closeReset*(tcp: TCP; cb: CloseCallback = nil) =" in gen.text


def test_nim_names_and_defaults_from_the_interface(gen):
    proc_of(gen, "proc alive*(loop: Loop): bool =")
    proc_of(gen, "proc hasRef*(handle: Handle): bool =")
    proc_of(gen, "proc setKeepAlive*(tcp: TCP; enable: bool; delaySeconds: int = 60) =")
    assert "runNoWait" in gen.text and "familyNone" in gen.text


def test_overrides_are_left_to_the_overrides_file(gen):
    with open(os.path.join(ROOT, "nim", "src", "flatuv.nim")) as f:
        overrides = f.read()
    for cname in ("fuv_run", "fuv_version", "fuv_tcp_new", "fuv_tcp_bind",
                  "fuv_is_closing", "fuv_handle_loop", "fuv_err_name"):
        func = gen.api.function(cname)
        assert func.overridden_in("nim")
        assert "# %s" % cname in overrides, cname
    assert "proc run*" not in gen.text and "proc newTCP*" not in gen.text


def test_every_callback_typedef_has_a_trampoline(gen):
    """Every callback that a function bound in Nim takes; the pool's work
    callbacks are C's alone (fuv_queue_work is hidden), and have none."""
    for cname in gen.api.callbacks:
        if cname in ("fuv_work_cb", "fuv_after_work_cb"):
            assert cname not in gen.kinds
            continue
        kind = gen.kinds[cname]
        assert "proc %s(" % kind.trampoline in gen.text
        assert "%s* = proc (" % kind.type_name in gen.text


@needs_nim
def test_every_generated_proc_compiles_at_its_c_types(tmp_path, gen, core_lib):
    tmp = str(tmp_path)
    include = os.path.join(ROOT, "core", "include")
    gen_dir = generate(tmp, os.path.join(ROOT, "swig", "flatuv.i"), include, core_lib)
    calls = []
    for name, types, has_result in gen.procs:
        literal = {"openArray[char]": '""', "openArray[string]": '[""]'}
        args = ", ".join(literal.get(t, "default(%s)" % t) for t in types)
        calls.append("  %s%s(%s)" % ("discard " if has_result else "", name, args))
    assert len(calls) > 80
    program = os.path.join(tmp, "every_proc.nim")
    with open(program, "w") as f:
        f.write("# Every proc of flatuv/api, behind a condition false at run time.\n"
                "import std/os\nimport flatuv\nfrom flatuv/raw import nil\nif paramCount() > 1000:\n" +
                "\n".join(calls) + "\n")
    nim_c(tmp, program, gen_dir, run_it=False, strict_c=include)


# ---- the shapes of issue 11 ----------------------------------------------------

SHAPES_PROGRAM = textwrap.dedent("""\
    # Calls each function shapes.h adds, raw and idiomatic.
    import flatuv
    from flatuv/raw import nil
    {.compile: "shapes.c".}

    let loop = newLoop()
    let t = newTimer(loop)

    # A predicate: a bool in Nim, the C int in the raw layer.
    doAssert not t.isRepeating
    doAssert raw.isRepeating(t.cTimer) == 0

    # A call taking a callback: a closure, kept while registered.
    var fired = 0
    t.startOnce(5, proc (timer: Timer) =
      doAssert timer == t
      inc fired)
    # A getter with out-parameters: a tuple; raw: pointers.
    let (dueIn, repeat) = t.times
    doAssert repeat == 0 and dueIn <= 5
    var a, b: cint
    doAssert raw.getTimes(t.cTimer, addr a, addr b) == 0 and b == 0
    loop.run()
    doAssert fired == 1
    t.start(1000, 250, proc (timer: Timer) = discard)
    doAssert t.isRepeating and t.times.repeat == 250

    # A setter returning a status: a property; failures raise.
    t.referenced = false
    doAssert not t.hasRef
    t.referenced = true
    doAssert t.hasRef
    doAssert raw.setReferenced(t.cHandle, 0) == 0
    doAssert not t.hasRef

    # A new kind of handle: its class, its constructor, the handle's methods.
    let gauge = newGauge(loop)
    doAssert gauge of Handle and gauge.loop == loop and not gauge.isClosed
    var walked = 0
    loop.walk(proc (h: Handle) = inc walked)
    doAssert walked == 2
    var closed = false
    gauge.close(proc (h: Handle) =
      doAssert h == gauge
      closed = true)
    t.close()
    loop.run()
    doAssert closed and gauge.isClosed
    var failed = ""
    try:
      t.referenced = true
    except FlatuvError as e:
      failed = e.errorName
    doAssert failed == "EINVAL"
    var p: ptr raw.Gauge
    doAssert raw.init(addr p, loop.cLoop) == 0
    doAssert raw.close(cast[ptr raw.Handle](p), nil, nil) == 0
    loop.run()
    loop.close()
    echo "shapes ok"
    """)


@needs_nim
def test_each_shape_added_to_the_header_is_callable_raw_and_idiomatic(tmp_path, core_lib):
    tmp = str(tmp_path)
    include = os.path.join(tmp, "include")
    copy_header_with_shapes(include)
    shutil.copytree(os.path.join(ROOT, "swig"), os.path.join(tmp, "swig"))
    gen_dir = generate(tmp, os.path.join(tmp, "swig", "flatuv.i"), include, core_lib)
    with open(os.path.join(gen_dir, "flatuv", "api.nim")) as f:
        api_nim = f.read()
    # The rules name and convert each one.
    for line in ("proc isRepeating*(timer: Timer): bool =",
                 "proc `referenced=`*(handle: Handle; on: bool) =",
                 "proc times*(timer: Timer): tuple[dueIn: int, repeat: int] =",
                 "proc startOnce*(timer: Timer; timeoutMs: int; cb: TimerCallback) =",
                 "proc newGauge*(loop: Loop): Gauge =",
                 "  Gauge* = ref object of Handle"):
        assert line in api_nim, line
    shutil.copy(os.path.join(SHAPES, "shapes.c"), tmp)
    program = os.path.join(tmp, "use_shapes.nim")
    with open(program, "w") as f:
        f.write(SHAPES_PROGRAM)
    assert nim_c(tmp, program, gen_dir, strict_c=include).strip() == "shapes ok"
