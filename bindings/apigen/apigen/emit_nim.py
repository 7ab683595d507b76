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

from . import emit_nim_raw, model, naming
from .emit_roles import _write_if_changed
from .nim_names import (callback_field, callback_type_name, camel,
                        check_clashes, enum_members, enum_name, param_name)
from .nim_procs import (CLOSE, HANDLE_TYPE, LANGUAGE, LOOP_TYPE, ONE_SHOT,
                        PERSISTENT, RAW_ONLY_RESULTS, RAW_ONLY_ROLES, SCOPED,
                        ProcWriter, bare, doc_lines, lifetime)
from .swigxml import ApigenError, pointee

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
            elif p.ctype == "p.q(const).struct sockaddr":
                # A datagram's sender: (ip, port), ("", 0) for none.
                self.sockaddr = p.name
                self.parts.insert(self.parts.index("data"), "address")
            elif p.ctype == "unsigned int":
                self.flags = p.name
                self.parts.insert(self.parts.index("data"), "flags")
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
            elif part == "address":
                out.append("address: tuple[ip: string, port: int]")
            elif part == "flags":
                out.append("flags: int")
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
            elif part == "address":
                out.append("sockaddrAddress(%s)" % param_name(self.sockaddr))
            elif part == "flags":
                out.append("int(%s)" % param_name(self.flags))
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
        # Only the callbacks some function bound in Nim takes: a callback of
        # C's alone (fuv_queue_work's, which runs on a pool thread) has no
        # handle to give a closure, and needs no closure kind.
        used = {a.callback.cname for f in api.functions if f.bound_in(LANGUAGE)
                for a in f.callbacks}
        self.kinds = {}
        for cname, callback in api.callbacks.items():
            if cname in used:
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
            "Ssize", "ConstCstring", "ConstSockAddr", "SockAddr", "Sockaddr_in", "Sockaddr_in6",
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
                kind = self.kinds.get(arg.callback.cname)
                if kind is None or kind.lifetime != PERSISTENT or func.klass is None:
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
            if klass.request:
                # A request (fuv:request): its one reference, given back by
                # the finalizer (newRequest below).
                o.append("  %s* = ref object" % klass.name)
                o.extend(doc_lines(klass.doc or "A request.", "    "))
                o.append("    cptr: ptr %s # nil once released"
                         % self.raw_type(klass.ctype, klass.ctype))
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
        if any("address" in k.parts for k in self.kinds.values()):
            o.append("proc sockaddrAddress(sa: %s): tuple[ip: string, port: int] ="
                     % self.raw_type("p.q(const).struct sockaddr", "sockaddr"))
            o.append("  ## A callback's sockaddr as (ip, port); (\"\", 0) for none.")
            o.append("  if sa == nil: return (\"\", 0)")
            o.append("  var ip = newString(raw.FUV_IP_NAME_MAX)")
            o.append("  var port: cint")
            o.append("  if %s(sa, cstring(ip), csize_t(ip.len), addr port) != 0:"
                     % self.raw_name(naming.PREFIX + "sockaddr_ip"))
            o.append("    return (\"\", 0)")
            o.append("  ip.setLen(len(cstring(ip)))")
            o.append("  (ip, int(port))")
            o.append("")
        o.append("proc checkMs(ms: int; context: string) =")
        o.append("  if ms < 0:")
        o.append("    raise newFlatuvError(raw.FUV_EINVAL, context)")
        o.append("")
        o.append("# The C objects, for flatuv/raw calls this module does not "
                 "make; nil once closed.")
        for klass in self.api.classes:
            raw_t = self.raw_type(klass.ctype, klass.ctype)
            if klass is self.loop_class or klass is self.handle_root or \
                    klass.request:
                expr = "x.cptr"
            else:
                expr = "cast[ptr %s](x.cptr)" % raw_t
            o.append("proc c%s*(x: %s): ptr %s {.inline.} = %s"
                     % (klass.name, klass.name, raw_t, expr))
            o.append("  ## The C %s of x (%s), for flatuv/raw." % (
                "loop" if klass is self.loop_class else
                "request" if klass.request else "handle", klass.ctype))
        for klass in self.api.classes:
            release = [f for f in klass.methods
                       if naming.strip_prefix(f.cname).endswith("_release")]
            if not klass.request or not release:
                continue
            raw_t = self.raw_type(klass.ctype, klass.ctype)
            o.append("")
            o.append("proc release%s(x: %s) =" % (klass.name, klass.name))
            o.append("  if x.cptr != nil:")
            o.append("    %s(x.cptr)" % self.raw_name(release[0].cname))
            o.append("    x.cptr = nil")
            o.append("proc new%s(p: ptr %s): %s =" % (klass.name, raw_t, klass.name))
            o.append("  ## Owns p's reference, released when collected.")
            o.append("  if p == nil: return nil")
            o.append("  new(result, release%s)" % klass.name)
            o.append("  result.cptr = p")
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
                if "address" in kind.parts:
                    # nread 0 with an address is an empty datagram.
                    o.append(indent + "elif %s == 0:" % nread)
                    o.append(indent + "  %s(%s)" % (cb, ", ".join(without + ["nil"])))
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
