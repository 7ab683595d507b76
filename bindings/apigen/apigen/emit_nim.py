"""The Nim binding: the raw layer (emit_nim_raw) and the idiomatic layer.

    python3 -m apigen nim --interface swig/flatuv.i -I core/include --out DIR

writes DIR/flatuv/raw.nim and DIR/flatuv/api.nim. api.nim is included by
nim/src/flatuv.nim (after its FlatuvError, newFlatuvError, check and
statusError, before its overrides) and holds, from the model:

  - the object types: Loop, and a ref object per handle class with the
    hierarchy of the interface; each handle keeps its persistent callbacks
    (the closures of the callback typedefs whose fuv:lifetime is
    persistent) in a field of the class whose methods take them;
  - a Nim enum for every enum a bound function takes or returns (or that
    the interface names for Nim), with the table of its C values;
  - a closure type per callback typedef (fuv_read_cb -> ReadCallback: the
    handle as its Nim object, a status as `err: ref FlatuvError`, nil on
    success, bytes as `data: openArray[char]`) and its cdecl trampoline;
  - a proc per bound function, converting by role: a status raises
    FlatuvError, a predicate is a bool, a count or a value an int, an enum
    the Nim enum, an address (ip, port), out-parameters the value or a
    tuple, a callback a closure; callbacks come last, so that a proc
    literal can close the call.

Lifetime, the one mechanism for every handle: a handle's Nim object holds a
reference to itself (GC_ref) from its creation until its close callback
has run, so the closures stored on it live as long as the C library may
call them; a one-shot callback (write, connect, shutdown) lives in a
request object referenced from the call until its callback ran; a scoped
one (walk) on the stack of the call. Functions the overrides file
(nim/src/flatuv.nim) writes by hand are named by fuv:nim:override.
"""

import os

from . import emit_nim_raw, model, naming, roles
from .emit_roles import _write_if_changed
from .nim_names import (callback_field, callback_type_name, camel,
                        check_clashes, enum_members, enum_name, nim_ident,
                        param_name, proc_name)
from .swigxml import ApigenError, pointee

LANGUAGE = "nim"
LOOP_TYPE = naming.PREFIX + "loop_t"
HANDLE_TYPE = naming.PREFIX + "handle_t"
PERSISTENT, ONE_SHOT, CLOSE, SCOPED = "persistent", "one_shot", "close", "scoped"
LIFETIMES = (PERSISTENT, ONE_SHOT, CLOSE, SCOPED)

# Arguments the idiomatic layer has no Nim conversion for: such functions
# stay in flatuv/raw only (api.nim lists them).
RAW_ONLY_ROLES = ("sockaddr_out",)
RAW_ONLY_RESULTS = (roles.POINTER, roles.OBJECT)


def doc_lines(doc, indent):
    return emit_nim_raw.doc_lines(doc, indent)


def lifetime(callback):
    value = callback.decl.features.get("lifetime", PERSISTENT)
    if value not in LIFETIMES:
        raise ApigenError("%s: unknown fuv:lifetime %r" % (callback.cname, value))
    return value


def bare(name):
    return name.strip("`")


class CallbackKind:
    """A callback typedef as Nim sees it: its closure type, the Nim
    parameters and how each C parameter converts."""

    def __init__(self, gen, callback):
        self.cb = callback
        self.cname = callback.cname
        self.type_name = callback_type_name(callback)
        self.lifetime = lifetime(callback)
        self.field = callback_field(callback)
        self.trampoline = camel(self.type_name[:-len("Callback")]) + "Trampoline"
        self.raw_type = "raw." + gen.raw_decl(callback.cname).nimname
        self.owner = None      # Klass whose objects hold a persistent one
        params = list(callback.params)
        if not params or params[-1].ctype != "p.void":
            raise ApigenError("%s: a callback's last parameter must be its "
                              "void *arg" % self.cname)
        self.c_params = params
        self.handle = None     # (C name, Klass) of the handle parameter
        self.parts = []        # what the closure gets: handle/data/err
        i = 0
        while i < len(params) - 1:
            p = params[i]
            klass = gen.api.klass(pointee(p.ctype) or "")
            if klass is not None and self.handle is None:
                self.handle = (p.name, klass)
                self.parts.append("handle")
            elif p.ctype == "ssize_t" and i + 1 < len(params) - 1 and \
                    params[i + 1].ctype == "p.q(const).char":
                self.nread, self.buf = p.name, params[i + 1].name
                self.parts += ["data", "err"]
                i += 1
            elif p.ctype == "int":
                self.status = p.name
                self.parts.append("err")
            else:
                raise ApigenError("%s(%s): no Nim conversion for a callback "
                                  "parameter of type %r" % (self.cname, p.name, p.ctype))
            i += 1
        if self.handle is None:
            raise ApigenError("%s: a callback's first parameter must be a "
                              "handle" % self.cname)
        self.klass = self.handle[1]

    @property
    def request(self):
        return self.type_name[:-len("Callback")] + "Request"

    def closure_params(self):
        out = []
        for part in self.parts:
            if part == "handle":
                out.append("%s: %s" % (param_name(self.handle[0]), self.klass.name))
            elif part == "data":
                out.append("data: openArray[char]")
            else:
                out.append("err: ref FlatuvError")
        return "; ".join(out)

    def call_args(self, h):
        """The closure's arguments inside the trampoline, h the handle."""
        out = []
        for part in self.parts:
            if part == "handle":
                out.append(h)
            elif part == "data":
                out.append("DATA")
            elif "data" not in self.parts:
                out.append("statusError(%s)" % self.status)
        return out


class Generator:
    def __init__(self, api, raw):
        self.api = api
        self.raw = raw                    # emit_nim_raw.Emitter, already run
        self._raw_decls = {d.cname: d for d in raw.iface.all_decls()}
        self.out = []
        self.raw_only = []
        self.procs = []                   # (name, parameter types, has a result)
        self.handle_root = api.klass(HANDLE_TYPE)
        self.loop_class = api.klass(LOOP_TYPE)
        if self.handle_root is None or self.loop_class is None:
            raise ApigenError("the Nim layer needs %s and %s" % (LOOP_TYPE, HANDLE_TYPE))
        self.functions = [f for f in api.functions
                          if f.bound_in(LANGUAGE) and not f.overridden_in(LANGUAGE)]
        self.kinds = {}
        for cname, callback in api.callbacks.items():
            self.kinds[cname] = CallbackKind(self, callback)
        self._place_persistent()
        self.enums = [e for e in api.enums
                      if not model.hidden_in(e, LANGUAGE) and
                      (e.used or e.features.get("nim_name"))]
        self._enum_of = {e.cname: e for e in self.enums}

    # -- lookups ---------------------------------------------------------

    def raw_decl(self, cname):
        return self._raw_decls[cname]

    def raw_name(self, cname):
        return "raw." + bare(self.raw_decl(cname).nimname)

    def raw_type(self, ctype, context):
        """The raw module's Nim type of a C type, qualified with `raw.`."""
        nim = self.raw.types.map(ctype, context)
        if nim is None:
            return None
        words = nim.split(" ")
        base = words[-1]
        qualified = base in self.raw.types.typedefs.values() or base in (
            "Ssize", "ConstCstring", "SockAddr", "Sockaddr_in", "Sockaddr_in6",
            "Sockaddr_storage")
        if qualified:
            words[-1] = "raw." + base
        return " ".join(words)

    def is_handle(self, klass):
        return klass.is_a(self.handle_root)

    def c_object(self, klass, expr):
        """The C object of a Nim object expression."""
        return "c%s(%s)" % (klass.name, expr)

    def _place_persistent(self):
        """Each persistent callback lives in a field of the one class whose
        methods (or constructors) take it; a class below it inherits it."""
        for func in self.api.functions:
            for arg in func.callbacks:
                kind = self.kinds[arg.callback.cname]
                if kind.lifetime != PERSISTENT or func.klass is None:
                    continue
                if kind.owner is None or kind.owner.is_a(func.klass):
                    kind.owner = func.klass
                elif not func.klass.is_a(kind.owner):
                    raise ApigenError("%s is taken by methods of %s and of %s"
                                      % (kind.cname, kind.owner.name, func.klass.name))

    # -- the module --------------------------------------------------------

    def emit(self):
        o = self.out
        o.append("## The idiomatic layer of flatuv's Nim module: types, "
                 "trampolines and procs.")
        o.append("## Generated by bindings/apigen (apigen/emit_nim.py) from %s; "
                 "do not edit." % self.raw.opt.source)
        o.append("## An include file of nim/src/flatuv.nim, which defines "
                 "FlatuvError, newFlatuvError,")
        o.append("## check and statusError before it and its overrides after it.")
        o.append("")
        procs = [self._proc(f) for f in self.functions]
        self._types()
        self._enum_tables()
        self._runtime()
        self._trampolines()
        for text in procs:
            if text:
                o.extend(text)
        if self.raw_only:
            o.append("# In flatuv/raw only (no idiomatic conversion of their "
                     "arguments or result):")
            for cname in self.raw_only:
                o.append("#   %s" % cname)
        self._check_clashes()
        return "\n".join(o).rstrip() + "\n"

    def _check_clashes(self):
        check_clashes(self._signatures, "proc")

    # -- types -------------------------------------------------------------

    def _types(self):
        o = self.out
        o.append("type")
        for enum in self.enums:
            o.append("  %s* = enum" % enum_name(enum))
            o.extend(doc_lines(enum.doc, "    "))
            for item, member in enum_members(enum):
                o.append("    %s" % member)
                o.extend(doc_lines(item.doc, "      "))
        for kind in self.kinds.values():
            o.append("  %s* = proc (%s) {.closure.}" % (kind.type_name,
                                                         kind.closure_params()))
            o.extend(doc_lines(kind.cb.doc, "    "))
        for klass in self.api.classes:
            if klass is self.loop_class:
                o.append("  %s* = ref object" % klass.name)
                o.extend(doc_lines(klass.doc or "An event loop.", "    "))
                o.append("    cptr: ptr %s" % self.raw_type(klass.ctype, klass.ctype))
                o.append("    pendingError: ref Exception "
                         "# raised by a callback, re-raised by run")
                continue
            if not self.is_handle(klass):
                raise ApigenError("%s is neither the loop nor a handle" % klass.ctype)
            base = klass.base.name if klass.base else "RootObj"
            o.append("  %s* = ref object of %s" % (klass.name, base))
            o.extend(doc_lines(klass.doc or "A handle of type %s." % klass.ctype,
                               "    "))
            if klass is self.handle_root:
                o.append("    cptr: ptr %s # nil once the close callback has run"
                         % self.raw_type(klass.ctype, klass.ctype))
                o.append("    loop: %s" % self.loop_class.name)
            for kind in self.kinds.values():
                if kind.owner is klass:
                    o.append("    %s: %s" % (kind.field, kind.type_name))
        for kind in self.kinds.values():
            if kind.lifetime in (ONE_SHOT, CLOSE):
                o.append("  %s = ref object" % kind.request)
                o.append("    # One %s's callback, alive from the call until "
                         "it ran." % bare(kind.cname))
                o.append("    handle: %s" % kind.klass.name)
                o.append("    cb: %s" % kind.type_name)
            elif kind.lifetime == SCOPED:
                o.append("  %sScope = object" % kind.request[:-len("Request")])
                o.append("    # The closure of one call, and what it raised.")
                o.append("    cb: %s" % kind.type_name)
                o.append("    error: ref Exception")
        o.append("")

    def _enum_tables(self):
        o = self.out
        for enum in self.enums:
            name = enum_name(enum)
            raw_enum = "raw." + bare(self.raw_decl(enum.cname).nimname)
            values = ", ".join("raw.%s" % item.cname for item, _ in enum_members(enum))
            table = camel(name) + "Values"
            o.append("const %s: array[%s, %s] = [%s]" % (table, name, raw_enum, values))
            o.append("")
            o.append("proc to%s(value: cint): %s =" % (name, name))
            o.append("  for member, c in %s:" % table)
            o.append("    if c == value: return member")
            o.append("  raise newFlatuvError(raw.FUV_EINVAL, \"%s\")" % name)
            o.append("")

    def _runtime(self):
        o = self.out
        data_setter = self.raw_name(naming.PREFIX + "handle_set_data")
        o.extend(("""\
# Callback plumbing. The C library gets a cdecl trampoline per callback type
# and, as its arg, the handle's Nim object (persistent callbacks), a request
# object (one-shot ones) or the call's scope (scoped ones). A handle is kept
# alive by GC_ref from its creation until its close callback, so its
# address stays valid while C can call back; `{.cursor.}` stops ORC from
# counting the borrowed reference that the cast makes. A trampoline holds
# the closure it calls in a `var` that it clears afterwards: a counted
# copy, so a callback that replaces itself does not free the closure that
# is running. An exception from a user callback must not unwind through C:
# it is kept, the loop stops, and `run` re-raises it.

template callUser(loop: Loop; body: untyped) =
  try:
    body
  except Exception as e:
    if loop.pendingError == nil:
      loop.pendingError = e
    discard raw.stop(loop.cptr)

proc adopt[T: Handle](h: T; cptr: pointer; loop: Loop) =
  h.cptr = cast[ptr raw.Handle](cptr)
  h.loop = loop
  # The handle's data pointer finds the object for callbacks that get no
  # arg of ours (walk).
  discard %s(h.cptr, cast[pointer](h))
  GC_ref(h)

proc release(h: Handle) =
  # The C handle is gone: drop every closure, then the handle itself.""" %
                 data_setter).split("\n"))
        for klass in self.api.classes:
            fields = [k.field for k in self.kinds.values() if k.owner is klass]
            if not fields:
                continue
            if klass is self.handle_root:
                for field in fields:
                    o.append("  h.%s = nil" % field)
            else:
                o.append("  if h of %s:" % klass.name)
                for field in fields:
                    o.append("    %s(h).%s = nil" % (klass.name, field))
        o.append("  GC_unref(h)")
        o.append("")
        o.append("proc checkMs(ms: int; context: string) =")
        o.append("  if ms < 0:")
        o.append("    raise newFlatuvError(raw.FUV_EINVAL, context)")
        o.append("")
        o.append("# The C objects, for flatuv/raw calls this module does not "
                 "make; nil once closed.")
        for klass in self.api.classes:
            raw_t = self.raw_type(klass.ctype, klass.ctype)
            if klass is self.loop_class or klass is self.handle_root:
                expr = "x.cptr"
            else:
                expr = "cast[ptr %s](x.cptr)" % raw_t
            o.append("proc c%s*(x: %s): ptr %s {.inline.} = %s"
                     % (klass.name, klass.name, raw_t, expr))
            o.append("  ## The C %s of x (%s), for flatuv/raw." % (
                "loop" if klass is self.loop_class else "handle", klass.ctype))
        o.append("")

    # -- trampolines ---------------------------------------------------------

    def _trampolines(self):
        for kind in self.kinds.values():
            self._trampoline(kind)

    def _trampoline(self, kind):
        o = self.out
        params = []
        for p in kind.c_params:
            params.append("%s: %s" % (param_name(p.name),
                                      self.raw_type(p.ctype, kind.cname)))
        o.append("proc %s(%s) {.cdecl.} =" % (kind.trampoline, "; ".join(params)))
        args = kind.call_args("h")
        read = "data" in kind.parts
        lifetime_ = kind.lifetime

        def call(indent, cb):
            if read:
                nread, buf = param_name(kind.nread), param_name(kind.buf)
                with_data = [("toOpenArray(cast[ptr UncheckedArray[char]](%s), 0, %s - 1)"
                              % (buf, nread)) if a == "DATA" else a for a in args]
                without = ["[]" if a == "DATA" else a for a in args]
                o.append(indent + "if %s > 0:" % nread)
                o.append(indent + "  %s(%s)" % (cb, ", ".join(with_data + ["nil"])))
                o.append(indent + "else:")
                o.append(indent + "  %s(%s)" % (cb, ", ".join(
                    without + ["newFlatuvError(%s)" % nread])))
            else:
                o.append(indent + "%s(%s)" % (cb, ", ".join(args)))

        if lifetime_ == PERSISTENT:
            owner = kind.owner or kind.klass
            o.append("  let h {.cursor.} = cast[%s](arg)" % owner.name)
            o.append("  var cb = h.%s" % kind.field)
            o.append("  if cb != nil:")
            o.append("    callUser(h.loop):")
            call("      ", "cb")
            o.append("  cb = nil")
        elif lifetime_ == ONE_SHOT:
            o.append("  let req {.cursor.} = cast[%s](arg)" % kind.request)
            o.append("  let h = req.handle")
            o.append("  callUser(h.loop):")
            call("    ", "req.cb")
            o.append("  GC_unref(req) # last: the request holds the handle "
                     "and the closure")
        elif lifetime_ == CLOSE:
            o.append("  let req {.cursor.} = cast[%s](arg)" % kind.request)
            o.append("  let h = req.handle")
            o.append("  h.cptr = nil # the library frees the C handle when "
                     "this returns")
            o.append("  if req.cb != nil:")
            o.append("    callUser(h.loop):")
            call("      ", "req.cb")
            o.append("  release(h)")
            o.append("  GC_unref(req)")
        else:
            getter = self.raw_name(naming.PREFIX + "handle_get_data")
            scope = kind.request[:-len("Request")] + "Scope"
            o.append("  let scope = cast[ptr %s](arg)" % scope)
            o.append("  let h {.cursor.} = cast[%s](%s(%s))" % (
                kind.klass.name, getter,
                "cast[ptr raw.Handle](%s)" % param_name(kind.handle[0])))
            o.append("  if scope.error != nil or h == nil:")
            o.append("    return")
            o.append("  try:")
            call("    ", "scope.cb")
            o.append("  except Exception as e:")
            o.append("    scope.error = e")
        o.append("")

    # -- procs -----------------------------------------------------------------

    _signatures = None

    def _proc(self, func):
        """The lines of one function's proc, or None (raw only)."""
        if self._signatures is None:
            self._signatures = []
        if func.result.role in RAW_ONLY_RESULTS or any(
                a.role in RAW_ONLY_ROLES for a in func.args):
            self.raw_only.append(func.cname)
            return None
        if len(func.callbacks) > 1:
            raise ApigenError("%s: more than one callback" % func.cname)
        return ProcWriter(self, func).lines()


class ProcWriter:
    """One function's proc."""

    def __init__(self, gen, func):
        self.gen = gen
        self.func = func
        self.raw_name = gen.raw_name(func.cname)
        self.name = proc_name(func, bare(gen.raw_decl(func.cname).nimname))
        self.context = bare(self.name)
        self.pre = []        # statements before the call
        self.c_args = []     # the C call's arguments, in C order
        self.post = []       # statements after a successful call
        self.params = []     # (name, type, default) of the Nim proc
        defaults = dict(model._pairs(func.feature("defaults")))
        defaults.update(model._pairs(func.feature("nim:defaults")))
        self.defaults = defaults

    # the object whose loop new handles join, and whose C object is self
    def lines(self):
        f, g = self.func, self.gen
        self.self_name = None
        self.loop_expr = None
        self.outputs = []    # (Nim expression, Nim type, tuple field name)
        self.callback = None
        for arg in f.args:
            self._arg(arg)
        # Callbacks last (a proc literal can close the call); a default only
        # where every later parameter has one too.
        params = [p for p in self.params if not p[3]] + [p for p in self.params if p[3]]
        has_default = True
        shown = []
        for name, typ, default, _ in reversed(params):
            has_default = has_default and default is not None
            shown.append("%s: %s%s" % (name, typ, (" = " + default) if has_default else ""))
        shown.reverse()
        ret = self._result_type()
        head = "proc %s*(%s)%s =" % (self.name, "; ".join(shown),
                                     (": " + ret) if ret else "")
        g._signatures.append((self.name, tuple(p[1] for p in params), f.cname))
        g.procs.append((self.name, [p[1] for p in params], ret is not None))
        body = self._body()
        out = [head]
        out.extend(doc_lines(f.doc, "  "))
        out.extend("  " + line for line in body)
        out.append("")
        return out

    # -- arguments -----------------------------------------------------------

    def _default(self, arg):
        text = self.defaults.get(arg.params[0].name)
        if text is None:
            text = arg.default if arg.role != "callback" else None
            if arg.role == "callback" and arg.optional:
                text = "NULL"
        if text is None:
            return None
        if text == "NULL":
            return "nil"
        if arg.role == "flag":
            return "false" if text.strip() in ("0", "false") else "true"
        if arg.role == "enum":
            for item, member in enum_members(arg.enum):
                if item.cname == text:
                    return member
            raise ApigenError("%s: default %s is not a member" % (self.func.cname, text))
        try:
            int(text, 0)
            return text
        except ValueError:
            return "int(raw.%s)" % text

    def _add_param(self, name, typ, default=None, callback=False):
        self.params.append((name, typ, default, callback))

    def _arg(self, arg):
        f, g = self.func, self.gen
        role = arg.role
        p0 = arg.params[0]
        name = param_name(p0.name) if p0.name else "a"
        if role == "self":
            if f.constructor:
                self.new_var = "p"
                self.c_args.append("addr p")
            else:
                self.self_name = name
                self._add_param(name, arg.klass.name)
                self.c_args.append(g.c_object(arg.klass, name))
                if g.is_handle(arg.klass):
                    self.loop_expr = name + ".loop"
                else:
                    self.loop_expr = name
            return
        if role == "object":
            self._add_param(name, arg.klass.name, self._default(arg))
            self.c_args.append(g.c_object(arg.klass, name))
            if arg.klass is g.loop_class and self.loop_expr is None:
                self.loop_expr = name
            return
        if role == "new_object":
            var = name
            self.pre.append("var %s: ptr %s" % (var, g.raw_type(
                "p." + arg.klass.ctype, f.cname)[len("ptr "):]))
            self.c_args.append("addr " + var)
            self.outputs.append(("NEW:%s:%s" % (arg.klass.name, var), arg.klass.name, None))
            return
        ctype = p0.ctype
        raw_t = g.raw_type(ctype, f.cname)
        if role == "callback":
            self._callback_arg(arg, name)
            return
        if role == "enum":
            enum = g._enum_of.get(arg.enum.cname)
            if enum is None:
                raise ApigenError("%s: enum %s is not in the Nim layer"
                                  % (f.cname, arg.enum.cname))
            self._add_param(name, enum_name(enum), self._default(arg))
            self.c_args.append("%sValues[%s]" % (camel(enum_name(enum)), name))
        elif role == "flag":
            self._add_param(name, "bool", self._default(arg))
            self.c_args.append("%s(%s)" % (raw_t, name))
        elif role in ("timeout_ms", "int", "duration_s"):
            self._add_param(name, "int", self._default(arg))
            self.c_args.append("%s(%s)" % (raw_t, name))
        elif role == "duration_ms":
            self._add_param(name, "int", self._default(arg))
            self.pre.append('checkMs(%s, "%s")' % (name, self.context))
            self.c_args.append("%s(%s)" % (raw_t, name))
        elif role == "string":
            self._add_param(name, "string", self._default(arg))
            self.c_args.append("cstring(%s)" % name)
        elif role == "address":
            ip, port = arg.params
            self._add_param(param_name(ip.name), "string")
            self._add_param(param_name(port.name), "int")
            self.c_args.append("cstring(%s)" % param_name(ip.name))
            self.c_args.append("%s(%s)" % (g.raw_type(port.ctype, f.cname),
                                           param_name(port.name)))
        elif role == "bytes":
            data, length = arg.params
            dname = param_name(data.name)
            self._add_param(dname, "openArray[char]")
            self.pre.append("let %sPtr = if %s.len > 0: cast[cstring](unsafeAddr %s[0]) "
                            "else: nil" % (dname, dname, dname))
            self.c_args.append(dname + "Ptr")
            self.c_args.append("%s(%s.len)" % (g.raw_type(length.ctype, f.cname), dname))
        elif role == "buffers":
            bufs, lens, count = arg.params
            n = param_name(bufs.name)
            self._add_param(n, "openArray[string]")
            self.pre += [
                "var %sPtrs = newSeq[raw.ConstCstring](%s.len)" % (n, n),
                "var %sLens = newSeq[csize_t](%s.len)" % (n, n),
                "for i, b in %s:" % n,
                "  %sPtrs[i] = if b.len > 0: cast[raw.ConstCstring](unsafeAddr b[0]) "
                "else: nil" % n,
                "  %sLens[i] = csize_t(b.len)" % n]
            self.c_args.append("(if %s.len > 0: addr %sPtrs[0] else: nil)" % (n, n))
            self.c_args.append("(if %s.len > 0: addr %sLens[0] else: nil)" % (n, n))
            self.c_args.append("%s(%s.len)" % (g.raw_type(count.ctype, f.cname), n))
        elif role == "hidden":
            # A callback's void *arg that does not follow it directly.
            if ctype != "p.void" or self.callback is None:
                raise ApigenError("%s(%s): a void * that is no callback's arg"
                                  % (f.cname, name))
            self.c_args.append(self.cb_arg)
        elif role == "sockaddr":
            self._add_param(name, raw_t)
            self.c_args.append(name)
        elif role == "recv_buffer":
            buf, length = arg.params
            self._add_param("size", "int")
            self.pre.append("result = newString(size)")
            self.c_args.append("cstring(result)")
            self.c_args.append("%s(size)" % g.raw_type(length.ctype, f.cname))
            self.outputs.append(("RECV", "string", None))
        elif role == "address_out":
            ip, iplen, port = arg.params
            size = "raw.FUV_IP_NAME_MAX" if g.api.constant("FUV_IP_NAME_MAX") else "256"
            self.pre.append("var ip = newString(%s)" % size)
            self.pre.append("var port: %s" % g.raw_type(pointee(port.ctype), f.cname))
            self.c_args += ["cstring(ip)", "%s(ip.len)" % g.raw_type(iplen.ctype, f.cname),
                            "addr port"]
            self.post.append("ip.setLen(len(cstring(ip)))")
            self.outputs.append(("(ip, int(port))", "tuple[ip: string, port: int]", None))
        elif role == "text_out":
            dst, size = arg.params
            n = param_name(dst.name)
            limit = "raw.FUV_IP_NAME_MAX" if g.api.constant("FUV_IP_NAME_MAX") else "256"
            self.pre.append("var %s = newString(%s)" % (n, limit))
            self.c_args += ["cstring(%s)" % n, "%s(%s.len)" % (
                g.raw_type(size.ctype, f.cname), n)]
            self.post.append("%s.setLen(len(cstring(%s)))" % (n, n))
            self.outputs.append((n, "string", None))
        elif role == "int_pair_out":
            for p in arg.params:
                n = param_name(p.name)
                self.pre.append("var %s: %s" % (n, g.raw_type(pointee(p.ctype), f.cname)))
                self.c_args.append("addr " + n)
                self.outputs.append(("int(%s)" % n, "int", bare(n)))
        else:
            raise ApigenError("%s(%s): no Nim conversion for role %r"
                              % (f.cname, name, role))

    def _cb_c_args(self, arg, fn, user):
        """The trampoline, and its arg where the model grouped it with the
        callback (else a later `hidden` void * takes it)."""
        self.c_args.append(fn)
        if len(arg.params) > 1:
            self.c_args.append(user)
        self.cb_arg = user

    def _callback_arg(self, arg, name):
        g, f = self.gen, self.func
        kind = g.kinds[arg.callback.cname]
        default = self._default(arg)
        self._add_param(name, kind.type_name, default, callback=True)
        self.callback = (kind, name, arg)
        optional = default == "nil"
        if kind.lifetime == PERSISTENT:
            target = "result" if f.constructor else self.self_name
            tramp = ("(if %s == nil: %s(nil) else: %s)" % (name, kind.raw_type, kind.trampoline)
                     if optional else kind.trampoline)
            self._cb_c_args(arg, tramp, "cast[pointer](%s)" % target)
            self.post.append("%s.%s = %s" % (target, kind.field, name))
        elif kind.lifetime in (ONE_SHOT, CLOSE):
            owner = self.self_name
            if kind.lifetime == CLOSE:
                self.pre.append("let req = %s(handle: %s, cb: %s)" % (kind.request, owner, name))
                self.pre.append("GC_ref(req)")
                self._cb_c_args(arg, kind.trampoline, "cast[pointer](req)")
                self.on_failure = "GC_unref(req) # the callback will never run"
            else:
                self.pre.append("var req: %s = nil" % kind.request)
                self.pre.append("if %s != nil:" % name)
                self.pre.append("  req = %s(handle: %s, cb: %s)" % (kind.request, owner, name))
                self.pre.append("  GC_ref(req)")
                self._cb_c_args(arg, "(if req == nil: %s(nil) else: %s)"
                                % (kind.raw_type, kind.trampoline), "cast[pointer](req)")
                self.on_failure = "if req != nil: GC_unref(req) # the callback will never run"
        else:
            scope = kind.request[:-len("Request")] + "Scope"
            self.pre.append("var scope = %s(cb: %s)" % (scope, name))
            self._cb_c_args(arg, kind.trampoline, "addr scope")
            self.after_call = "if scope.error != nil: raise scope.error"

    # -- the result ------------------------------------------------------------

    def _result_type(self):
        f = self.func
        if f.constructor:
            return f.klass.name
        if self.outputs:
            if len(self.outputs) == 1:
                return self.outputs[0][1]
            return "tuple[%s]" % ", ".join("%s: %s" % (o[2], o[1]) for o in self.outputs)
        role = f.result.role
        if role in (roles.COUNT, roles.VALUE):
            return "int"
        if role == roles.PREDICATE:
            return "bool"
        if role == roles.STRING:
            return "string"
        if role == roles.ENUM:
            enum = self.gen._enum_of.get(f.result.enum.cname)
            if enum is None:
                raise ApigenError("%s: enum %s is not in the Nim layer"
                                  % (f.cname, f.result.enum.cname))
            return enum_name(enum)
        return None

    def _body(self):
        f, g = self.func, self.gen
        out = []
        klass = f.klass if f.constructor else None
        persistent_cb = self.callback and self.callback[0].lifetime == PERSISTENT
        if klass is not None:
            if g.is_handle(klass) and persistent_cb:
                out.append("result = %s()" % klass.name)
            out.append("var p: ptr %s" % g.raw_type(klass.ctype, f.cname))
        out.extend(self.pre)
        call = "%s(%s)" % (self.raw_name, ", ".join(self.c_args))
        role = f.result.role
        on_failure = getattr(self, "on_failure", None)
        after = getattr(self, "after_call", None)
        ctx = '"%s"' % self.context
        is_int = f.result.ctype == "int"
        if role == roles.NONE:
            out.append(call)
            if after:
                out.append(after)
        else:
            out.append("let rc = " + call)
            if after:
                out.append(after)
            if on_failure and is_int:
                out.append("if rc < 0:")
                out.append("  " + on_failure)
            checked = "check(rc, %s)" % ctx if is_int and role in (
                roles.STATUS, roles.COUNT, roles.PREDICATE, roles.ENUM) else "rc"
            if klass is not None or self.outputs or role == roles.STATUS:
                if checked != "rc":
                    out.append("discard " + checked)
            elif role in (roles.COUNT, roles.VALUE):
                out.append("result = int(%s)" % checked)
            elif role == roles.PREDICATE:
                out.append("result = %s != 0" % checked)
            elif role == roles.STRING:
                out.append("result = $%s" % checked)
            elif role == roles.ENUM:
                enum = g._enum_of[f.result.enum.cname]
                out.append("result = to%s(cint(%s))" % (enum_name(enum), checked))
        if klass is not None:
            if g.is_handle(klass):
                if not persistent_cb:
                    out.append("result = %s()" % klass.name)
                if self.loop_expr is None:
                    raise ApigenError("%s: a handle's constructor takes its loop"
                                      % f.cname)
                out.append("result.adopt(p, %s)" % self.loop_expr)
            else:
                out.append("result = %s(cptr: p)" % klass.name)
        for expr, typ, field in self.outputs:
            if expr.startswith("NEW:"):
                _, cls, var = expr.split(":")
                out.append("result = %s()" % cls)
                out.append("result.adopt(%s, %s)" % (var, self.loop_expr))
            elif expr == "RECV":
                out.append("result.setLen(rc)")
        out.extend(self.post)
        if naming.strip_prefix(f.cname).endswith("_free") and self.self_name:
            out.append("%s.cptr = nil" % self.self_name)
        values = [o for o in self.outputs if not o[0].startswith("NEW:") and o[0] != "RECV"]
        if values:
            if len(values) == 1:
                out.append("result = " + values[0][0])
            else:
                out.append("result = (%s)" % ", ".join(v[0] for v in values))
        return out


def generator(api, options=None):
    """The Generator of a model, run: .text, .procs, .raw (the raw layer's
    Emitter)."""
    raw = emit_nim_raw.emitter_for(api, emit_nim_raw.options_from(options))
    gen = Generator(api, raw)
    gen.text = gen.emit()
    return gen


def text(api, options=None):
    gen = generator(api, options)
    return gen.raw.text, gen.text


def write(api, out_dir, options=None):
    """Writes OUT/flatuv/raw.nim and OUT/flatuv/api.nim."""
    raw_text, api_text = text(api, options)
    paths = [os.path.join(out_dir, "flatuv", "raw.nim"),
             os.path.join(out_dir, "flatuv", "api.nim")]
    _write_if_changed(paths[0], raw_text)
    _write_if_changed(paths[1], api_text)
    return paths
