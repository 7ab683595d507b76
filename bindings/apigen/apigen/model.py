"""The API model every binding's surface is generated from.

Built from SWIG's XML of swig/flatuv.i (apigen.swigxml), the header's
comments (apigen.docs), the rules (apigen.roles, apigen.naming) and the
interface's annotations (swig/api.i). It says, for each function, once:

  - the class it belongs to (Loop, Handle, Stream, TCP, Timer, Async; None
    for a module function), and whether it constructs that class;
  - its neutral name (naming.py) and any per-language name;
  - the role of its result (roles.RESULT_ROLES) and, for an enum or a
    duration, its type or unit;
  - its arguments as the bindings see them: C parameters grouped by role
    (an address is one argument of two C parameters; a callback's `void
    *arg` is the bridge's and no argument at all), with defaults;
  - its outputs (out-parameters returned as a tuple / multiple returns);
  - its documentation.

Annotations (SWIG features, each %feature("fuv:KEY", "VALUE") NAME;):

  on an object type:  base=fuv_handle_t     the class it derives from (by
                                            default fuv_handle_t, but for the
                                            loop and the handle itself)
                      request               a request, not a handle: owned
                                            by the library, refcounted; a
                                            trailing `fuv_X_t **` of its
                                            type is an output (request_out)
                                            and the binding object releases
                                            its reference when collected
                      release=FUNC          the function that gives a
                                            reference back (fuv_req_release)
  on a callback type: optional              the callback may be nil/None
  on a function:      result=ROLE[:TYPE]    the result's role (roles.py),
                      unit=ms               the result is a duration in ms
                      name=NAME             the neutral name, every language
                      python:name, lua:name, lua:function (the uv.* name)
                      python=property       a read-only property (a setter
                                            set_NAME joins it)
                      python:order=A,B      Python's argument order
                      defaults=P=V,...      defaults of C parameters, as C
                                            constants or literals
                      required=P            a callback that may not be nil
                      none=P,...            these pointer parameters may be
                                            NULL (an address's ip: a UDP
                                            send to the connected peer); the
                                            argument is then optional, none
                                            by default (None / nil)
                      args:enum=P=TYPE,...  int parameters that take an
                                            enum's values (membership)
                      hidden=LANG,...       not bound in these languages
                                            (or LANG:hidden)
                      override=LANG,...     hand-written in these languages'
                                            overrides files (or LANG:override)
  on a callback type: lifetime=one_shot|close|scoped (default persistent)
"""

from . import naming, roles
from .docs import DocIndex
from .swigxml import ApigenError, Interface, resolve_values

LANGUAGES = ("python", "lua", "nim")

# The enum whose items are the error codes (the header's one X-macro
# table): raised or returned as failures, never passed, so each binding
# keeps them apart from the other constants (Python's errorcode, luv's
# uv.errno).
ERRNO_ENUM = "fuv_errno_t"


def feature(decl_or_obj, key, default=None):
    """An annotation of any declaration or model object:
    feature(enum, "python:name")."""
    features = getattr(decl_or_obj, "features", None) or {}
    return features.get(key.replace(":", "_"), default)


def hidden_in(obj, language):
    """Whether an object is left out of a language's surface: by the
    annotations, and for every language when it is an enum's bound."""
    if getattr(obj, "is_bound", False):
        return True
    value = feature(obj, "hidden") or ""
    return language in [v.strip() for v in value.split(",")] or \
        feature(obj, language + ":hidden") is not None


class Result:
    def __init__(self, role, ctype, enum=None, unit=None, klass=None):
        self.role = role      # roles.RESULT_ROLES
        self.ctype = ctype    # SWIG type string
        self.enum = enum      # Enum, for role ENUM
        self.unit = unit      # "ms" for durations
        self.klass = klass    # Klass, for role OBJECT

    def __repr__(self):
        return "Result(%s)" % self.role


class Arg:
    """One argument as the bindings see it: one or more C parameters."""

    def __init__(self, role, params, default=None, **extra):
        self.role = role          # see Function.args
        self.params = params      # the C parameters (swigxml.Param)
        self.default = default    # C text (constant name, literal, "NULL")
        self.klass = extra.get("klass")        # Klass: self / new_object / object
        self.callback = extra.get("callback")  # Callback, for role callback
        self.enum = extra.get("enum")          # Enum, for role enum
        self.optional = extra.get("optional", False)

    @property
    def name(self):
        """The argument's name: its first C parameter's, or the role's for
        groups (address, bytes, ...)."""
        if len(self.params) == 1 or self.role in ("callback",):
            return self.params[0].name
        return self.role

    @property
    def is_input(self):
        return self.role not in roles.OUT_ROLES and self.role not in (
            "self", "new_object", "hidden")

    @property
    def is_output(self):
        return self.role in roles.OUT_ROLES or self.role in (
            "recv_buffer", "new_object")

    def __repr__(self):
        none = " or none" if self.optional and self.role != "callback" else ""
        return "Arg(%s %s%s%s)" % (self.role, self.name, none,
                                   "=" + self.default if self.default else "")


class Function:
    def __init__(self, decl, doc):
        self.decl = decl
        self.cname = decl.cname
        self.doc = doc
        self.features = decl.features
        self.klass = None         # Klass of which it is a method or constructor
        self.constructor = False
        self.name = None          # the neutral (snake_case) name
        self.result = None
        self.args = []            # Arg, in C order (self first for methods)

    def feature(self, key, default=None):
        return self.features.get(key.replace(":", "_"), default)

    def names(self, key):
        """The comma-separated list of annotation `key`."""
        value = self.feature(key)
        return [v.strip() for v in value.split(",")] if value else []

    def name_in(self, language):
        """The function's name in a language that spells names in
        snake_case (Python, Lua): fuv:LANG:name, else the neutral name."""
        return self.feature(language + ":name") or self.name

    def bound_in(self, language):
        return language not in self.names("hidden") and \
            self.feature(language + ":hidden") is None

    def overridden_in(self, language):
        return language in self.names("override") or \
            self.feature(language + ":override") is not None

    @property
    def inputs(self):
        """The arguments a caller passes (self excluded)."""
        return [a for a in self.args if a.is_input and a.role != "self"]

    @property
    def outputs(self):
        return [a for a in self.args if a.is_output]

    @property
    def callbacks(self):
        return [a for a in self.args if a.role == "callback"]

    @property
    def is_method(self):
        return self.klass is not None and not self.constructor

    def __repr__(self):
        return "Function(%s)" % self.cname


class Klass:
    def __init__(self, decl, doc):
        self.decl = decl
        self.ctype = decl.cname            # fuv_tcp_t
        self.word = naming.object_word(decl.cname)
        self.name = decl.symname if decl.renamed else naming.class_name(decl.cname)
        self.doc = doc
        self.base = None                   # Klass
        self.kind = None                   # Constant: the handle type (FUV_TCP)
        self.request = "request" in decl.features   # a request (fuv_req_t)
        self.constructors = []
        self.methods = []

    @property
    def ancestors(self):
        klass = self.base
        while klass is not None:
            yield klass
            klass = klass.base

    def is_a(self, other):
        return self is other or other in self.ancestors

    @property
    def words(self):
        """Its object word and its bases', for the naming rule."""
        return [self.word] + [k.word for k in self.ancestors]

    def __repr__(self):
        return "Klass(%s)" % self.name


class Constant:
    def __init__(self, decl, doc, enum=None):
        self.decl = decl
        self.cname = decl.cname
        self.name = naming.constant_name(decl.cname)
        self.value = decl.value_int
        self.text = decl.value
        self.doc = doc
        self.enum = enum
        self.features = decl.features

    @property
    def is_bound(self):
        """Whether this enum item is the enum's bound rather than one of its
        values: named *_MAX (libuv's UV_HANDLE_TYPE_MAX, UV_ERRNO_MAX) and
        beyond every other item, so that no call takes or gives it. A
        caller of any binding never needs it, and a Lua or Python user who
        finds FUV_ERRNO_MAX among the codes would take it for one."""
        if self.enum is None or not self.cname.endswith("_MAX") or \
                self.value is None:
            return False
        others = [c.value for c in self.enum.items
                  if c is not self and c.value is not None]
        return bool(others) and (self.value > max(others) or
                                 self.value < min(others))

    def __repr__(self):
        return "Constant(%s=%r)" % (self.cname, self.value)


class Enum:
    def __init__(self, decl, doc):
        self.decl = decl
        self.features = decl.features
        self.cname = decl.cname
        self.name = decl.symname if decl.renamed else naming.class_name(decl.cname)
        self.doc = doc
        self.items = []
        self.used = False   # a parameter or result has this type

    def __repr__(self):
        return "Enum(%s)" % self.name


class Callback:
    def __init__(self, decl, doc):
        self.decl = decl
        self.cname = decl.cname
        self.doc = doc
        self.params = decl.params   # C parameters, the last the void *arg
        self.optional = "optional" in decl.features
        self.lifetime = decl.features.get("lifetime", "persistent")

    def __repr__(self):
        return "Callback(%s)" % self.cname


class Api:
    """The whole API: classes, module functions, enums, constants,
    callbacks, each in header order."""

    def __init__(self, iface, docs):
        self.iface = iface
        self.docs = docs
        self.module_doc = docs.module_doc
        self.classes = []
        self.functions = []        # every function, header order
        self.enums = []
        self.constants = []        # loose #defines and enum items
        self.callbacks = {}
        self._build()

    # -- lookups --------------------------------------------------------

    def klass(self, ctype):
        return self._classes.get(ctype)

    def function(self, cname):
        return self._functions[cname]

    @property
    def handle_classes(self):
        """The classes that derive from the root of the handle hierarchy
        (the class that others derive from and that derives from none:
        Handle), the root included, in header order."""
        roots = [k for k in self.classes if k.base is None and
                 any(c.base is k for c in self.classes)]
        return [k for k in self.classes if any(k.is_a(r) for r in roots)]

    @property
    def module_functions(self):
        return [f for f in self.functions if f.klass is None]

    def constant(self, cname):
        return self._constants.get(cname)

    # -- building --------------------------------------------------------

    def _build(self):
        self._classes, self._functions, self._constants = {}, {}, {}
        self._enums = {}
        for decl in self.iface.decls:
            doc = self.docs.get(decl.cname)
            if decl.kind == "opaque":
                klass = Klass(decl, doc)
                self.classes.append(klass)
                self._classes[decl.cname] = klass
            elif decl.kind == "callback":
                self.callbacks[decl.cname] = Callback(decl, doc)
            elif decl.kind == "enum":
                enum = Enum(decl, doc)
                self.enums.append(enum)
                self._enums[decl.cname] = enum
                for item in decl.items:
                    const = Constant(item, self.docs.get(item.cname), enum)
                    enum.items.append(const)
                    self.constants.append(const)
                    self._constants[item.cname] = const
            elif decl.kind == "constant":
                const = Constant(decl, doc)
                self.constants.append(const)
                self._constants[decl.cname] = const
        root, loop = naming.PREFIX + "handle_t", naming.PREFIX + "loop_t"
        for klass in self.classes:
            base = klass.decl.features.get("base")
            # An object type added to the header is a handle, unless the
            # interface says it derives from another.
            if not base and klass.ctype not in (root, loop) and \
                    root in self._classes and not klass.request:
                base = root
            if base:
                if base not in self._classes:
                    raise ApigenError("%s: base %s is not an object type"
                                      % (klass.ctype, base))
                klass.base = self._classes[base]
            kind = "FUV_" + klass.word.upper()
            if klass.base is not None and kind in self._constants:
                klass.kind = self._constants[kind]
        for decl in self.iface.decls:
            if decl.kind == "function":
                func = Function(decl, self.docs.get(decl.cname))
                self._place(func)
                func.result = self._result(func)
                func.args = self._args(func)
                # A call with out-parameters returns them, not its int.
                if func.outputs and func.result.role == roles.COUNT and \
                        not func.feature("result"):
                    func.result.role = roles.STATUS
                self.functions.append(func)
                self._functions[func.cname] = func

    def _place(self, func):
        """Gives the function its class and neutral name (naming.py)."""
        params = func.decl.params
        first = params[0].ctype if params else None
        made = roles.object_out(first, self._classes) if first else None
        owner = roles.object_pointer(first, self._classes) if first else None
        if made and naming.strip_prefix(func.cname).startswith(
                self._classes[made].word + "_new"):
            func.klass = self._classes[made]
            func.constructor = True
            func.name = naming.method_name(func.cname, [func.klass.word])
        elif owner:
            func.klass = self._classes[owner]
            func.name = naming.method_name(func.cname, func.klass.words)
            func.klass.methods.append(func)
        else:
            func.name = naming.function_name(func.cname)
        if func.constructor:
            func.klass.constructors.append(func)
        func.name = func.feature("name") or func.name

    def _result(self, func):
        ctype = func.decl.ret
        spec = func.feature("result") or ""
        role, _, typename = spec.partition(":")
        unit = func.feature("unit")
        if role and role not in roles.RESULT_ROLES:
            raise ApigenError("%s: unknown result role %r" % (func.cname, role))
        if role in (roles.ENUM, roles.ENUM_OR_NONE):
            enum = self._enum(typename, func.cname)
            enum.used = True
            return Result(role, ctype, enum=enum, unit=unit)
        if role:
            return Result(role, ctype, unit=unit)
        if ctype == "void":
            return Result(roles.NONE, ctype)
        if ctype in self._enums:
            enum = self._enums[ctype]
            enum.used = True
            return Result(roles.ENUM, ctype, enum=enum, unit=unit)
        if roles.is_string_type_result(ctype):
            return Result(roles.STRING, ctype)
        if ctype == "p.void":
            return Result(roles.POINTER, ctype)
        klass = roles.object_pointer(ctype, self._classes)
        if klass:
            return Result(roles.OBJECT, ctype, klass=self._classes[klass])
        if ctype == "int":
            if roles.PREDICATE_NAME.search(naming.strip_prefix(func.cname)):
                return Result(roles.PREDICATE, ctype)
            # A getter (of a const object) returns a value; anything else a
            # status, unless it has out-parameters.
            params = func.decl.params
            if params and roles.is_const_pointer(params[0].ctype) and \
                    roles.object_pointer(params[0].ctype, self._classes):
                return Result(roles.COUNT, ctype, unit=unit)
            return Result(roles.STATUS, ctype)
        return Result(roles.VALUE, ctype, unit=unit)

    def _enum(self, cname, context):
        if cname not in self._enums:
            raise ApigenError("%s: %r is not an enum of the interface"
                              % (context, cname))
        return self._enums[cname]

    def _args(self, func):
        params = [p for p in func.decl.params
                  if not (p.ctype == "void" and len(func.decl.params) == 1)]
        defaults = dict(_pairs(func.feature("defaults")))
        required = set(func.names("required"))
        nullable = set(func.names("none"))
        enums = dict(_pairs(func.feature("args:enum")))
        args, i = [], 0
        while i < len(params):
            param = params[i]
            role, length = roles.match_group(params, i)
            extra = {}
            if role is None and param.name in enums:
                enum = self._enum(enums.pop(param.name), func.cname)
                enum.used = True
                role, extra = "enum", {"enum": enum}
            elif role is None:
                role, extra = self._single_role(func, i, param, params)
            if param.name in nullable:
                nullable.discard(param.name)
                extra["optional"] = True
            if role == "callback":
                cb = extra["callback"]
                extra["optional"] = cb.optional and param.name not in required
                # The callback's void *arg is the bridge's.
                if i + 1 < len(params) and params[i + 1].ctype == "p.void":
                    length = 2
            group = params[i:i + length]
            default = defaults.pop(param.name, None)
            if role == "callback" and extra.get("optional") and default is None:
                default = "NULL"
            args.append(Arg(role, group, default, **extra))
            i += length
        if defaults:
            raise ApigenError("%s: defaults for no parameter: %s"
                              % (func.cname, ", ".join(sorted(defaults))))
        if nullable or enums:
            raise ApigenError("%s: fuv:none or fuv:args:enum for no parameter: "
                              "%s" % (func.cname,
                                      ", ".join(sorted(nullable | set(enums)))))
        return args

    def _single_role(self, func, i, param, params):
        ctype, name = param.ctype, param.name or ""
        if i == 0 and func.constructor:
            return "self", {"klass": func.klass}
        if i == 0 and func.is_method:
            return "self", {"klass": func.klass}
        made = roles.object_out(ctype, self._classes)
        if made and self._classes[made].request:
            return "request_out", {"klass": self._classes[made]}
        if made:
            return "new_object", {"klass": self._classes[made]}
        owner = roles.object_pointer(ctype, self._classes)
        if owner:
            return "object", {"klass": self._classes[owner]}
        if ctype in self.callbacks:
            return "callback", {"callback": self.callbacks[ctype]}
        if ctype == "p.void":
            return "hidden", {}
        if ctype in self._enums:
            enum = self._enums[ctype]
            enum.used = True
            return "enum", {"enum": enum}
        if roles.is_int(ctype) and name in roles.FLAG_NAMES:
            return "flag", {}
        if name == roles.TIMEOUT_NAME and ctype == "int":
            return "timeout_ms", {}
        if roles.MS_NAME.search(name):
            return "duration_ms", {}
        if roles.SECONDS_NAME.search(name):
            return "duration_s", {}
        if ctype == "p.q(const).char":
            return "string", {}
        if roles.is_int(ctype) or ctype in ("size_t", "uint64_t", "int64_t",
                                            "ssize_t", "uint32_t"):
            return "int", {}
        raise ApigenError("%s(%s): no role for C type %r; add a rule to "
                          "apigen/roles.py" % (func.cname, name, ctype))


def _pairs(text):
    for item in (text or "").split(","):
        item = item.strip()
        if item:
            key, _, value = item.partition("=")
            yield key.strip(), value.strip()


def load(xml_path, swiglib=None, include_dirs=(), cc=None, header="flatuv.h",
         values=True):
    """The Api of an interface from SWIG's XML. With values, constants get
    their values (from the C compiler where they depend on system
    headers)."""
    iface = Interface.from_xml(xml_path, swiglib)
    docs = DocIndex(naming.PREFIX)
    names = [d.cname for d in iface.all_decls()]
    for path in iface.headers:
        docs.add_header(path, names)
    if values:
        resolve_values(iface, header, list(include_dirs), cc or "cc")
    return Api(iface, docs)
