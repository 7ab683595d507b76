"""The minimizer: ddmin on lists, and on a real failing program."""

from progfuzz import minimize, runner
from progfuzz.program import Program

PRELUDE = "import os\nPFZ_REPEAT = 3\nfor _rep in range(PFZ_REPEAT):\n    pass\n"
EPILOGUE = 'print("PROGFUZZ-END")\n'


def test_ddmin_finds_the_pair():
    calls = []

    def fails(items):
        calls.append(items)
        return 3 in items and 17 in items

    assert minimize.ddmin(range(40), fails) == [3, 17]
    assert len(calls) < 80


def test_ddmin_single_and_empty():
    assert minimize.ddmin(range(10), lambda s: 5 in s) == [5]
    assert minimize.ddmin(range(5), lambda s: True) == []


def test_shrinks_a_crashing_program_to_its_culprit():
    ops = ["    x%d = %d" % (i, i) for i in range(12)]
    ops.insert(7, "    import ctypes; ctypes.string_at(0)")
    program = Program("python", PRELUDE, tuple(ops), EPILOGUE)
    original = runner.run_program(program)
    assert original.verdict == "crash"
    small = minimize.minimize(program, minimize.make_test(original, timeout=10, tries=1))
    assert small.ops == ("    import ctypes; ctypes.string_at(0)",)
    assert small.repeat == 1
