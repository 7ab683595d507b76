"""Cases: regressions keep their operations and repeat count only, and run
inside the current prelude and epilogue."""

import glob
import os

import pytest

from progfuzz import cases, gen_lua, gen_python
from progfuzz.program import SUFFIX

REGRESSIONS = os.path.join(os.path.dirname(__file__), "..", "..", "regressions")


@pytest.mark.parametrize("gen", [gen_python, gen_lua], ids=["python", "lua"])
def test_a_case_runs_as_the_program_it_was_cut_from(gen):
    program = gen.generate(7).with_repeat(3).with_header(["found by seed 7"])
    text = cases.render_case(program)
    assert "PFZ_REPEAT = 3" in text
    longest = max(cases.standard(program.lang).prelude.splitlines(), key=len)
    assert longest not in text  # no prelude
    loaded = cases.load(text, program.lang)
    assert loaded.render() == program.render()


@pytest.mark.parametrize("gen", [gen_python, gen_lua], ids=["python", "lua"])
def test_a_whole_program_loads_as_written(gen):
    program = gen.generate(11)
    assert cases.load(program.render(), program.lang) == program


@pytest.mark.parametrize("lang", ["python", "lua"])
def test_every_regression_is_a_case(lang):
    files = glob.glob(os.path.join(REGRESSIONS, lang, "*" + SUFFIX[lang]))
    assert files
    for path in files:
        with open(path) as f:
            text = f.read()
        loaded = cases.load(text, lang)
        assert loaded.prelude == cases.standard(lang, repeat=loaded.repeat).prelude, path
        assert loaded.ops, path
