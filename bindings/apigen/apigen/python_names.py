"""Python's names for the model's objects: classes, enums and their
members, constants, methods and properties.

The neutral names (apigen.naming) are Python's as they are; this module
adds what only Python has: an enum is an IntEnum class whose members lose
the words their C names share (FUV_RUN_ONCE is RunMode.ONCE), `is_X`
predicates and annotated getters are properties, and fuv:python:name
renames anything.
"""

from . import model, naming, roles

# The annotation fuv:python's values.
PROPERTY = "property"   # on a getter: a read-only property (set_NAME joins it)
SCOPED = "scoped"       # on an enum: members only in its class, no
                        # module-level names (HandleType.TCP would hide TCP)

# The enum whose items are the error codes: module-level ints and the
# errorcode dict rather than an IntEnum (they are raised, not passed).
ERRNO_ENUM = model.ERRNO_ENUM


def class_name(klass):
    return model.feature(klass.decl, "python:name") or klass.name


def class_for_ctype(api, ctype):
    klass = api.klass(ctype)
    if klass is None:
        raise model.ApigenError("%s is not an object type" % ctype)
    return class_name(klass)


def enum_class(enum):
    return model.feature(enum, "python:name") or enum.name


def is_enum_class(enum):
    """Enums that a function takes or returns are IntEnum classes; the
    others' items are plain module-level ints."""
    return enum.used and enum.cname != ERRNO_ENUM


def visible_items(enum):
    return [c for c in enum.items if not model.hidden_in(c, "python")]


def members(enum):
    """[(member name, Constant)] of an enum class: fuv:member, else the
    item's name without the words every item shares."""
    items = visible_items(enum)
    names = naming.enum_members([c.cname for c in items])
    return [(model.feature(c, "member") or n, c) for n, c in zip(names, items)]


def module_constants(api):
    """[(module-level name, Constant)]: the items of every enum that is not
    scoped (an IntEnum's members are aliased: RUN_DEFAULT is
    RunMode.DEFAULT), the error codes last. The header's loose #defines
    (sizes, the version parts) are C's: __version__ says the version."""
    out, errors = [], []
    for enum in api.enums:
        if model.feature(enum, "python") == SCOPED:
            continue
        target = errors if enum.cname == ERRNO_ENUM else out
        target.extend((naming.constant_name(c.cname), c)
                      for c in visible_items(enum))
    return out + errors


def error_codes(api):
    for enum in api.enums:
        if enum.cname == ERRNO_ENUM:
            return [(naming.constant_name(c.cname), c) for c in visible_items(enum)]
    return []


def constant_ref(const):
    """How generated code names a constant: its enum member
    (RunMode.DEFAULT) or its module-level name (SOCK_STREAM)."""
    if const.enum is not None and is_enum_class(const.enum):
        for name, item in members(const.enum):
            if item is const:
                return "%s.%s" % (enum_class(const.enum), name)
    return naming.constant_name(const.cname)


def is_property(func):
    """A getter Python reads as an attribute: an `is_X` predicate of its
    object alone (active, readable), or one annotated fuv:python
    "property" (Handle.type, Timer.repeat)."""
    if not func.is_method or func.inputs or func.outputs:
        return False
    if model.feature(func, "python") == PROPERTY:
        return True
    return func.result.role == roles.PREDICATE and func.name.startswith("is_")


def property_name(func):
    name = func.feature("python:name")
    if name:
        return name
    for prefix in ("is_", "get_"):
        if func.name.startswith(prefix):
            return func.name[len(prefix):]
    return func.name


def method_name(func):
    return func.name_in("python")
