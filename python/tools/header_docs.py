#!/usr/bin/env python3
"""Turns the comments of flatuv.h into SWIG docstrings.

    header_docs.py core/include/flatuv.h build/flatuv_docs.i

The comments are read by bindings/apigen/apigen/docs.py, the one parser
every binding uses (its docstring lists the header's rules), so Python's
docstrings say what Nim's doc comments say. This file only writes them in
the form SWIG takes: one `%feature("docstring") fuv_x "...";` per function,
which python.i includes so the generated functions carry the header's text
(and the package's methods quote it; see flatuv/__init__.py). Each starts
with the C prototype, "C: ...".
"""

import os
import sys

# apigen is reached the way the wheel build reaches the rest of the
# repository: through python/repo/ (symlinks in a checkout, copies in an
# sdist), next to this tools/ directory.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "repo", "bindings", "apigen"))
from apigen import docs  # noqa: E402


def swig_string(s):
    """s as a C string literal for SWIG."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(index):
    """The %feature lines of every function of the DocIndex, by name."""
    out = ["/* Generated from flatuv.h by python/tools/header_docs.py. */"]
    for decl in sorted(index.functions(), key=lambda d: d.name):
        text = "\n\n".join(["C: " + decl.prototype] + index.parts(decl.name))
        out.append('%%feature("docstring") %s %s;' % (decl.name, swig_string(text)))
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: header_docs.py flatuv.h flatuv_docs.i")
    index = docs.parse_header(argv[1], prefix="fuv_")
    if not index.functions():
        sys.exit("header_docs.py: no function declaration found in " + argv[1])
    tmp = argv[2] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render(index))
    os.replace(tmp, argv[2])


if __name__ == "__main__":
    main(sys.argv)
