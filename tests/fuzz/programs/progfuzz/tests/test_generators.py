"""The generators: one program per seed, valid source, operations that
survive the parse the minimizer relies on."""

import ast
import shutil
import subprocess

import pytest

from progfuzz import gen_lua, gen_python
from progfuzz.program import Program

SEEDS = range(60)


@pytest.mark.parametrize("gen", [gen_python, gen_lua], ids=["python", "lua"])
def test_same_seed_same_program(gen):
    for seed in (0, 1, 12345):
        assert gen.generate(seed).render() == gen.generate(seed).render()
    assert gen.generate(1).render() != gen.generate(2).render()


def test_python_programs_compile():
    for seed in SEEDS:
        ast.parse(gen_python.generate(seed).render(), "seed %d" % seed)


@pytest.mark.skipif(not shutil.which("luac5.4"), reason="luac5.4 is not installed")
def test_lua_programs_compile(tmp_path):
    for seed in SEEDS:
        path = tmp_path / ("s%d.lua" % seed)
        path.write_text(gen_lua.generate(seed).render())
        subprocess.run(["luac5.4", "-p", str(path)], check=True)


@pytest.mark.parametrize("gen,lang", [(gen_python, "python"), (gen_lua, "lua")])
def test_render_parse_round_trip(gen, lang):
    for seed in range(10):
        program = gen.generate(seed)
        back = Program.parse(program.render(), lang)
        assert back.ops == program.ops
        assert back.repeat == program.repeat
        assert back.render() == program.render()


def test_any_subset_of_operations_compiles():
    """The minimizer drops operations: every subset must stay valid."""
    program = gen_python.generate(7)
    for i in range(len(program.ops)):
        ast.parse(program.with_ops(program.ops[:i] + program.ops[i + 1:]).render())
    ast.parse(program.with_ops(program.ops[::3]).render())
    ast.parse(program.with_ops([]).render())


def test_repeat_can_be_lowered():
    program = gen_python.generate(3).with_repeat(1)
    assert program.repeat == 1
    assert "PFZ_REPEAT = 1\n" in program.render()
