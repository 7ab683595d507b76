"""Writes roles.i: the result role of every function, as SWIG %apply lines.

SWIG picks a result's conversion by its type and the function's name, so
that a role given by rule (apigen.model) reaches each language's SWIG
module only when someone lists the function under that role's typemap.
This emitter makes that list from the model: the language modules define
one typemap per role (swig/python.i, swig/lua.i) and %include the
generated roles.i, so a predicate added to the header is a boolean in Lua
and Python with no other edit.

  int FUV_STATUS     the default of every int (flatuv.i): < 0 is an error
  int FUV_COUNT      < 0 an error, else a value returned (fds, counts)
  int FUV_VALUE      a value even when negative
  int FUV_PREDICATE  < 0 an error, else a boolean
  int FUV_OUTPUTS    < 0 an error, else nothing: the out-parameters are
                     the results (getsockname, accept, the constructors)
  int FUV_ENUM_<enum> / <enum> FUV_ENUM
                     a value of that enum (Lua gives its name too)
  int FUV_ENUM_OR_NONE_<enum>
                     a value of that enum, or < 0 for none (None / nil)

It also applies the typemaps of each parameter group (roles.PARAM_GROUPS:
bytes, buffers, an address out, a pair of ints out ...) to the C
parameters of every function that has one, whatever their names, so that
a getter's (int *due_in, int *repeat) is a pair of outputs in every
language. The languages include roles.i after defining those typemaps.
"""

from . import roles


def role_lists(api):
    """{typemap pattern: [function C names]} in header order."""
    lists = {}

    def add(pattern, func):
        lists.setdefault(pattern, []).append(func.cname)

    for func in api.functions:
        role, ctype = func.result.role, func.result.ctype
        if ctype != "int":
            if role == roles.ENUM:
                add("%s FUV_ENUM" % func.result.enum.cname, func)
            continue
        if (func.outputs or func.constructor) and role in (roles.STATUS,
                                                           roles.COUNT):
            add("int FUV_OUTPUTS", func)
        elif role == roles.COUNT:
            add("int FUV_COUNT", func)
        elif role == roles.VALUE:
            add("int FUV_VALUE", func)
        elif role == roles.PREDICATE:
            add("int FUV_PREDICATE", func)
        elif role == roles.ENUM:
            add("int FUV_ENUM_%s" % func.result.enum.cname, func)
        elif role == roles.ENUM_OR_NONE:
            add("int FUV_ENUM_OR_NONE_%s" % func.result.enum.cname, func)
    return lists


# The typemaps of each parameter role (swig/flatuv.i's names), as (C type,
# typemap parameter name) per C parameter; sockaddr_out by its first type.
ROLE_TYPEMAPS = {
    "buffers": [("const char *const *", "BUFS"), ("const size_t *", "LENS"),
                ("size_t", "NBUFS")],
    "address_out": [("char *", "IP_OUT"), ("size_t", "IP_LENGTH"),
                    ("int *", "PORT_OUT")],
    "bytes": [("const char *", "BYTES"), ("size_t", "LENGTH")],
    "recv_buffer": [("char *", "BYTES_OUT"), ("size_t", "LENGTH")],
    "text_out": [("char *", "TEXT_OUT"), ("size_t", "TEXT_LENGTH")],
    "int_pair_out": [("int *", "INT_OUT1"), ("int *", "INT_OUT2")],
    "uint64_out": [("uint64_t *", "UINT64_OUT")],
    "name": [("const char *", "NAME"), ("size_t", "NAME_LENGTH"),
             ("unsigned int", "NAME_FLAGS")],
    "name_out": [("char *", "NAME_OUT"), ("size_t", "NAME_SIZE"),
                 ("size_t *", "NAME_LENGTH_OUT")],
    "sockaddr": [("const struct sockaddr *", "SOCKADDR")],
    ("sockaddr_out", "p.struct sockaddr"): [("struct sockaddr *", "SOCKADDR_OUT"),
                                            ("int *", "SOCKADDR_LENGTH")],
    ("sockaddr_out", "p.struct sockaddr_in"): [("struct sockaddr_in *", "SOCKADDR_OUT")],
    ("sockaddr_out", "p.struct sockaddr_in6"): [("struct sockaddr_in6 *", "SOCKADDR_OUT")],
}


def _role_typemap(arg):
    if arg.role == "request_out":
        # A request class's TYPE **REQUEST_OUT (swig/flatuv.i).
        return [(arg.klass.ctype + " **", "REQUEST_OUT")]
    typemap = ROLE_TYPEMAPS.get(arg.role) or \
        ROLE_TYPEMAPS.get((arg.role, arg.params[0].ctype))
    if typemap is None or len(typemap) != len(arg.params):
        return None
    return typemap


def _group(pairs):
    text = ", ".join("%s%s" % (ctype if ctype.endswith("*") else ctype + " ", name)
                     for ctype, name in pairs)
    return "(%s)" % text if len(pairs) > 1 else text


def role_applies(api):
    """[(typemap, [targets])]: %apply of each parameter role's typemaps to
    the C parameters of every function that has the role, in the order the
    roles are first met."""
    applies = {}
    for func in api.functions:
        for arg in func.args:
            typemap = _role_typemap(arg)
            if typemap is None:
                continue
            target = _group([(c, p.name) for (c, _), p in zip(typemap, arg.params)])
            targets = applies.setdefault(_group(typemap), [])
            if target not in targets:
                targets.append(target)
    return list(applies.items())



def text(api):
    out = ["/* Generated by bindings/apigen from swig/flatuv.i; do not edit.",
           " * The result role of each function (see apigen/emit_roles.py). */",
           ""]
    for pattern, names in role_lists(api).items():
        ctype = pattern.split(" ")[0]
        out.append("%%apply %s {" % pattern)
        out.append(",\n".join("  %s %s" % (ctype, n) for n in names))
        out.append("};")
    out += ["", "/* The parameter groups (apigen/roles.py). */"]
    for typemap, targets in role_applies(api):
        out.append("%%apply %s {\n  %s\n};" % (typemap, ",\n  ".join(targets)))
    return "\n".join(out) + "\n"


def write(api, out_dir, options=None):
    import os
    path = os.path.join(out_dir, "roles.i")
    _write_if_changed(path, text(api))
    return [path]


def _write_if_changed(path, content):
    """Writes through a temporary file, and not at all when nothing
    changed, so that an interrupted run never leaves half a file and an
    unchanged one does not rebuild what depends on it."""
    import os
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == content:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(content)
    os.replace(tmp, path)
