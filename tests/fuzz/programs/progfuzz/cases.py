"""Kept programs as cases: a regression file holds its header comments,
its repeat count and its operations, never the prelude and epilogue.

Those two are the fuzzer's (prelude_python.py, prelude_lua.py) and change
as the error policy and the guards improve; a case is always run inside
the current ones, so every regression is judged by today's rules, and the
prelude is written once rather than once per regression. `python -m
progfuzz show --file FILE` prints the whole program a case runs as.
"""

from . import prelude_lua, prelude_python
from .program import COMMENT, Program

PRELUDES = {"python": prelude_python, "lua": prelude_lua}

# The one line a case keeps of the prelude, read back by Program.repeat.
REPEAT_LINE = {"python": "PFZ_REPEAT = %d", "lua": "PFZ_REPEAT = %d"}


def standard(lang, ops=(), header=(), repeat=None):
    """A program of lang's current prelude and epilogue around ops."""
    module = PRELUDES[lang]
    program = Program(lang, module.PRELUDE, tuple(ops), module.EPILOGUE, tuple(header))
    return program.with_repeat(repeat) if repeat is not None else program


def render_case(program):
    """The text of a case: header, repeat line, operations."""
    case = Program(program.lang, REPEAT_LINE[program.lang] % program.repeat + "\n",
                   program.ops, "", program.header)
    return case.render()


def load(text, lang):
    """The program a file stands for: a case runs in the current prelude
    and epilogue; a whole program (as fuzz keeps them) runs as written."""
    program = Program.parse(text, lang)
    if is_case(program):
        return standard(lang, program.ops, program.header, program.repeat)
    return program


def is_case(program):
    """True for a file holding no prelude of its own."""
    body = [line for line in program.prelude.splitlines()
            if line.strip() and not line.lstrip().startswith(COMMENT[program.lang])]
    return len(body) <= 1 and not program.epilogue.strip()
