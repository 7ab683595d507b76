"""A generated program: a fixed prelude, a list of operations, a fixed
epilogue, in one text that can be written, read back and cut.

The operations are what the minimizer drops, so each is delimited in the
text by a marker comment line ("# op N" in Python, "-- op N" in Lua): a
program saved to disk (a regression, a failing program) can be parsed back
into its operations and minimized again. The operations sit inside the
prelude's repeat loop, so the count of repeats (PFZ_REPEAT) is one number
of the prelude that the minimizer can lower too.
"""

import re
from dataclasses import dataclass, field, replace

COMMENT = {"python": "#", "lua": "--"}
SUFFIX = {"python": ".py", "lua": ".lua"}

OPS_BEGIN = "---- progfuzz ops ----"
OPS_END = "---- progfuzz end ----"
_REPEAT = re.compile(r"^(\s*(?:local\s+)?PFZ_REPEAT\s*=\s*)(\d+)", re.M)


@dataclass(frozen=True)
class Program:
    """One program of one language.

    header: comment lines (without the comment prefix) written first;
    prelude / epilogue: source text before and after the operations;
    ops: the operations' source, each one or a few lines, already indented.
    """

    lang: str
    prelude: str
    ops: tuple
    epilogue: str
    header: tuple = field(default=())

    @property
    def repeat(self):
        """The number of times the program runs its operations."""
        m = _REPEAT.search(self.prelude)
        return int(m.group(2)) if m else 1

    def with_ops(self, ops):
        """The same program with other operations (a subset, when cutting)."""
        return replace(self, ops=tuple(ops))

    def with_repeat(self, n):
        """The same program repeating its operations n times."""
        return replace(self, prelude=_REPEAT.sub(lambda m: m.group(1) + str(n),
                                                 self.prelude, count=1))

    def with_header(self, lines):
        """The same program under other header comment lines."""
        return replace(self, header=tuple(lines))

    def render(self):
        """The program's source text."""
        c = COMMENT[self.lang]
        out = ["%s %s" % (c, line) if line else c for line in self.header]
        out.append(self.prelude.rstrip("\n"))
        indent = _indent_of(self.ops[0]) if self.ops else _body_indent(self.prelude)
        out.append("%s%s %s" % (indent, c, OPS_BEGIN))
        for i, op in enumerate(self.ops):
            out.append("%s%s op %d" % (_indent_of(op), c, i))
            out.append(op.rstrip("\n"))
        out.append("%s%s %s" % (indent, c, OPS_END))
        out.append(self.epilogue.rstrip("\n"))
        return "\n".join(out) + "\n"

    @classmethod
    def parse(cls, text, lang):
        """Reads back a rendered program (header comments, prelude, ops,
        epilogue). Raises ValueError if the markers are missing."""
        c = re.escape(COMMENT[lang])
        lines = text.splitlines()
        begin = _find(lines, r"^\s*%s %s$" % (c, re.escape(OPS_BEGIN)))
        end = _find(lines, r"^\s*%s %s$" % (c, re.escape(OPS_END)))
        if begin is None or end is None or end < begin:
            raise ValueError("not a progfuzz program: no %r / %r markers"
                             % (OPS_BEGIN, OPS_END))
        header = []
        i = 0
        while i < begin and re.match(r"^%s( |$)" % c, lines[i]):
            header.append(re.sub(r"^%s ?" % c, "", lines[i]))
            i += 1
        prelude = "\n".join(lines[i:begin]) + "\n"
        ops, current = [], None
        for line in lines[begin + 1:end]:
            if re.match(r"^\s*%s op \d+$" % c, line):
                if current is not None:
                    ops.append("\n".join(current))
                current = []
            elif current is not None:
                current.append(line)
        if current is not None:
            ops.append("\n".join(current))
        epilogue = "\n".join(lines[end + 1:]) + "\n"
        return cls(lang, prelude, tuple(ops), epilogue, tuple(header))


def _find(lines, pattern):
    for i, line in enumerate(lines):
        if re.match(pattern, line):
            return i
    return None


def _indent_of(text):
    return re.match(r"\s*", text).group(0)


def _body_indent(prelude):
    """The indentation of the prelude's last line: where the ops go."""
    last = [line for line in prelude.splitlines() if line.strip()]
    return _indent_of(last[-1]) if last else ""
