"""What the Python package holds, decided once for the module and its
stub: each class's members (generated from the model or hand-written in
the overrides file), the module functions, and where C_API says each C
function is reached.

A class's members, in order: __init__ (its constructor; a class with
several needs an override), then its methods in header order, where an
`is_X` predicate or an annotated getter is a property and its set_NAME
its setter, then the override members that replace none.
"""

import ast

from . import python_names
from .python_overrides import MemberList
from .python_types import REQUEST_BASE, RUNTIME_BASES, Signature
from .swigxml import ApigenError


class MemberPlan:
    """One member of a class, or a module function.

    kind: "init", "method", "property" or "function" for generated ones,
    "override" for a member of the overrides file. funcs are the C
    functions it reaches (a property's getter, then its setter)."""

    def __init__(self, name, kind, funcs, sig=None, setter_sig=None,
                 override=None):
        self.name = name
        self.kind = kind
        self.funcs = funcs
        self.sig = sig
        self.setter_sig = setter_sig
        self.override = override

    def __repr__(self):
        return "MemberPlan(%s %s)" % (self.kind, self.name)


class ClassPlan(MemberList):
    def __init__(self, klass, name, base, doc):
        super().__init__()
        self.klass = klass
        self.name = name
        self.base = base          # the base class: a ClassPlan's name or _LoopBase
        self.doc = doc            # the overrides' docstring, or None


class Plan:
    def __init__(self, api, overrides):
        self.api = api
        self.overrides = overrides
        self.classes = [self._class(k) for k in api.classes]
        self.functions = [MemberPlan(python_names.method_name(f), "function", [f],
                                     Signature(api, f))
                          for f in api.module_functions if self._generated(f)]
        self.c_api = self._c_api()

    def public_names(self):
        """__all__: the classes, the overrides' public classes (Error), the
        enums, C_API, the constants (but the error codes, reached through
        errorcode) and the functions."""
        api = self.api
        names = [c.name for c in self.classes]
        names += [n.name for n in self.overrides.tree.body
                  if isinstance(n, ast.ClassDef) and not n.name.startswith("_")
                  and n.name not in names]
        names += [python_names.enum_class(e) for e in api.enums
                  if python_names.is_enum_class(e)]
        names.append("C_API")
        errors = {n for n, _ in python_names.error_codes(api)}
        names += [n for n, _ in python_names.module_constants(api) if n not in errors]
        names += [m.name for m in self.functions]
        names.append("errorcode")
        return names

    def _generated(self, func):
        return func.bound_in("python") and func.cname not in self.overrides.elsewhere

    # -- classes -------------------------------------------------------------

    def _class(self, klass):
        name = python_names.class_name(klass)
        ov = self.overrides.classes.get(name)
        if klass.base is not None:
            base = python_names.class_name(klass.base)
        else:
            base = _runtime_base(klass)
        plan = ClassPlan(klass, name, base, ov.doc if ov else None)
        members = self._generated_members(klass)
        if ov is not None:
            members = _merge(members, ov)
            plan.stub_only = ov.stub_only
        if any(m.kind == "init" and m.sig is None for m in members):
            raise ApigenError("%s has several constructors: write its "
                              "__init__ in the overrides file" % name)
        plan.members = members
        return plan

    def _generated_members(self, klass):
        api = self.api
        out = []
        constructors = [f for f in klass.constructors if self._generated(f)]
        if len(constructors) == 1:
            out.append(MemberPlan("__init__", "init", constructors,
                                  Signature(api, constructors[0], klass)))
        elif constructors:
            out.append(MemberPlan("__init__", "init", constructors))  # an override's
        methods = [f for f in klass.methods if self._generated(f)]
        getters = {python_names.property_name(f): f for f in methods
                   if python_names.is_property(f)}
        setters = {}
        for f in methods:
            prop = f.name[4:] if f.name.startswith("set_") else None
            if prop in getters and len(f.inputs) == 1 and not f.outputs:
                setters[prop] = f
        for f in methods:
            if f in setters.values():
                continue
            if python_names.is_property(f):
                name = python_names.property_name(f)
                setter = setters.get(name)
                out.append(MemberPlan(
                    name, "property", [f] + ([setter] if setter else []),
                    Signature(api, f, klass),
                    Signature(api, setter, klass) if setter else None))
            else:
                out.append(MemberPlan(python_names.method_name(f), "method", [f],
                                      Signature(api, f, klass)))
        return out

    # -- C_API -----------------------------------------------------------------

    def _c_api(self):
        """{C name: where Python reaches it}, in header order; every
        function of the header is there."""
        where = {}
        for plan in self.classes:
            for member in plan.members:
                for func in member.funcs:
                    where.setdefault(func.cname, "%s.%s" % (plan.name, member.name))
                if member.override is not None:
                    for cname in member.override.cnames:
                        where.setdefault(cname, "%s.%s" % (plan.name, member.name))
        for member in self.functions:
            where.setdefault(member.funcs[0].cname, member.name)
        where.update(self.overrides.elsewhere)
        out = {}
        for func in self.api.functions:
            if func.cname in where:
                out[func.cname] = where[func.cname]
            elif not func.bound_in("python"):
                out[func.cname] = "not bound in Python (hidden in swig/api.i)"
            else:
                raise ApigenError("%s is reached from nowhere in Python"
                                  % func.cname)
        return out


def _runtime_base(klass):
    base = REQUEST_BASE if klass.request else RUNTIME_BASES.get(klass.ctype)
    if base is None:
        raise ApigenError("%s: a root object type with no base class in "
                          "the C runtime (python_types.RUNTIME_BASES)" % klass.ctype)
    return base


def _merge(members, ov):
    """The generated members with the override class's: an override
    replaces the generated member of its name, and any generated member
    whose C functions it wraps; the others come last."""
    claimed = set()
    for m in ov.members:
        claimed.update(m.cnames)
    out = []
    generated = {m.name for m in members}
    for member in members:
        replacements = [m for m in ov.members if m.name == member.name]
        if replacements:
            # A property's getter and setter are two members of one name.
            for i, m in enumerate(replacements):
                out.append(MemberPlan(member.name, "override",
                                      member.funcs if i == 0 else [],
                                      member.sig, member.setter_sig, m))
            continue
        if member.funcs and all(f.cname in claimed for f in member.funcs):
            continue
        out.append(member)
    for m in ov.members:
        if m.name not in generated:
            out.append(MemberPlan(m.name, "override", [], None, None, m))
    return out
