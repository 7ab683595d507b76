"""The one naming rule of flatuv's bindings.

C names follow libgit2's `<prefix>_<object>_<verb>`: fuv_tcp_bind,
fuv_timer_start, fuv_stream_set_water_marks. A function is a method of the
object its first parameter points to, and its method name is the C name
without the prefix and without the object word of that class or of any
class it derives from (fuv_stream_set_water_marks on a TCP handle is
`set_water_marks`; fuv_handle_type is `type`). Functions of no object keep
their name without the prefix (fuv_ip4_addr is `ip4_addr`).

That neutral name is snake_case, which Python and Lua use as it is; Nim
spells it in lowerCamelCase. Where the rule gives a poor name, the
interface says so once with %feature("fuv:name", ...) for every language,
or fuv:python:name / fuv:lua:name for one (swig/api.i).
"""

import re

from .swigxml import ApigenError

PREFIX = "fuv_"
CONSTANT_PREFIX = "FUV_"


def strip_prefix(name, prefix=PREFIX):
    if name.lower().startswith(prefix.lower()):
        return name[len(prefix):]
    return name


def object_word(ctype):
    """fuv_tcp_t -> tcp."""
    base = strip_prefix(ctype)
    return base[:-2] if base.endswith("_t") else base


def class_name(ctype):
    """The default class name of an object type: fuv_timer_t -> Timer. The
    interface renames those that are acronyms (fuv_tcp_t -> TCP)."""
    return camel(object_word(ctype), upper_first=True)


def method_name(cname, words, prefix=PREFIX):
    """The neutral name of a function that is a method: its C name without
    the prefix and without the first of `words` (the object words of its
    class, then of each base class) that starts it."""
    base = strip_prefix(cname, prefix)
    for word in words:
        if base.startswith(word + "_") and len(base) > len(word) + 1:
            return base[len(word) + 1:]
    return base


def function_name(cname):
    return strip_prefix(cname)


def constant_name(cname):
    """FUV_RUN_ONCE -> RUN_ONCE, as Python and Lua spell constants."""
    return strip_prefix(cname, CONSTANT_PREFIX)


def camel(words, upper_first):
    parts = [w for w in re.split(r"_+", words) if w]
    if not parts:
        raise ApigenError("cannot make a camel-case name of %r" % words)
    out = []
    for i, part in enumerate(parts):
        if i == 0 and not upper_first:
            out.append(part[0].lower() + part[1:])
        else:
            out.append(part[0].upper() + part[1:])
    return "".join(out)


def enum_members(item_cnames, common=None):
    """The member names of an enum in Python's style: the items' C names
    without the prefix and the words all of them share
    (FUV_RUN_DEFAULT, FUV_RUN_ONCE -> DEFAULT, ONCE). `common`, when given,
    is the part to remove instead of the longest shared one."""
    names = [constant_name(c) for c in item_cnames]
    if common is None:
        common = _shared_word_prefix(names)
    out = []
    for name in names:
        member = name[len(common):] if name.startswith(common) else name
        if not member or member[0].isdigit():
            member = name
        out.append(member)
    return out


def _shared_word_prefix(names):
    if len(names) < 2:
        return ""
    split = [n.split("_") for n in names]
    shared = []
    for words in zip(*split):
        if all(w == words[0] for w in words):
            shared.append(words[0])
        else:
            break
    # Never consume a whole name.
    if any(len(s) == len(shared) for s in split):
        shared = shared[:-1]
    return "".join(w + "_" for w in shared)
