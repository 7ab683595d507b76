#!/usr/bin/env python3
"""Turns the comments of flatuv.h into SWIG docstrings.

    header_docs.py core/include/flatuv.h build/flatuv_docs.i

The header documents each function in a plain C comment just above it, and
a comment shared by a group of declarations covers each of them. A comment
that stands alone under a section banner (the synchronous calls' notes)
belongs to every function of that section. Callback typedefs are documented
the same way; a function taking one gets the typedef's note too.

The output holds one `%feature("docstring") fuv_x "...";` per function,
which python.i includes so the generated functions carry the header's text,
and the package's methods quote it (see flatuv/__init__.py). The header
keeps plain comments, so SWIG's -doxygen (which reads only /** */) cannot
do this by itself.
"""

import re
import sys

DECL_RE = re.compile(r"^FUV_EXTERN\s+(.*?)\b(fuv_\w+)\s*\((.*)\)\s*;$", re.S)
TYPEDEF_RE = re.compile(r"^typedef\s+void\s*\(\*\s*(fuv_\w+_cb)\s*\)\s*\((.*)\)\s*;$", re.S)
BANNER_RE = re.compile(r"^-+$")


def comment_text(raw):
    """The text of a /* ... */ comment, one line per line, markers removed."""
    body = raw.strip()[2:-2]
    lines = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("*"):
            line = line[1:]
            if line.startswith(" "):
                line = line[1:]
        lines.append(line.rstrip())
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def items(text):
    """Yields ("comment", text, followed_by_blank) and ("decl", text)."""
    pos = 0
    n = len(text)
    while pos < n:
        if text.startswith("/*", pos):
            end = text.index("*/", pos) + 2
            raw = text[pos:end]
            rest = text[end:]
            after = rest[: len(rest) - len(rest.lstrip(" \t"))]
            nl = rest[len(after):]
            blank = nl.startswith("\n") and nl[1:].lstrip(" \t").startswith("\n")
            yield ("comment", comment_text(raw), blank)
            pos = end
        elif (pos == 0 or text[pos - 1] == "\n") and (
                text.startswith("FUV_EXTERN ", pos) or text.startswith("typedef void (*", pos)):
            end = text.index(";", pos) + 1
            yield ("decl", " ".join(text[pos:end].split()))
            pos = end
        elif text[pos] == "\n" and text[pos + 1:pos + 2] == "\n":
            yield ("blank",)
            pos += 1
        else:
            pos += 1


def parse(text):
    """Returns (functions, callbacks): name -> (prototype, doc)."""
    functions, callbacks = {}, {}
    current = None   # the comment covering the declarations that follow
    section = None   # a stand-alone note of the current section
    for item in items(text):
        kind = item[0]
        if kind == "blank":
            current = None
        elif kind == "comment":
            doc, blank = item[1], item[2]
            if BANNER_RE.match(doc.replace(" ", "")):
                section = None
                current = None
            elif blank:
                # A note standing alone: a section title or a section's
                # rules. Titles are one short line between banners.
                section = doc if "\n" in doc or doc.endswith(".") else None
                current = None
            else:
                current = doc
        else:
            decl = item[1]
            m = DECL_RE.match(decl)
            if m:
                ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
                proto = f"{ret} {name}({params})".replace("* ", "*").replace(" *", " *")
                parts = [p for p in (current, section) if p]
                functions[name] = (proto, "\n\n".join(parts))
                continue
            m = TYPEDEF_RE.match(decl)
            if m:
                callbacks[m.group(1)] = (decl, current or "")
    return functions, callbacks


def swig_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(functions, callbacks):
    out = ["/* Generated from flatuv.h by python/tools/header_docs.py. */"]
    for name in sorted(functions):
        proto, doc = functions[name]
        text = f"C: {proto}"
        if doc:
            text += "\n\n" + doc
        for cb in sorted(callbacks):
            if re.search(rf"\b{cb}\b", proto):
                cdecl, cdoc = callbacks[cb]
                text += f"\n\nCallback {cdecl}"
                if cdoc:
                    text += "\n" + cdoc
        out.append(f"%feature(\"docstring\") {name} {swig_string(text)};")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: header_docs.py flatuv.h flatuv_docs.i")
    with open(argv[1], encoding="utf-8") as f:
        functions, callbacks = parse(f.read())
    if not functions:
        sys.exit("header_docs.py: no FUV_EXTERN declaration found")
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(render(functions, callbacks))


if __name__ == "__main__":
    main(sys.argv)
