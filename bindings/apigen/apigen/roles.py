"""The roles of results and parameters, by rule.

Every binding converts by role, never by function: a status result raises
(Python, Nim) or returns `nil, msg, name` (Lua); a predicate is a boolean;
an address is (host, port); a duration in ms is seconds in Python. The
rules here give each function's roles from its C types and names; the
interface's annotations (swig/api.i) state the exceptions.

Parameter roles come from runs of C parameters, matched first to last by
PARAM_GROUPS: each entry is the role, then one (type, name) pattern per C
parameter it covers, where a name of None matches any name and a type
ending in `*` matches any pointer to that base type. The first pattern
that matches at a position wins, so longer groups come first.
"""

import re

from .swigxml import pointee, split_swig_type

# Result roles.
STATUS = "status"          # int: < 0 an error, 0 success (nothing to return)
COUNT = "count"            # int: < 0 an error, else a value (fd, byte count)
VALUE = "value"            # int or unsigned: a value even when negative
PREDICATE = "predicate"    # int: < 0 an error, else a boolean
ENUM = "enum"              # a value of an enum type
STRING = "string"          # const char *: a static string
NONE = "none"              # void
ENUM_OR_NONE = "enum_or_none"  # int: a value of an enum, or < 0 for none
OBJECT = "object"          # a pointer to an object (fuv_handle_loop)
POINTER = "pointer"        # void *: the C data pointer (bindings keep their own)
RESULT_ROLES = (STATUS, COUNT, VALUE, PREDICATE, ENUM, STRING, NONE, OBJECT,
                POINTER, ENUM_OR_NONE)

# (role, [(C type, C name or None), ...]) in SWIG's type notation; `*` is
# any pointer to the base type and `T` any object type (fuv_X_t).
PARAM_GROUPS = [
    ("buffers", [("p.q(const).p.q(const).char", None),
                 ("p.q(const).size_t", None), ("size_t", None)]),
    ("address_out", [("p.char", "ip"), ("size_t", None), ("p.int", "port")]),
    ("address", [("p.q(const).char", "ip"), ("int", "port")]),
    # A name given with its length (it may start with NUL: a Linux
    # abstract socket name) and flags that must be 0 (fuv_pipe_bind2).
    ("name", [("p.q(const).char", "name"), ("size_t", "namelen"),
              ("unsigned int", "flags")]),
    # A name written into the caller's buffer, with its length
    # (fuv_pipe_getsockname): the name, as bytes that may hold NULs.
    ("name_out", [("p.char", "buf"), ("size_t", "size"), ("p.size_t", "len")]),
    ("bytes", [("p.q(const).char", "data"), ("size_t", "len")]),
    ("recv_buffer", [("p.char", "buf"), ("size_t", "len")]),
    ("text_out", [("p.char", "dst"), ("size_t", "size")]),
    ("sockaddr_out", [("p.struct sockaddr", "name"), ("p.int", "namelen")]),
    ("int_pair_out", [("p.int", None), ("p.int", None)]),
    ("uint64_out", [("p.uint64_t", None)]),
    ("sockaddr_out", [("p.struct sockaddr_in", None)]),
    ("sockaddr_out", [("p.struct sockaddr_in6", None)]),
    ("sockaddr", [("p.q(const).struct sockaddr", None)]),
    # One sockaddr per datagram (fuv_udp_try_send_many_addr): C's only.
    ("sockaddrs", [("p.q(const).p.q(const).struct sockaddr", None)]),
]

# Parameters that are a duration, by name: milliseconds (Python takes
# seconds) and whole seconds.
MS_NAME = re.compile(r"(^|_)ms$")
SECONDS_NAME = re.compile(r"(^|_)s$|^seconds$")
# A blocking call's timeout in ms, where -1 waits for ever.
TIMEOUT_NAME = "timeout_ms"
FLAG_NAMES = ("enable", "on", "ipc")
# Results that are a predicate by their name: fuv_is_active,
# fuv_stream_is_congested, fuv_has_ref.
PREDICATE_NAME = re.compile(r"(^|_)(is|has)_")

# Outputs: what each out-parameter role gives back.
OUT_ROLES = ("address_out", "text_out", "sockaddr_out", "int_pair_out",
             "uint64_out", "name_out", "request_out")


def is_int(ctype):
    return ctype in ("int", "unsigned int", "long", "unsigned long")


def is_unsigned(ctype):
    return ctype in ("unsigned int", "uint64_t", "uint32_t", "size_t",
                     "unsigned long", "uint16_t", "uint8_t")


def is_const_pointer(ctype):
    return (ctype or "").startswith("p.q(const).")


def _type_matches(pattern, ctype):
    return ctype == pattern


def match_group(params, start):
    """The role and length of the parameter group at params[start], or
    (None, 1) when no group starts there."""
    for role, patterns in PARAM_GROUPS:
        if start + len(patterns) > len(params):
            continue
        ok = True
        for (ptype, pname), param in zip(patterns, params[start:]):
            if not _type_matches(ptype, param.ctype) or (
                    pname is not None and param.name != pname):
                ok = False
                break
        if ok:
            return role, len(patterns)
    return None, 1


def base_type(ctype):
    parts, base = split_swig_type(ctype or "")
    return [p for p in parts if not p.startswith("q(")], base


def object_pointer(ctype, object_types):
    """The object type a parameter points to once (fuv_tcp_t for
    `const fuv_tcp_t *`), or None."""
    base = pointee(ctype)
    return base if base in object_types else None


def object_out(ctype, object_types):
    """The object type of a `fuv_X_t **` out-parameter, or None."""
    parts, base = base_type(ctype)
    if parts == ["p", "p"] and base in object_types:
        return base
    return None


def is_string_type_result(ctype):
    return ctype in ("p.q(const).char", "p.char")
