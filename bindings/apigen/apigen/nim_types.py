"""How C types are spelled in Nim's raw layer (emit_nim_raw), from SWIG's
type strings."""

from .swigxml import ApigenError, split_swig_type

# C base types whose Nim spelling is fixed. `char` is only ever reached
# through a pointer, where `cstring` is used instead (see NimTypes.map).
C_BASE_TYPES = {
    "void": None,
    "char": "cchar",
    "signed char": "cschar",
    "unsigned char": "cuchar",
    "short": "cshort",
    "unsigned short": "cushort",
    "int": "cint",
    "signed int": "cint",
    "unsigned int": "cuint",
    "unsigned": "cuint",
    "long": "clong",
    "unsigned long": "culong",
    "long long": "clonglong",
    "unsigned long long": "culonglong",
    "float": "cfloat",
    "double": "cdouble",
    "_Bool": "bool",
    "bool": "bool",
    "size_t": "csize_t",
    "int8_t": "int8",
    "int16_t": "int16",
    "int32_t": "int32",
    "int64_t": "int64",
    "uint8_t": "uint8",
    "uint16_t": "uint16",
    "uint32_t": "uint32",
    "uint64_t": "uint64",
    "intptr_t": "int",
    "uintptr_t": "uint",
    "ssize_t": "Ssize",
    "struct sockaddr": "SockAddr",
    "struct sockaddr_in": "Sockaddr_in",
    "struct sockaddr_in6": "Sockaddr_in6",
    "struct sockaddr_storage": "Sockaddr_storage",
}

# System types the generated module takes from Nim's posix module, so that
# addresses built with Nim's own socket modules can be passed as they are.
POSIX_TYPES = ("SockAddr", "Sockaddr_in", "Sockaddr_in6", "Sockaddr_storage")

# C types the generated module defines itself, when it uses them. C's
# `const char *` keeps its const in the generated C, so that a Nim proc
# with such a parameter has exactly the type of the C callback typedef it
# is passed as (a mismatch is an error in newer C compilers).
BUILTIN_TYPES = (
    ("Ssize", 'Ssize* {.importc: "ssize_t", header: "<sys/types.h>".} = int',
     "C's ssize_t."),
    ("ConstCstring", 'ConstCstring* {.importc: "const char*", nodecl.} = cstring',
     "C's `const char *`: a cstring that the C code sees as const."),
    ("ConstSockAddr", 'ConstSockAddr* {.importc: "const struct sockaddr", nodecl.} = SockAddr',
     "C's `const struct sockaddr`: a SockAddr that the C code sees as const "
     "(a UDP receive callback's sender)."),
)


class NimTypes:
    """Maps SWIG type strings to Nim types."""

    def __init__(self, typedefs):
        self.typedefs = typedefs  # C typedef name -> Nim type name
        self.used = set()

    def map(self, ctype, context):
        parts, base = split_swig_type(ctype)
        base_is_const = bool(parts) and parts[-1] == "q(const)"
        parts = [p for p in parts if not p.startswith("q(")]
        if any(p.startswith(("f(", "r")) for p in parts):
            raise ApigenError("%s: unsupported C type %r" % (context, ctype))
        # char pointers are C strings; void pointers are `pointer`.
        if base == "char" and parts and (parts[-1] == "p" or
                                         parts[-1].startswith("a(")):
            parts = parts[:-1]
            nim = "ConstCstring" if base_is_const else "cstring"
            self.used.add(nim)
        elif base == "struct sockaddr" and base_is_const:
            nim = "ConstSockAddr"
            self.used.add(nim)
            self.used.add("SockAddr")
        elif base == "void":
            if not parts:
                return None
            parts = parts[:-1]
            nim = "pointer"
        else:
            nim = self.base(base, context)
        for _ in reversed(parts):
            nim = "ptr " + nim
        return nim

    def base(self, base, context):
        if base in self.typedefs:
            return self.typedefs[base]
        if base in C_BASE_TYPES and C_BASE_TYPES[base]:
            nim = C_BASE_TYPES[base]
            self.used.add(nim)
            return nim
        raise ApigenError("%s: unsupported C type %r (declare it in the "
                          "interface or teach apigen/nim_types.C_BASE_TYPES)"
                          % (context, base))
