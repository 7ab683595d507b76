"""Docstrings of the generated Python: the header's documentation of each
C function (apigen.docs), a line on what Python converts, and the C
prototype last, so that every method says which C function it calls."""

import textwrap

TRIPLE = '"""'


def prototype(api, func):
    decl = api.docs.decls.get(func.cname)
    if decl is None or decl.prototype is None:
        return func.cname + "(...)"
    return decl.prototype


def compose(api, funcs, notes=(), own=None):
    """The docstring of a member reaching `funcs`: its own text (an
    override's), each function's documentation (once, where a getter and
    its setter share a comment), the Python notes, then "C: prototype" for
    each function."""
    parts = [own] if own else []
    seen = set()
    for func in funcs:
        if func.doc and func.doc not in seen:
            parts.append(func.doc)
            seen.add(func.doc)
    if notes:
        parts.append(textwrap.fill("Python: " + " ".join(notes), 72,
                                   break_on_hyphens=False))
    parts += ["C: " + prototype(api, f) for f in funcs]
    return "\n\n".join(parts)


def quote(text, indent):
    """text as a triple-quoted docstring at indent: backslashes and quotes
    escaped so that any header text reads back unchanged."""
    text = text.replace("\\", "\\\\").replace(TRIPLE, '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    lines = text.split("\n")
    out = [indent + TRIPLE + lines[0]]
    out += [(indent + line) if line.strip() else "" for line in lines[1:]]
    if len(lines) > 1:
        out.append(indent + TRIPLE)
    else:
        out[-1] += TRIPLE
    return "\n".join(out)


def swig_string(text):
    """text as a C string literal for a SWIG %feature."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def raw_docstring(api, name):
    """The SWIG function's docstring (flatuv._flatuv.fuv_x.__doc__): the
    prototype, then the header's paragraphs."""
    decl = api.docs.decls[name]
    return "\n\n".join(["C: " + decl.prototype] + api.docs.parts(name))
