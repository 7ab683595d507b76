"""Reads the Python overrides file (python/flatuv/_overrides.py), the one
place of hand-written Python, and hands its pieces to the emitter.

The file is ordinary Python, never imported itself: its code is spliced
into the generated flatuv/__init__.py, so it uses the generated module's
names (_lib, TCP, AF_UNSPEC, ...) as they are there, and what it defines
is as direct as what is generated. Its parts:

  - its docstring: the package's docstring;
  - `class NAME:` for a generated class (Loop, Handle, TCP, ...): its
    docstring replaces the generated one and its members join the
    generated class; a member of a generated name replaces that member;
  - a member decorated `@override("fuv_x", ..., why="...")`, or assigned
    `name = override(EXPR, "fuv_x", why="...")`, is a hand-written
    wrapper of those C functions: the marker is removed, C_API maps the
    functions to it, and its docstring is followed by the functions'
    documentation from the header, as a generated method's is;
  - `if TYPE_CHECKING:` blocks only reach the stub (declarations of what
    the C runtime provides: Handle.loop, the `data` attributes);
  - ELSEWHERE = {...}: C functions whose Python face is the C runtime's
    or the binding's own, not a method; C_API maps them to that text;
  - any other module-level code (the Error class and factory) is spliced
    before the generated classes.

Annotations are written for the stub (the generated module has
`from __future__ import annotations`, so they are never evaluated).
"""

import ast

from .swigxml import ApigenError

MARKER = "override"


def _is_marker(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == MARKER)


def _marker_args(call, path, skip=0):
    """The C names and the reason of an override(...) marker."""
    names = []
    for arg in call.args[skip:]:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise ApigenError("%s:%d: override() takes C function names as "
                              "strings" % (path, call.lineno))
        names.append(arg.value)
    why = [k.value for k in call.keywords if k.arg == "why"]
    if not names or not why or not isinstance(why[0], ast.Constant) or \
            not str(why[0].value).strip():
        raise ApigenError("%s:%d: override() needs the C functions and why=\"...\" "
                          "(a one-line reason)" % (path, call.lineno))
    return names, why[0].value


def _is_type_checking(node):
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING")


class Member:
    """A member of an override class, or a module-level definition.

    cnames and why are set for marked overrides. render(doc) gives the
    runtime source with `doc` as its docstring (None keeps its own)."""

    def __init__(self, name, lines, node, cnames=(), why=None, assigned=None):
        self.name = name
        self.lines = lines        # [(text, kind)]: kind "doc" marks the docstring
        self.node = node
        self.cnames = list(cnames)
        self.why = why
        self.assigned = assigned  # the expression an assignment override binds
        self.doc = ast.get_docstring(node) if isinstance(
            node, (ast.FunctionDef, ast.ClassDef)) else None

    @property
    def is_override(self):
        return self.why is not None

    def render(self, quote, doc=None):
        """The runtime lines, with `doc` (default: its own docstring) as
        the docstring, written by quote(text, indent)."""
        doc = self.doc if doc is None else doc
        out = []
        for text, kind in self.lines:
            if kind == "doc":
                out.append(quote(doc, _indent_of(text)))
            elif kind == "doc-here":
                if doc is not None:
                    out.append(quote(doc, text))
            else:
                out.append(text)
        return out

    def __repr__(self):
        return "Member(%s)" % self.name


class MemberList:
    """A class's members by name, and the stub lines of its
    `if TYPE_CHECKING:` blocks: what an overrides class and a generated
    class's plan both hold."""

    def __init__(self):
        self.members = []
        self.stub_only = []

    def member(self, name):
        for m in self.members:
            if m.name == name:
                return m
        return None


class OverrideClass(MemberList):
    def __init__(self, name, doc):
        super().__init__()
        self.name = name
        self.doc = doc


class Overrides:
    """The pieces of an overrides file; class_names are the generated
    classes (the others are module-level code)."""

    def __init__(self, path, class_names, text=None):
        self.path = path
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        self.text = text
        self.src = text.split("\n")
        self.tree = ast.parse(text, filename=path)
        self.module_doc = ast.get_docstring(self.tree)
        self.prelude = []       # runtime lines of module-level code
        self.prelude_stub = []  # stub lines of it
        self.classes = {}       # name: OverrideClass
        self.elsewhere = {}     # C name: where Python reaches it
        self._read(set(class_names))

    def wrappers(self):
        """Every marked override: [(class name, Member)]."""
        return [(c.name, m) for c in self.classes.values() for m in c.members
                if m.is_override]

    # -- reading ------------------------------------------------------------

    def _read(self, generated_classes):
        body = self.tree.body
        if self.module_doc is not None:
            body = body[1:]
        for node in body:
            if isinstance(node, ast.ClassDef) and node.name in generated_classes:
                self.classes[node.name] = self._class(node)
            elif isinstance(node, ast.Assign) and _target(node) == "ELSEWHERE":
                self.elsewhere = ast.literal_eval(node.value)
            elif _is_type_checking(node):
                self.prelude_stub += self._dedented(node.body, 0)
            else:
                # Spaced as PEP 8 spaces top-level code.
                if self.prelude:
                    self.prelude += [""] * (2 if isinstance(
                        node, (ast.ClassDef, ast.FunctionDef)) or self._comments_above(node)
                        else 1)
                self.prelude += self._lines(node)
                self.prelude_stub += _stub_of(node, "", self.path)

    def _class(self, node):
        klass = OverrideClass(node.name, ast.get_docstring(node))
        body = node.body
        if klass.doc is not None:
            body = body[1:]
        for item in body:
            if _is_type_checking(item):
                klass.stub_only += self._dedented(item.body, 4)
                continue
            klass.members.append(self._member(item))
        return klass

    def _member(self, node):
        if isinstance(node, ast.FunctionDef):
            marks = [d for d in node.decorator_list if _is_marker(d)]
            cnames, why = _marker_args(marks[0], self.path) if marks else ((), None)
            return Member(node.name, self._def_lines(node, marks), node, cnames, why)
        if isinstance(node, ast.Assign) and _is_marker(node.value):
            call = node.value
            if not call.args:
                raise ApigenError("%s:%d: override(EXPR, \"fuv_x\", why=...)"
                                  % (self.path, node.lineno))
            cnames, why = _marker_args(call, self.path, skip=1)
            expr = ast.get_source_segment(self.text, call.args[0])
            name = _target(node)
            lines = [(t, "code") for t in self._comments_above(node)]
            lines.append(("%s%s = %s" % (_indent_of(self.src[node.lineno - 1]),
                                         name, expr), "code"))
            return Member(name, lines, node, cnames, why, assigned=expr)
        name = _target(node) if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if name is None:
            raise ApigenError("%s:%d: an override class holds methods and "
                              "assignments" % (self.path, node.lineno))
        return Member(name, [(t, "code") for t in self._lines(node)], node)

    def _first_line(self, node):
        decorators = getattr(node, "decorator_list", [])
        return min([node.lineno] + [d.lineno for d in decorators])

    def _comments_above(self, node):
        """The comment lines right above a node (kept with it)."""
        start = self._first_line(node) - 1
        out = []
        i = start - 1
        while i >= 0 and self.src[i].strip().startswith("#"):
            out.insert(0, self.src[i])
            i -= 1
        return out

    def _lines(self, node):
        start = self._first_line(node)
        return self._comments_above(node) + self.src[start - 1:node.end_lineno]

    def _def_lines(self, node, marks):
        """A def's lines without its marker decorators, the docstring's
        lines marked so that render() can replace them."""
        skip = set()
        for mark in marks:
            skip.update(range(mark.lineno, mark.end_lineno + 1))
        doc_node = node.body[0] if ast.get_docstring(node) is not None else None
        doc_lines = set(range(doc_node.lineno, doc_node.end_lineno + 1)) \
            if doc_node else set()
        out = [(t, "code") for t in self._comments_above(node)]
        first_body = node.body[0].lineno
        body_indent = _indent_of(self.src[first_body - 1])
        for n in range(self._first_line(node), node.end_lineno + 1):
            if n in skip:
                continue
            if n in doc_lines:
                # One entry for the whole docstring, None for its other lines.
                out.append((self.src[n - 1] if n == doc_node.lineno else None, "doc"))
                continue
            if doc_node is None and n == first_body:
                out.append((body_indent, "doc-here"))
            out.append((self.src[n - 1], "code"))
        return [(t, k) for t, k in out if not (k == "doc" and t is None)]

    def _dedented(self, nodes, indent):
        lines = []
        for node in nodes:
            lines += self._lines(node)
        cut = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
        return [" " * indent + l[cut:] if l.strip() else "" for l in lines]


def _target(node):
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
            isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _indent_of(line):
    return line[:len(line) - len(line.lstrip())]


# -- stubs of hand-written code -------------------------------------------------

def stub_def(node, indent):
    """The stub of a def: its decorators (but the marker), its annotated
    signature with `...` for each default, no body."""
    lines = ["%s@%s" % (indent, ast.unparse(d)) for d in node.decorator_list
             if not _is_marker(d)]
    args = _stub_arguments(node.args)
    ret = " -> %s" % ast.unparse(node.returns) if node.returns else ""
    lines.append("%sdef %s(%s)%s: ..." % (indent, node.name, args, ret))
    return lines


def _stub_arguments(args):
    copy = ast.arguments(
        posonlyargs=args.posonlyargs, args=args.args, vararg=args.vararg,
        kwonlyargs=args.kwonlyargs,
        kw_defaults=[None if d is None else ast.Constant(...) for d in args.kw_defaults],
        kwarg=args.kwarg, defaults=[ast.Constant(...) for _ in args.defaults])
    return ast.unparse(copy)


def _stub_of(node, indent, path):
    """The stub lines of a module-level statement of the overrides file
    (classes, functions, annotated names; other statements have none)."""
    if isinstance(node, ast.FunctionDef):
        return stub_def(node, indent)
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        lines = ["%sclass %s%s:" % (indent, node.name, "(%s)" % bases if bases else "")]
        inner = []
        for item in node.body:
            inner += _stub_of(item, indent + "    ", path)
        return lines + (inner or [indent + "    ..."])
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return ["%s%s: %s" % (indent, node.target.id, ast.unparse(node.annotation))]
    if isinstance(node, ast.Assign):
        name = _target(node)
        if name and not name.startswith("_"):
            raise ApigenError("%s:%d: annotate %s, for the stub"
                              % (path, node.lineno, name))
    return []
