"""Nim's spelling of flatuv's names, for the raw layer and the idiomatic
layer (emit_nim_raw, emit_nim).

Nim compares identifiers by their first letter, then case- and
underscore-insensitively, and has keywords that C names may hit (`type`,
`ref`, `bind`). The names themselves come from the one rule of
apigen.naming, spelled in lowerCamelCase; the interface renames what the
rule makes poor (swig/nim.i for the raw layer, `fuv:nim:name` in
swig/api.i for the idiomatic one).
"""

import re

from . import model, naming
from .swigxml import ApigenError, pointee, split_swig_type

NIM_KEYWORDS = frozenset("""
addr and as asm bind block break case cast concept const continue converter
defer discard distinct div do elif else end enum except export finally for
from func if import in include interface is isnot iterator let macro method
mixin mod nil not notin object of or out proc ptr raise ref return shl shr
static template try tuple type using var when while xor yield
""".split())


def camel(words, upper_first=False):
    return naming.camel(words, upper_first)


def nim_ident(name):
    """Quotes a Nim keyword so that it can be used as an identifier."""
    return "`%s`" % name if name in NIM_KEYWORDS else name


def nim_normalized(name):
    """Nim compares identifiers by first letter, then case- and
    underscore-insensitively."""
    name = name.strip("`")
    return name[:1] + name[1:].replace("_", "").lower()


def word_camel(text, upper_first):
    """camel() of C words that may be all capitals: FIN_WAIT1 -> finWait1."""
    return camel("_".join(w.lower() for w in text.split("_")), upper_first)


class Namer:
    """The raw layer's default rule, for declarations the interface did
    not rename (see swig/nim.i for the rule in words): types lose the
    prefix and `_t` and are UpperCamelCase; a constructor (`T **` first,
    named <object>_new) is `init`; any other function is its neutral name
    (apigen.naming: no prefix, no object word of its first parameter's
    type or of that type's bases) in lowerCamelCase."""

    def __init__(self, prefix, bases=None):
        self.prefix = prefix
        self.bases = bases or {}   # C object type -> its base's C type

    def strip_prefix(self, name):
        return naming.strip_prefix(name, self.prefix)

    def type_name(self, decl):
        if decl.renamed:
            return decl.symname
        base = self.strip_prefix(decl.cname.replace("enum ", ""))
        if base.endswith("_t"):
            base = base[:-2]
        return camel(base, upper_first=True)

    def object_word(self, cname):
        base = self.strip_prefix(cname)
        return base[:-2] if base.endswith("_t") else base

    def words(self, ctype, object_types):
        words = []
        while ctype in object_types:
            words.append(self.object_word(ctype))
            ctype = self.bases.get(ctype)
        return words

    def function_name(self, decl, object_types):
        if decl.renamed:
            return decl.symname
        base = self.strip_prefix(decl.cname)
        if decl.params:
            first = decl.params[0].ctype
            parts, made = split_swig_type(first)
            parts = [p for p in parts if not p.startswith("q(")]
            if parts == ["p", "p"] and made in object_types and \
                    base == self.object_word(made) + "_new":
                return "init"
            owner = pointee(first)
            if owner in object_types:
                base = naming.method_name(decl.cname,
                                          self.words(owner, object_types),
                                          self.prefix)
        return camel(base, upper_first=False)


# ---- the idiomatic layer -------------------------------------------------

def class_name(klass):
    return klass.name


def callback_type_name(callback):
    """fuv_read_cb -> ReadCallback."""
    base = naming.strip_prefix(callback.cname)
    if base.endswith("_cb"):
        base = base[:-3]
    return camel(base, upper_first=True) + "Callback"


def callback_field(callback):
    """fuv_read_cb -> onRead: the handle's field holding the closure."""
    return "on" + callback_type_name(callback)[:-len("Callback")]


def param_name(name):
    """A C parameter's Nim name: lowerCamelCase, a duration in whole
    seconds spelled out (delay_s -> delaySeconds)."""
    if re.search(r"(^|_)s$", name) and name != "s":
        name = name[:-2] + "_seconds"
    return nim_ident(camel(name, upper_first=False))


def proc_name(func, raw_name):
    """The idiomatic proc name of a model function: `fuv:nim:name`, else a
    constructor's new<Class>, else the raw layer's name where the interface
    renamed it, else the neutral name with Nim's getter and setter style
    (get_repeat() -> repeat, set_repeat(v) -> `repeat=`)."""
    explicit = func.feature("nim:name")
    if explicit:
        return explicit
    if func.constructor:
        return "new" + func.klass.name
    if func.decl.renamed:
        return raw_name
    name = func.name
    inputs = func.inputs
    if name.startswith("get_") and not inputs and len(name) > 4:
        return camel(name[4:])
    if name.startswith("set_") and len(inputs) == 1 and len(name) > 4 and \
            len(inputs[0].params) == 1:
        return "`%s=`" % camel(name[4:])
    return nim_ident(camel(name))


def enum_name(enum):
    return enum.features.get("nim_name") or enum.name


def enum_members(enum):
    """The Nim members of an enum: the enum's first word in lower case and
    the member in UpperCamelCase (FUV_RUN_ONCE -> runOnce), or
    `fuv:nim:member`."""
    items = [c for c in enum.items if not model.hidden_in(c, "nim")]
    name = enum_name(enum)
    first = re.match(r"[A-Z][a-z0-9]*", name)
    prefix = (first.group(0) if first else name).lower()
    members = naming.enum_members([c.cname for c in items])
    out = []
    for item, member in zip(items, members):
        member = item.features.get("member") or member
        out.append((item, item.features.get("nim_member") or
                    prefix + word_camel(member, upper_first=True)))
    return out


def check_clashes(names, what):
    """names: [(nim name, key, owner)]: raises if two owners have the same
    Nim identifier and key (the key tells overloads apart)."""
    owners = {}
    for name, key, owner in names:
        k = (nim_normalized(name), key)
        if k in owners and owners[k] != owner:
            raise ApigenError("%s and %s both become Nim %s %s; give one "
                              "another name" % (owners[k], owner, what, name))
        owners[k] = owner


