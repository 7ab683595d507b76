"""One function's proc in the Nim idiomatic layer (emit_nim): its
parameters, converted by role (callbacks last; a default only where every
later parameter has one), the C call and what the result becomes."""

from . import emit_nim_raw, model, naming, roles
from .nim_names import camel, enum_members, enum_name, param_name, proc_name
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
        self.addresses = []  # (ip, port) Nim parameters, for the message
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
        pragma = " {.discardable.}" if ret == "Req" else ""
        head = "proc %s*(%s)%s%s =" % (self.name, "; ".join(shown),
                                       (": " + ret) if ret else "", pragma)
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
            value = "%sValues[%s]" % (camel(enum_name(enum)), name)
            # An int parameter that takes an enum's values (fuv:args:enum).
            self.c_args.append("%s(%s)" % (raw_t, value) if ctype == "int" else value)
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
        elif role == "string" and arg.optional:
            # None: "" (the system's choice of interface).
            self._add_param(name, "string", self._default(arg) or '""')
            self.c_args.append("(if %s.len == 0: nil else: cstring(%s))" % (name, name))
        elif role == "string":
            self._add_param(name, "string", self._default(arg))
            self.c_args.append("cstring(%s)" % name)
        elif role == "address":
            ip, port = arg.params
            if arg.optional:
                # None: "" (a UDP send to the connected peer, a disconnect).
                self._add_param(param_name(ip.name), "string", '""')
                self._add_param(param_name(port.name), "int", "0")
                self.c_args.append("(if %s.len == 0: nil else: cstring(%s))"
                                   % (param_name(ip.name), param_name(ip.name)))
            else:
                self._add_param(param_name(ip.name), "string")
                self._add_param(param_name(port.name), "int")
                self.c_args.append("cstring(%s)" % param_name(ip.name))
            self.c_args.append("%s(%s)" % (g.raw_type(port.ctype, f.cname),
                                           param_name(port.name)))
            # The message names the address too: bindAddr("999.1.1.1", 0)
            # (check's context is evaluated only when the call failed).
            self.addresses.append((param_name(ip.name), param_name(port.name)))
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
            self._add_param("size", "int", self._default(arg))
            self.pre.append("var data = newString(size)")
            self.c_args.append("cstring(data)")
            self.c_args.append("%s(size)" % g.raw_type(length.ctype, f.cname))
            self.post.append("data.setLen(rc)")
            self.outputs.append(("data", "string", "data"))
        elif role == "address_out":
            ip, iplen, port = arg.params
            size = "raw.FUV_IP_NAME_MAX" if g.api.constant("FUV_IP_NAME_MAX") else "256"
            self.pre.append("var ip = newString(%s)" % size)
            self.pre.append("var port: %s" % g.raw_type(pointee(port.ctype), f.cname))
            self.c_args += ["cstring(ip)", "%s(ip.len)" % g.raw_type(iplen.ctype, f.cname),
                            "addr port"]
            self.post.append("ip.setLen(len(cstring(ip)))")
            self.outputs.append(("(ip, int(port))", "tuple[ip: string, port: int]",
                                 "address"))
        elif role == "text_out":
            dst, size = arg.params
            n = param_name(dst.name)
            limit = "raw.FUV_IP_NAME_MAX" if g.api.constant("FUV_IP_NAME_MAX") else "256"
            self.pre.append("var %s = newString(%s)" % (n, limit))
            self.c_args += ["cstring(%s)" % n, "%s(%s.len)" % (
                g.raw_type(size.ctype, f.cname), n)]
            self.post.append("%s.setLen(len(cstring(%s)))" % (n, n))
            self.outputs.append((n, "string", None))
        elif role == "uint64_out":
            p = arg.params[0]
            n = param_name(p.name)
            self.pre.append("var %s: %s" % (n, g.raw_type(pointee(p.ctype), f.cname)))
            self.c_args.append("addr " + n)
            self.outputs.append(("%s" % n, "uint64", bare(n)))
        elif role == "name":
            data, length, flags = arg.params
            n = param_name(data.name)
            self._add_param(n, "string")
            self.c_args.append("cstring(%s)" % n)
            self.c_args.append("%s(%s.len)" % (g.raw_type(length.ctype, f.cname), n))
            self.c_args.append("%s(0)" % g.raw_type(flags.ctype, f.cname))
        elif role == "name_out":
            buf, size, length = arg.params
            self.pre.append("var name = newString(256)")
            self.pre.append("var nameLen: csize_t")
            self.c_args += ["cstring(name)", "csize_t(name.len)", "addr nameLen"]
            self.post.append("name.setLen(int(nameLen))")
            self.outputs.append(("name", "string", None))
        elif role == "request_out":
            # The request the call made: a Req the caller may ignore (the
            # proc is discardable), released when collected.
            self.pre.append("var reqOut: ptr raw.Req")
            self.c_args.append("addr reqOut")
            self.outputs.append(("newReq(reqOut)", "Req", None))
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
        if role == roles.ENUM_OR_NONE:
            return "Option[%s]" % enum_name(self.gen._enum_of[f.result.enum.cname])
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
        if self.addresses:
            ctx = '"%s(" & %s & ")"' % (self.context, ' & ", " & '.join(
                '"\\"" & %s & "\\", " & $%s' % pair for pair in self.addresses))
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
            elif role == roles.ENUM_OR_NONE:
                enum = enum_name(g._enum_of[f.result.enum.cname])
                out.append("result = if rc < 0: none(%s) else: some(to%s(cint(rc)))"
                           % (enum, enum))
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
        out.extend(self.post)
        if naming.strip_prefix(f.cname).endswith("_free") and self.self_name:
            out.append("%s.cptr = nil" % self.self_name)
        values = [o for o in self.outputs if not o[0].startswith("NEW:")]
        if values:
            if len(values) == 1:
                out.append("result = " + values[0][0])
            else:
                out.append("result = (%s)" % ", ".join(v[0] for v in values))
        return out
