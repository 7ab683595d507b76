"""Writes the Lua module's surface: flatuv/api.lua and lua_api.i.

SWIG's Lua module (flatuv.raw) has one function per header function, named
by the C name without the prefix, whose conversions are luv's by role
(roles.i and swig/lua.i): failures return nil, msg, name; predicates
booleans; out-parameters are returned. Two files come from the model:

flatuv/api.lua, data read by bindings/lua/flatuv.lua (hand-written), which
builds `uv` and the metatables from it and then applies the overrides of
bindings/lua/overrides.lua:

  - functions: uv.NAME -> raw name. luv's name of a function is its C name
    without the prefix, since flatuv's C names are libuv's (uv_tcp_bind,
    uv_is_active, uv_loop_alive); constructors are uv.new_WORD, using the
    constructor with the most parameters (fuv_tcp_new_ex: new_tcp([family]));
    fuv:lua:function says where luv differs, as a list whose first name is
    luv's and the others aliases kept for scripts written against them;
  - methods: class word -> {method -> raw name}, by the neutral name
    (fuv:lua:name where luv differs, also a list), each class's table
    holding its own methods; `bases` chains them;
  - objects: the classes whose handles a script holds (each has a
    metatable), and overridden: the uv names of the functions written by
    hand (fuv:lua:override), which the tables leave out;
  - the loop's functions stay module functions: a Lua state has one loop.

lua_api.i, what swig/lua.i takes from the model rather than from lists of
names, so that a function or handle type added to the header is bound with
no edit of lua.i:

  - %ignore for the functions hidden from Lua (fuv:hidden, fuv:lua:hidden);
  - the parameter roles of every function (apigen/roles.py) as %apply of
    the role's typemaps, e.g. (int *INT_OUT1, int *INT_OUT2) for any pair
    of int out-parameters;
  - the handle classes: each class a script holds gets an index and a
    metatable name (fuvlua_class_names); each handle type's pointer
    typemaps accept the classes derived from it
    (FUVLUA_HANDLE_TYPEMAPS(TYPE, MASK, EXPECTED)), and each held class's
    `TYPE **` makes a handle of that class (FUVLUA_NEW_HANDLE(TYPE, INDEX));
  - each callback type's typemaps (FUVLUA_CALLBACK), from its bridge kind,
    fuv:optional and fuv:lifetime.
"""

import os

from . import emit_bridge, model, naming
from .emit_roles import _write_if_changed
from .swigxml import ApigenError

LANGUAGE = "lua"


def raw_name(func):
    """The function's name in flatuv.raw (SWIG's rename in lua.i)."""
    return naming.function_name(func.cname)


def _names(func, key):
    return [n.strip() for n in (func.feature(key) or "").split(",") if n.strip()]


def function_names(func):
    """uv.NAME for a function: luv's name first, then any aliases."""
    return _names(func, "lua:function") or [naming.function_name(func.cname)]


def function_name(func):
    return function_names(func)[0]


def method_names(func):
    return _names(func, "lua:name") or [func.name]


def method_name(func):
    return method_names(func)[0]


def constructor_of(klass):
    """The constructor behind uv.new_WORD: the one taking the most."""
    bound = [f for f in klass.constructors if f.bound_in(LANGUAGE)]
    if not bound:
        return None
    return max(bound, key=lambda f: len(f.inputs))


def _loop_classes(api):
    """The object handles are made on (the loop): the state's own."""
    return {a.klass for k in api.classes for c in k.constructors
            for a in c.inputs if a.role == "object"}


def tables(api):
    """(functions, methods, bases): uv name -> raw name; class word ->
    {method name -> raw name}; class word -> base class word. Functions
    hidden from Lua or written by hand (fuv:lua:override) are left out."""
    functions, methods, bases = {}, {}, {}
    loop = _loop_classes(api)

    def generated(func):
        return func.bound_in(LANGUAGE) and not func.overridden_in(LANGUAGE)

    for func in api.functions:
        if generated(func):
            for name in function_names(func):
                functions[name] = raw_name(func)
    for klass in api.classes:
        if klass.base is not None:
            bases[klass.word] = klass.base.word
        ctor = constructor_of(klass)
        if ctor is not None and generated(ctor):
            functions.setdefault("new_" + klass.word, raw_name(ctor))
        if klass in loop:
            continue  # one loop per state: its functions are uv.*
        own = {}
        for func in klass.methods:
            if generated(func):
                for name in method_names(func):
                    own[name] = raw_name(func)
        methods[klass.word] = own
    return functions, methods, bases


def constant_names(api):
    """(errno, constants): the names (FUV_ prefix gone, as flatuv.raw has
    them) of the error codes, for luv's uv.errno, and of every other
    enum's items, for uv.constants, each in header order. uv.constants
    holds what luv's does: values a call takes or gives (address
    families, socket types, flags, states). Enums' bounds are left out by
    the model's rule, and so are the header's loose #defines: the version
    parts (uv.version() says it) and sizes of C buffers are C's alone."""
    errno, constants = [], []
    for enum in api.enums:
        target = errno if enum.cname == model.ERRNO_ENUM else constants
        target.extend(naming.constant_name(c.cname) for c in enum.items
                      if not model.hidden_in(c, LANGUAGE))
    return errno, constants


def overridden(api):
    """The uv names of the functions bindings/lua/overrides.lua writes."""
    return sorted(function_name(f) for f in api.functions
                  if f.bound_in(LANGUAGE) and f.overridden_in(LANGUAGE))


# ---- handle classes -----------------------------------------------------------


def held_classes(api):
    """The classes a script holds handles of, each with a metatable: those
    a function makes (a constructor, accept's client), in header order."""
    made = set()
    for func in api.functions:
        if not func.bound_in(LANGUAGE):
            continue
        if func.constructor:
            made.add(func.klass)
        for arg in func.args:
            if arg.role == "new_object":
                made.add(arg.klass)
    return [k for k in api.handle_classes if k in made]


def class_indices(api):
    """{Klass: index}: the held classes' indices, from 1 (fuvlua_box.cls)."""
    return {k: i + 1 for i, k in enumerate(held_classes(api))}


def class_mask(api, klass):
    """The classes an argument of klass's type accepts, as a C expression:
    its own and its subclasses', if held."""
    indices = class_indices(api)
    bits = ["(1u << %d)" % i for k, i in indices.items() if k.is_a(klass)]
    return "(%s)" % " | ".join(bits) if bits else "0u"


def expected_name(api, klass):
    """What a wrong argument's error says was expected: "flatuv.tcp" for a
    held class (its metatable's name), "flatuv stream" for the others."""
    if klass in class_indices(api):
        return "flatuv." + klass.word
    return "flatuv " + klass.word


# ---- callbacks --------------------------------------------------------------------


def bridge_kind(callback):
    """The bridge's kind of a callback type: fuv_timer_cb ->
    FUV_BRIDGE_TIMER_CB, by the rule of the bridge's generated table."""
    return emit_bridge.kind_name(callback)


def callback_rows(api):
    """[(Callback, owner, owner_box)] for each callback type a bound
    function takes: owner is the C expression of the handle the
    registration belongs to (the function's handle, `arg1`; the new one a
    constructor makes, `createdN`; NULL for the loop's and module
    functions'), owner_box that handle's box when it exists before the call
    and the registration persists (so that starting again reuses it)."""
    handles = set(api.handle_classes)
    rows = []
    for cname, callback in api.callbacks.items():
        owners = set()
        for func in api.functions:
            if not func.bound_in(LANGUAGE) or not any(
                    a.role == "callback" and a.callback is callback for a in func.args):
                continue
            if func.constructor:
                made = [i for i, p in enumerate(func.decl.params, 1)
                        if p.ctype == "p.p." + func.klass.ctype]
                owners.add(("created%d" % made[0], "NULL"))
            elif func.klass in handles and callback.lifetime != "scoped":
                box = "box1" if callback.lifetime == "persistent" else "NULL"
                owners.add(("arg1", box))
            else:
                owners.add(("NULL", "NULL"))
        if not owners:
            continue
        if len(owners) > 1:
            raise ApigenError("%s: taken by constructors and methods alike; "
                              "say in apigen/emit_lua.py whose it is" % cname)
        owner, box = owners.pop()
        rows.append((callback, owner, box))
    return rows


# ---- the files ----------------------------------------------------------------------


def _lua_table(mapping, indent):
    pad = " " * indent
    lines = ["{"]
    for key in sorted(mapping):
        value = mapping[key]
        if isinstance(value, dict):
            lines.append("%s  %s = %s," % (pad, key, _lua_table(value, indent + 2)))
        else:
            lines.append('%s  %s = "%s",' % (pad, key, value))
    lines.append(pad + "}")
    return "\n".join(lines)


def _lua_list(items):
    return "{ %s }" % ", ".join('"%s"' % i for i in items) if items else "{}"


def text(api):
    functions, methods, bases = tables(api)
    errno, constants = constant_names(api)
    return "\n".join([
        "-- Generated by bindings/apigen from swig/flatuv.i; do not edit.",
        "-- Where each function of flatuv.raw is reached from (see",
        "-- bindings/apigen/apigen/emit_lua.py): uv.NAME, and the method",
        "-- tables of each object type, chained by bases.",
        "return {",
        "  functions = %s," % _lua_table(functions, 2),
        "  methods = %s," % _lua_table(methods, 2),
        "  bases = %s," % _lua_table(bases, 2),
        "  objects = %s," % _lua_list([k.word for k in held_classes(api)]),
        "  requests = %s," % _lua_list([k.word for k in api.classes if k.request]),
        "  overridden = %s," % _lua_list(overridden(api)),
        "  errno = %s," % _lua_list(errno),
        "  constants = %s," % _lua_list(constants),
        "}",
        ""])


def swig_text(api):
    out = ["/* Generated by bindings/apigen (apigen/emit_lua.py) from the SWIG",
           " * interface; do not edit. See swig/lua.i. */", "",
           "/* Not bound in Lua (fuv:hidden, fuv:lua:hidden in swig/api.i). */"]
    out += ["%%ignore %s;" % f.cname for f in api.functions
            if not f.bound_in(LANGUAGE)]
    held = held_classes(api)
    out += ["", "/* The handle classes a script holds, by index (fuvlua_box.cls), and",
            " * their metatables' names. */", "%{",
            "const char *const fuvlua_class_names[] = {",
            "    NULL,"]
    out += ['    "flatuv.%s",' % k.word for k in held]
    out += ["    NULL};", "/* The classes each handle type accepts, for the runtime's own",
            " * functions (bindings/lua/src: accept's adapter). */"]
    out += ["const unsigned fuvlua_class_mask_%s = %s;" % (k.word, class_mask(api, k))
            for k in api.handle_classes]
    out += ["%}", "",
            "/* Each handle type's pointers accept its own class and its",
            " * subclasses'; a held class's TYPE ** (constructors, accept) makes",
            " * a handle of that class. */"]
    for klass in api.handle_classes:
        out.append('FUVLUA_HANDLE_TYPEMAPS(%s, %s, "%s")'
                   % (klass.ctype, class_mask(api, klass), expected_name(api, klass)))
    for index, klass in enumerate(held, 1):
        out.append("FUVLUA_NEW_HANDLE(%s, %d)" % (klass.ctype, index))
    out += ["", "/* Callbacks, per callback type: the bridge's kind, whether nil may",
            " * be given (fuv:optional), whose registration it is, and by its",
            " * lifetime (fuv:lifetime): close's and the requests' always",
            " * register, to learn when they complete; a scoped one's errors come",
            " * out of the call; nil for a persistent one drops the handle's. */"]
    for callback, owner, box in callback_rows(api):
        kind = bridge_kind(callback)
        out.append("FUVLUA_CALLBACK(%s, %s, %d, %s, %s)"
                   % (callback.cname, kind, int(callback.optional), owner, box))
        if callback.lifetime in ("one_shot", "close"):
            out.append("FUVLUA_ALWAYS_REGISTER(%s, %s)" % (callback.cname, kind))
        elif callback.lifetime == "scoped":
            out.append("FUVLUA_SCOPED(%s, %s)" % (callback.cname, kind))
        elif callback.optional and owner == "arg1":
            out.append("FUVLUA_CLEAR_ON_NIL(%s, %s)" % (callback.cname, kind))
        if callback.optional:
            out.append("FUVLUA_OPTIONAL(%s)" % callback.cname)
    out += nil_params(api)
    return "\n".join(out) + "\n"


def nil_params(api):
    """The string parameters that may be nil (fuv:none, e.g. a UDP
    send's ip: the connected peer): each such parameter name's `in`
    typemap asks FUVLUA_NONE(wrapper, name), defined here for every bound
    function with a parameter of that name, so that the others (a TCP
    bind's ip) still require a string."""
    names = []
    for func in api.functions:
        for arg in func.args:
            if arg.optional and arg.role != "callback" and \
                    arg.params[0].ctype == "p.q(const).char" and \
                    arg.params[0].name not in names:
                names.append(arg.params[0].name)
    if not names:
        return []
    out = ["", "/* String parameters that may be nil (fuv:none), by wrapper: 1 where",
           " * the C function takes NULL for none. */", "%{",
           "#define FUVLUA_NONE(sym, param) FUVLUA_NONE_##sym##_##param"]
    for func in api.functions:
        if not func.bound_in(LANGUAGE):
            continue
        nullable = {a.params[0].name for a in func.args
                    if a.optional and a.role != "callback"}
        defined = []
        for param in func.decl.params:
            # A port's typemap asks about its ip (an address group).
            name = "ip" if param.name == "port" and param.ctype == "int" and \
                "ip" in names else param.name
            if name in names and name not in defined and \
                    param.ctype in ("p.q(const).char", "int"):
                defined.append(name)
                out.append("#define FUVLUA_NONE_%s_%s %d" % (
                    raw_name(func), name, int(name in nullable)))
    out.append("%}")
    for name in names:
        out += ["%%typemap(in) const char *%s %%{" % name,
                "  $1 = ($1_ltype)fuvlua_check_cstring(L, $input, "
                "FUVLUA_NONE($symname, %s));" % name,
                "%}"]
    if "ip" in names:
        # An address's port, nil with a nil ip (luv's udp:send(data, nil,
        # nil, cb), udp:connect(nil, nil)).
        out += ["%typemap(in) int port %{",
                "  $1 = FUVLUA_NONE($symname, ip) && lua_isnil(L, $input)",
                "           ? 0",
                "           : ($1_ltype)fuvlua_check_integer(L, $input, INT_MIN, INT_MAX);",
                "%}"]
    return out


def write(api, out_dir, options=None):
    paths = [os.path.join(out_dir, "flatuv", "api.lua"),
             os.path.join(out_dir, "lua_api.i")]
    _write_if_changed(paths[0], text(api))
    _write_if_changed(paths[1], swig_text(api))
    return paths
