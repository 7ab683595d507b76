"""What each role of the model is in Python: parameter names, defaults,
conversions, stub types and the docstring's note about them.

The rules (one per role, never per function):

  status / none    the call returns None (a negative status raised in C)
  count / value    int; a value in ms is seconds as a float; a signed one
                   (fuv_backend_timeout) is None for -1 and raises below it
  predicate        bool (the SWIG typemap makes it one)
  enum             the enum's IntEnum class
  string           str
  outputs          what the SWIG argout typemaps return: (host, port),
                   socket address bytes, text, a pair of ints (the first a
                   bool when it is named as a flag: get_linger's `on`)
  new_object       a new object of its class, made here and returned
  flag             any truth value, passed as 1 or 0
  timeout_ms       seconds, or None to wait for ever (-1)
  duration_ms      seconds (int or float >= 0), rounded up to whole ms
  duration_s       seconds, rounded up to whole seconds
  address          one (host, port) or (host, port, flowinfo, scope_id)
                   tuple
  name             a pipe's name: str or bytes (b"\\0name": abstract)
  enum_or_none     the enum's IntEnum class, or None for a negative value
  uint64_out       every such output of the call, as one tuple of ints
  name_out         str (os.fsdecode's)
  bytes, buffers,  passed through: the SWIG typemaps take any bytes-like
  sockaddr         object, a sequence of them, socket address bytes
  recv_buffer      the most bytes to receive (an int); the bytes returned
  callback         a callable, or None when the callback is optional

Parameter names: the C name, except that a callback is `callback`, a
duration loses its unit (timeout_ms is `timeout`), and the groups are
named for what Python passes (`data`, `buffers`, `address`, `sockaddr`,
`size`). swig/api.i renames the rest with fuv:python:args.
"""

from . import python_names, roles
from .swigxml import ApigenError

# The runtime's base classes (python/src/flatuv_py.c) of the object types
# that are the roots of the hierarchy.
RUNTIME_BASES = {"fuv_loop_t": "_LoopBase", "fuv_handle_t": "_HandleBase"}
# ... and of every request class (fuv:request).
REQUEST_BASE = "_RequestBase"

# The stub's names for the groups of types it uses more than once (private:
# they exist in the stub only).
BUFFER = "_Buffer"
ADDRESS = "_Address"
STUB_ALIASES = [
    (BUFFER, "Union[bytes, bytearray, memoryview]"),
    (ADDRESS, "Union[Tuple[str, int], Tuple[str, int, int, int]]"),
]

# Python names of the parameter groups (the model names a group by its
# role).
GROUP_NAMES = {"bytes": "data", "buffers": "buffers", "address": "address",
               "sockaddr": "sockaddr", "recv_buffer": "size", "name": "name"}

# Stub types of the inputs, by role.
INPUT_TYPES = {
    "int": "int", "enum": "int", "flag": "bool", "string": "Optional[str]",
    "timeout_ms": "Optional[float]", "duration_ms": "float",
    "duration_s": "float", "bytes": BUFFER, "buffers": "Sequence[%s]" % BUFFER,
    "sockaddr": BUFFER, "address": ADDRESS, "recv_buffer": "int",
    "name": "Union[str, bytes]",
}

# What each output role returns, as a stub type.
OUTPUT_TYPES = {
    "address_out": "Tuple[str, int]", "sockaddr_out": "bytes",
    "text_out": "str", "int_pair_out": "Tuple[int, int]",
    "recv_buffer": "bytes", "name_out": "str",
}

# The Python value of each C callback parameter after the handle, as
# python/src/flatuv_py.c's hook_call makes it: (name, stub type), by C type.
CALLBACK_VALUES = {
    "int": ("error", "Optional[Error]"),              # a status
    "ssize_t": ("data", "Optional[bytes]"),           # nread: the bytes
    "p.q(const).char": ("error", "Optional[Error]"),  # buf: nread's error
    # A datagram's sender, and its flags (UDP_PARTIAL).
    "p.q(const).struct sockaddr": ("address", "Optional[Tuple[str, int]]"),
    "unsigned int": ("flags", "int"),
}
# The values hook_call passes right after the handle, before the others
# (pyuv's order: a UDP receive callback(handle, (ip, port), flags, data,
# error)).
CALLBACK_FIRST = ("p.q(const).struct sockaddr", "unsigned int")

# Result roles whose value Python returns as it comes from SWIG.
PLAIN_RESULTS = {roles.COUNT: "int", roles.VALUE: "int",
                 roles.PREDICATE: "bool", roles.STRING: "str"}


def _features_list(func, key):
    """A fuv:python:* annotation of `key=value` pairs, as a dict."""
    out = {}
    for item in func.names(key):
        name, _, value = item.partition("=")
        out[name.strip()] = value.strip()
    return out


class Param:
    """One Python parameter: its name, default (Python source or None) and
    stub type; `arg` is the model argument it comes from."""

    def __init__(self, name, arg, default=None, stub=None):
        self.name = name
        self.arg = arg
        self.default = default
        self.stub = stub

    def __repr__(self):
        return "Param(%s)" % self.name


def python_name(arg, single_callback=True):
    """The rule's Python name of a model argument (before renames)."""
    if arg.role == "callback":
        if single_callback:
            return "callback"
        return arg.name[:-3] if arg.name.endswith("_cb") else arg.name
    if arg.role in GROUP_NAMES:
        return GROUP_NAMES[arg.role]
    name = arg.name
    if arg.role in ("timeout_ms", "duration_ms") and name.endswith("_ms"):
        return name[:-3]
    if arg.role == "duration_s" and name.endswith("_s"):
        return name[:-2]
    return name


def python_default(api, arg, text):
    """A C default (a literal or a constant's C name) as Python source, in
    the units Python takes."""
    if text is None:
        return None
    if text == "NULL":
        return "None"
    if arg.role == "timeout_ms" and text == "-1":
        return "None"
    const = api.constant(text)
    if const is not None:
        return python_names.constant_ref(const)
    try:
        value = int(text, 0)
    except ValueError:
        raise ApigenError("default %r of %s is neither a constant nor an "
                          "integer" % (text, arg.name))
    if arg.role == "flag":
        return "True" if value else "False"
    if arg.role == "duration_ms":
        return repr(value / 1000)
    return str(value)


class Signature:
    """A function's Python face: its parameters in Python order, the C
    arguments of the raw call in C order (Python expressions), the checks
    made before the call, and the docstring's notes."""

    def __init__(self, api, func, owner=None):
        self.api = api
        self.func = func
        self.owner = owner            # the Klass of `self`, if any
        self.params = []              # Param, Python order
        self.cargs = []               # expressions, C order
        self.checks = []              # statements before the call
        self._build()

    # -- parameters -------------------------------------------------------

    def _build(self):
        func = self.func
        renames = _features_list(func, "python:args")
        defaults = _features_list(func, "python:defaults")
        callbacks = func.callbacks
        by_name = {}
        for arg in func.args:
            expr = self._c_argument(arg, renames, defaults, len(callbacks) < 2,
                                    by_name)
            if expr is not None:
                self.cargs.append(expr)
        unused = set(renames) - set(by_name) - _group_params(func)
        if unused or defaults:
            raise ApigenError("%s: fuv:python:args or fuv:python:defaults names "
                              "no argument: %s" % (func.cname, ", ".join(
                                  sorted(unused | set(defaults)))))
        self.params = self._ordered(by_name)

    def _c_argument(self, arg, renames, defaults, single_cb, by_name):
        """Adds the Python parameters of a model argument to by_name and
        returns the expression passed to C for it (None for no input)."""
        role = arg.role
        if role == "self":
            # A method's object, or the new object a constructor binds.
            return "self"
        if role == "new_object":
            klass = python_names.class_name(arg.klass)
            return "%s.__new__(%s)" % (klass, klass)
        if role in roles.OUT_ROLES or role == "hidden":
            return None
        order = self.func.names("python:order")
        if role == "address" and arg.params[0].name in order:
            # Listed by its C parameters: passed as they are (ip4_addr(ip,
            # port) builds an address rather than taking one).
            for param, stub in zip(arg.params, ("str", "int")):
                by_name[param.name] = Param(renames.get(param.name, param.name),
                                            arg, stub=stub)
            return ", ".join(by_name[p.name].name for p in arg.params)
        name = renames.get(arg.name, python_name(arg, single_cb))
        # fuv:python:defaults, where Python's differs from every language's.
        default = defaults.pop(arg.params[0].name, arg.default)
        param = Param(name, arg, python_default(self.api, arg, default),
                      self._input_type(arg))
        by_name[arg.name] = param
        return self._convert(arg, name)

    def _convert(self, arg, name):
        """The expression that turns Python parameter `name` into what the
        raw function takes; checks go before the call."""
        role = arg.role
        if role == "callback" and not arg.optional:
            self.checks.append(("if not callable(%s):" % name,
                                'raise TypeError("%s must be callable")' % name))
        if role == "flag":
            return "1 if %s else 0" % name
        if role == "timeout_ms":
            return '-1 if %s is None else _ms(%s, "%s")' % (name, name, name)
        if role == "duration_ms":
            return '_ms(%s, "%s")' % (name, name)
        if role == "duration_s":
            return '_whole_seconds(%s, "%s")' % (name, name)
        if role == "address" and arg.optional:
            return "*_address_or_none(%s)" % name
        if role == "address":
            return "*_address(%s)" % name
        return name

    def _ordered(self, by_name):
        """The parameters in Python order: fuv:python:order's, else C's.
        A parameter with a default may not come before one without."""
        order = self.func.names("python:order")
        if not order:
            params = list(by_name.values())
        else:
            missing = set(by_name) - set(order)
            unknown = set(order) - set(by_name)
            if missing or unknown:
                raise ApigenError(
                    "%s: fuv:python:order must name every argument once "
                    "(missing %s, unknown %s)" % (self.func.cname,
                                                  sorted(missing), sorted(unknown)))
            params = [by_name[n] for n in order]
        seen_default = False
        for param in params:
            if param.default is None and seen_default:
                raise ApigenError("%s: Python parameter %s without a default "
                                  "follows one with a default"
                                  % (self.func.cname, param.name))
            seen_default = seen_default or param.default is not None
        return params

    # -- types --------------------------------------------------------------

    def _input_type(self, arg):
        if arg.role == "callback":
            return callback_type(self.api, arg, self.owner)
        if arg.role == "object":
            return python_names.class_name(arg.klass)
        if arg.optional and arg.role in ("address",):
            return "Optional[%s]" % INPUT_TYPES[arg.role]
        if arg.role not in INPUT_TYPES:
            raise ApigenError("%s: no Python type for role %s"
                              % (self.func.cname, arg.role))
        return INPUT_TYPES[arg.role]

    def result_type(self):
        """The stub type of what the Python function returns."""
        func = self.func
        outs = func.outputs
        if outs:
            if all(o.role == "uint64_out" for o in outs):
                return "Tuple[%s]" % ", ".join("int" for _ in outs)
            if [o.role for o in outs] == ["recv_buffer", "address_out"]:
                return "Tuple[bytes, Tuple[str, int]]"
            if len(outs) > 1:
                raise ApigenError("%s: more than one output" % func.cname)
            out = outs[0]
            if out.role == "new_object":
                return python_names.class_name(out.klass)
            if out.role == "request_out":
                return "Optional[%s]" % python_names.class_name(out.klass)
            if out.role == "int_pair_out" and flag_first(out):
                return "Tuple[bool, int]"
            return OUTPUT_TYPES[out.role]
        result = func.result
        if result.role in (roles.STATUS, roles.NONE):
            return "None"
        if result.role == roles.ENUM:
            return python_names.enum_class(result.enum)
        if result.role == roles.ENUM_OR_NONE:
            return "Optional[%s]" % python_names.enum_class(result.enum)
        if result.unit == "ms":
            return "Optional[float]" if signed_ms(result) else "float"
        if result.role in PLAIN_RESULTS:
            return PLAIN_RESULTS[result.role]
        raise ApigenError("%s: no Python type for result role %s"
                          % (func.cname, result.role))

    # -- the call -------------------------------------------------------------

    def call(self):
        return "_lib.%s(%s)" % (self.func.cname, ", ".join(self.cargs))

    def body(self):
        """The statements of the Python function."""
        lines = []
        for test, action in self.checks:
            lines += [test, "    " + action]
        return lines + result_lines(self.func, self.call())

    # -- the docstring ------------------------------------------------------

    def notes(self):
        """Sentences on what Python does differently from C."""
        return conversion_notes(self)


def _group_params(func):
    """C parameter names inside groups, which fuv:python:args may rename
    when fuv:python:order spreads the group."""
    return {p.name for a in func.args if len(a.params) > 1 for p in a.params}


def flag_first(arg):
    """An int pair whose first value is named as a flag (on, enable)."""
    return arg.params[0].name in roles.FLAG_NAMES


def signed_ms(result):
    """A duration result of a signed type: -1 means none, below it an
    error (fuv_backend_timeout)."""
    return result.unit == "ms" and result.ctype in ("int", "long", "int64_t")


def result_lines(func, call):
    """The statements that make the call and return its result."""
    outs = func.outputs
    result = func.result
    if outs:
        out = outs[0]
        if out.role == "int_pair_out" and flag_first(out):
            return ["result = %s" % call, "return result[0] != 0, result[1]"]
        return ["return %s" % call]
    if result.role in (roles.STATUS, roles.NONE):
        return [call]
    if result.role == roles.ENUM:
        return ["return %s(%s)" % (python_names.enum_class(result.enum), call)]
    if result.role == roles.ENUM_OR_NONE:
        return ["result = %s" % call,
                "return None if result < 0 else %s(result)"
                % python_names.enum_class(result.enum)]
    if result.unit == "ms":
        if signed_ms(result):
            return ["result = %s" % call,
                    "if result < 0:",
                    "    if result != -1:",
                    "        raise _make_error(result)",
                    "    return None",
                    "return result / 1000.0"]
        return ["return %s / 1000.0" % call]
    return ["return %s" % call]


def callback_params(api, callback, owner):
    """The Python arguments of a callback: [(name, stub type)]. The first
    is the object the callback is about: `Self` when it is the object the
    callback was registered on (its class is the owner's or a base of
    it), else its class."""
    params = [p for p in callback.params if p.ctype != "p.void"]
    if not params:
        raise ApigenError("%s: a callback without a handle" % callback.cname)
    first = params[0]
    klass = _pointee_class(api, first.ctype, owner)
    out = [(first.name, klass)]
    rest = params[1:]
    rest = [p for p in rest if p.ctype in CALLBACK_FIRST] + \
        [p for p in rest if p.ctype not in CALLBACK_FIRST]
    for param in rest:
        if param.ctype not in CALLBACK_VALUES:
            raise ApigenError("%s(%s): no Python value for C type %r (see "
                              "python/src/flatuv_py.c hook_call)"
                              % (callback.cname, param.name, param.ctype))
        value = CALLBACK_VALUES[param.ctype]
        if value not in out:
            out.append(value)
    return out


def _pointee_class(api, ctype, owner):
    base = ctype[2:] if ctype.startswith("p.") else ctype
    base = base.replace("q(const).", "")
    if owner is not None and any(k.ctype == base for k in
                                 [owner] + list(owner.ancestors)):
        return "Self"
    return python_names.class_for_ctype(api, base)


def callback_type(api, arg, owner):
    values = callback_params(api, arg.callback, owner)
    text = "Callable[[%s], object]" % ", ".join(t for _, t in values)
    return "Optional[%s]" % text if arg.optional else text


# -- the docstring's notes ------------------------------------------------------

def _names(params):
    names = [p.name for p in params]
    if len(names) == 1:
        return names[0] + " is"
    return ", ".join(names[:-1]) + " and " + names[-1] + " are"


def conversion_notes(sig):
    """The sentences on the Python conversions of a function: units, None,
    tuples, the callback's arguments."""
    by_role = {}
    for param in sig.params:
        by_role.setdefault(param.arg.role, []).append(param)
    notes = []
    if "address" in by_role and by_role["address"][0].name != "ip":
        notes.append("%s (host, port), or (host, port, flowinfo, scope_id) "
                     "for IPv6%s." % (_names(by_role["address"]),
                                      ", or None" if by_role["address"][0].arg.optional
                                      else ""))
    if "duration_ms" in by_role:
        notes.append("%s in seconds." % _names(by_role["duration_ms"]))
    if "duration_s" in by_role:
        notes.append("%s in seconds, rounded up to whole seconds."
                     % _names(by_role["duration_s"]))
    if "timeout_ms" in by_role:
        notes.append("%s in seconds; None waits for ever."
                     % _names(by_role["timeout_ms"]))
    if "recv_buffer" in by_role:
        notes.append("%s the most bytes to receive." % _names(by_role["recv_buffer"]))
    for param in by_role.get("callback", []):
        notes.append(callback_note(sig.api, param, sig.owner))
    notes += result_notes(sig.func)
    return notes


def callback_note(api, param, owner):
    values = callback_params(api, param.arg.callback, owner)
    names = [n for n, _ in values]
    text = "%s(%s) runs from the loop" % (param.name, ", ".join(names))
    parts = []
    if "address" in names:
        parts.append("address is the sender's (host, port), None with an "
                     "error; flags has UDP_PARTIAL when the datagram was "
                     "truncated; data is the datagram's bytes (b\"\" for an "
                     "empty one), or None after an error")
    elif "data" in names:
        parts.append("data is the bytes read, or None at the end of the "
                     "stream (error None) or after an error")
    if "error" in names:
        parts.append("error is None or an Error (not raised)")
    if parts:
        text += "; " + "; ".join(parts)
    text += "."
    if param.arg.optional:
        text += " %s may be None." % param.name
    return text


def result_notes(func):
    outs = func.outputs
    if outs:
        out = outs[0]
        if out.role == "new_object":
            return ["Returns the new %s." % python_names.class_name(out.klass)]
        if out.role == "request_out":
            return ["Returns the %s (cancel(), type)."
                    % python_names.class_name(out.klass)]
        if out.role == "address_out":
            return ["Returns (host, port)."]
        if out.role == "sockaddr_out":
            return ["Returns the socket address as bytes."]
        if [o.role for o in outs] == ["recv_buffer", "address_out"]:
            return ['Returns (data, (host, port)): the datagram\'s bytes (b"" '
                    'for an empty one) and its sender.']
        if out.role == "recv_buffer":
            return ['Returns the bytes received, b"" at the end of the stream.']
        if out.role == "uint64_out":
            return ["Returns (%s)." % ", ".join(o.name for o in outs)]
        if out.role == "name_out":
            return ['Returns the name, a str ("\\0..." for an abstract one).']
        if out.role == "int_pair_out":
            names = [p.name for p in out.params]
            return ["Returns (%s)%s." % (", ".join(names),
                                         ", %s a bool" % names[0]
                                         if flag_first(out) else "")]
        return []
    result = func.result
    if result.unit == "ms":
        if signed_ms(result):
            return ["Returns seconds, or None for -1 (none)."]
        return ["Returns seconds (a float)."]
    if result.role == roles.ENUM:
        return ["Returns a %s." % python_names.enum_class(result.enum)]
    if result.role == roles.ENUM_OR_NONE:
        return ["Returns a %s, or None for none."
                % python_names.enum_class(result.enum)]
    return []
