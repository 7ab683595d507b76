"""The declarations of a SWIG interface, read from `swig -xml` output.

SWIG parses the interface (swig/flatuv.i, which %includes the header) once;
its XML parse tree is what every generator of flatuv reads: the Nim raw
layer, and the model (apigen.model) that every binding's surface comes
from. Each declaration keeps its C name, the name after SWIG's %rename
(sym_name), its types in SWIG's notation ("p.q(const).char") and the
interface's annotations, the SWIG features named fuv:* (swig/api.i).

Constants that depend on system headers (FUV_EAGAIN = -EAGAIN) are given
their values by the C compiler (resolve_values).
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


class ApigenError(Exception):
    """A problem in the input that a generator cannot paper over."""


class Param:
    def __init__(self, name, ctype):
        self.name = name
        self.ctype = ctype


class Decl:
    """One declaration of the interface, in header order.

    kind is one of: constant, enum, opaque, alias, callback, function.
    cname is the C name, symname the name after SWIG's %rename (equal to
    cname when the interface did not rename it).
    """

    def __init__(self, kind, cname, symname, **fields):
        self.kind = kind
        self.cname = cname
        self.symname = symname
        self.ctype = fields.get("ctype")      # alias target, constant type
        self.ret = fields.get("ret")          # function / callback result
        self.params = fields.get("params", [])
        self.value = fields.get("value")      # constant expression (text)
        self.items = fields.get("items", [])  # enum items: Decl(constant)
        self.features = fields.get("features", {})  # %feature("fuv:x") -> {"x": value}
        self.value_int = None                 # set by resolve_values
        self.nimname = None

    @property
    def renamed(self):
        return self.symname != self.cname


def _attributes(node):
    """Returns a node's <attributelist> as a dict, and its parmlist."""
    attrs, parms = {}, []
    alist = node.find("attributelist")
    if alist is None:
        return attrs, parms
    for child in alist:
        if child.tag == "attribute":
            attrs[child.get("name")] = child.get("value")
        elif child.tag == "parmlist":
            for parm in child.findall("parm"):
                pattrs, _ = _attributes(parm)
                parms.append(Param(pattrs.get("name"), pattrs.get("type")))
    return attrs, parms


def _features(attrs):
    """The interface's annotations of a declaration: %feature("fuv:x", v)
    reaches the XML as the attribute feature_fuv_x."""
    prefix = "feature_fuv_"
    return {k[len(prefix):]: v for k, v in attrs.items() if k.startswith(prefix)}


def split_function_decl(decl):
    """Splits a SWIG decl "f(args).rest" into (args, rest); the argument
    list may itself hold parentheses."""
    if not decl.startswith("f("):
        raise ApigenError("not a function declarator: %r" % decl)
    depth = 0
    for i, ch in enumerate(decl):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return decl[2:i], decl[i + 2:]
    raise ApigenError("unbalanced declarator: %r" % decl)


class Interface:
    """The declarations of one interface, read from SWIG's XML."""

    def __init__(self):
        self.decls = []
        self.headers = []   # the C headers the declarations came from

    @classmethod
    def from_xml(cls, path, swiglib=None):
        root = ET.parse(path).getroot()
        iface = cls()
        iface._walk(root, swiglib)
        return iface

    def _walk(self, node, swiglib):
        for child in node:
            if child.tag == "include":
                attrs, _ = _attributes(child)
                name = attrs.get("name", "")
                if swiglib and os.path.abspath(name).startswith(swiglib):
                    continue  # SWIG's own library files declare nothing of ours
                if name.endswith((".h", ".hpp")) and name not in self.headers:
                    self.headers.append(name)
                self._walk(child, swiglib)
            elif child.tag in ("cdecl", "enum", "constant"):
                self._add(child)

    def _add(self, node):
        attrs, parms = _attributes(node)
        if "error" in attrs:
            # SWIG keeps a declaration it refused (e.g. a %rename onto an
            # existing name with the same parameters) and says why.
            raise ApigenError("SWIG: " + attrs["error"].strip())
        name = attrs.get("name")
        sym = attrs.get("sym_name", name)
        features = _features(attrs)
        if node.tag == "constant":
            self.decls.append(Decl("constant", name, sym,
                                   ctype=attrs.get("type"),
                                   value=attrs.get("value")))
        elif node.tag == "enum":
            self._add_enum(node, attrs, features)
        elif attrs.get("kind") == "function":
            args, rest = split_function_decl(attrs.get("decl", ""))
            del args  # the parmlist has the same types, with names
            self.decls.append(Decl("function", name, sym,
                                   ret=rest + attrs["type"], params=parms,
                                   features=features))
        elif attrs.get("kind") == "typedef":
            self._add_typedef(name, sym, attrs, parms, features)

    def _add_enum(self, node, attrs, features):
        # A typedef'd anonymous enum is named by its typedef (tdname).
        cname = attrs.get("tdname") or attrs.get("name")
        sym = attrs.get("sym_name", cname)
        if "tdname" not in attrs and not sym.startswith("$"):
            cname = "enum " + cname
        items = []
        for item in node.findall("enumitem"):
            iattrs, _ = _attributes(item)
            items.append(Decl("constant", iattrs["name"],
                              iattrs.get("sym_name", iattrs["name"]),
                              ctype="int", value=iattrs.get("enumvalue"),
                              features=_features(iattrs)))
        self.decls.append(Decl("enum", cname, sym, items=items,
                               features=features))

    def _add_typedef(self, name, sym, attrs, parms, features):
        ctype, decl = attrs.get("type", ""), attrs.get("decl", "")
        if ctype.startswith("enum "):
            return  # the enum node itself carries the typedef name
        if decl.startswith("p.f("):
            _, rest = split_function_decl(decl[2:])
            self.decls.append(Decl("callback", name, sym,
                                   ret=rest + ctype, params=parms,
                                   features=features))
        elif decl == "" and ctype.startswith("struct "):
            self.decls.append(Decl("opaque", name, sym, ctype=ctype,
                                   features=features))
        else:
            self.decls.append(Decl("alias", name, sym, ctype=decl + ctype))

    def all_decls(self):
        for decl in self.decls:
            yield decl
            if decl.kind == "enum":
                yield from decl.items


def pointee(ctype):
    """The base type behind exactly one pointer (ignoring qualifiers)."""
    t = re.sub(r"q\([^)]*\)\.", "", ctype or "")
    if t.startswith("p.") and not t.startswith("p.p."):
        return t[2:]
    return None


def split_swig_type(ctype):
    """Splits a SWIG type string ("p.q(const).char") into its declarator
    parts (["p", "q(const)"]) and base type ("char")."""
    parts = []
    rest = ctype
    while True:
        m = re.match(r"(p|r|q\([^)]*\)|a\([^)]*\))\.", rest)
        if m:
            parts.append(m.group(1))
            rest = rest[m.end():]
            continue
        if rest.startswith("f("):
            args, rest = split_function_decl(rest)
            parts.append("f(%s)" % args)
            continue
        return parts, rest


_INT_LITERAL = re.compile(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*$")
_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant,
                  ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod,
                  ast.LShift, ast.RShift, ast.BitOr, ast.BitAnd, ast.BitXor,
                  ast.USub, ast.UAdd, ast.Invert)


def eval_c_int(expr, known):
    """Evaluates a C integer constant expression made of literals, names in
    `known` and arithmetic; returns None when it cannot (an unknown name,
    such as a macro from a system header)."""
    out = []
    for tok in re.findall(r"\w+|<<|>>|\S", expr):
        if tok[0].isdigit():
            m = _INT_LITERAL.match(tok)
            if not m:
                return None
            out.append(str(int(m.group(1), 0 if not re.match(r"0[0-7]", m.group(1))
                                else 8)))
        elif tok[0].isalpha() or tok[0] == "_":
            if tok not in known:
                return None
            out.append("(%d)" % known[tok])
        elif tok == "/":
            out.append("//")
        elif tok in "+-*%|&^~()" or tok in ("<<", ">>"):
            out.append(tok)
        else:
            return None
    try:
        tree = ast.parse(" ".join(out), mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            return None
    return eval(compile(tree, "<c-expr>", "eval"))  # only whitelisted nodes


def probe_with_c_compiler(names, header, include_dirs, cc):
    """Asks the C compiler for the values of constants that depend on system
    headers (FUV_EAGAIN = -EAGAIN, FUV_SOCK_STREAM = SOCK_STREAM): compiles
    and runs a program that prints them."""
    tmp = tempfile.mkdtemp(prefix="apigen-probe-")
    try:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write("#include <stdio.h>\n#include \"%s\"\n" % header)
            f.write("int main(void) {\n")
            for name in names:
                f.write('  printf("%%s %%lld\\n", "%s", (long long)(%s));\n'
                        % (name, name))
            f.write("  return 0;\n}\n")
        cmd = cc.split() + ["-o", exe, src]
        for inc in include_dirs:
            cmd.insert(1, "-I" + inc)
        subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
        out = subprocess.run([exe], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise ApigenError("cannot evaluate %s with the C compiler (%s): %s"
                          % (", ".join(names), cc, detail))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    values = {}
    for line in out.splitlines():
        name, value = line.split()
        values[name] = int(value)
    return values


def resolve_values(iface, header, include_dirs, cc):
    """Gives every integer constant of the interface its value."""
    known, unresolved = {}, []
    for decl in iface.decls:
        if decl.kind == "constant":
            if is_string_type(decl.ctype):
                continue
            decl.value_int = eval_c_int(decl.value or "", known)
            if decl.value_int is None:
                unresolved.append(decl)
            else:
                known[decl.cname] = decl.value_int
        elif decl.kind == "enum":
            previous = -1
            for item in decl.items:
                if item.value is None:
                    item.value_int = None if previous is None else previous + 1
                else:
                    item.value_int = eval_c_int(item.value, known)
                if item.value_int is None:
                    unresolved.append(item)
                else:
                    known[item.cname] = item.value_int
                previous = item.value_int
    if unresolved:
        probed = probe_with_c_compiler([d.cname for d in unresolved],
                                       header, include_dirs, cc)
        for decl in unresolved:
            decl.value_int = probed[decl.cname]
        # Implicit enum values after a probed one follow from it.
        for decl in iface.decls:
            if decl.kind == "enum":
                for prev, item in zip(decl.items, decl.items[1:]):
                    if item.value is None:
                        item.value_int = prev.value_int + 1


def run_swig(swig, interface, include_dirs, xml_out):
    """Writes SWIG's XML for the interface and returns SWIG's library
    directory, whose files declare nothing of ours."""
    cmd = [swig.binary, "-xml"]
    cmd += ["-I" + d for d in include_dirs]
    cmd += ["-o", xml_out, interface]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=swig.env())
    if proc.returncode != 0:
        raise ApigenError("%s failed:\n%s%s"
                          % (" ".join(cmd), proc.stdout, proc.stderr))
    sys.stderr.write(proc.stderr)  # SWIG's warnings
    lib = swig.run(["-swiglib"], stdout=subprocess.PIPE,
                   universal_newlines=True).stdout.strip()
    return os.path.abspath(lib) if lib else None


def is_string_type(ctype):
    return ctype in ("p.char", "p.q(const).char")
