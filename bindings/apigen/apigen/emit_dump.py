"""The model as text (`python3 -m apigen dump`): what the rules and the
annotations made of each declaration, for reading and for review."""

import os


def lines(api):
    for klass in api.classes:
        base = " < %s" % klass.base.name if klass.base else ""
        kind = " [%s]" % klass.kind.cname if klass.kind else ""
        yield "class %s%s%s (%s)" % (klass.name, base, kind, klass.ctype)
        for func in klass.constructors:
            yield "  new %s(%s)" % (func.cname, _args(func))
        for func in klass.methods:
            yield "  %s(%s) -> %s  [%s]" % (func.name, _args(func),
                                            _result(func), func.cname)
    for func in api.module_functions:
        yield "%s(%s) -> %s  [%s]" % (func.name, _args(func), _result(func),
                                      func.cname)
    for enum in api.enums:
        yield "enum %s%s: %s" % (enum.name, " (used)" if enum.used else "",
                                 ", ".join(c.name for c in enum.items))


def _args(func):
    return ", ".join(repr(a) for a in func.inputs)


def _result(func):
    role = func.result.role
    if func.result.unit:
        role += " " + func.result.unit
    if func.result.enum:
        role += " " + func.result.enum.name
    outs = [a.role for a in func.outputs]
    return role + (" + " + ", ".join(outs) if outs else "")


def write(api, out_dir, options=None):
    path = os.path.join(out_dir, "api.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines(api)) + "\n")
    return [path]
