#!/usr/bin/env python3
"""nimgen: writes the Nim raw layer of a C API from `swig -xml` output.

SWIG has no Nim backend, so flatuv keeps the SWIG interface as the single
source and turns SWIG's XML parse tree into Nim here. The interface decides
the Nim names (through %rename, seen as each node's sym_name); this program
decides how C types map to Nim and applies a default naming rule to
everything that was not renamed. It emits:

  - opaque struct typedefs as `{.incompleteStruct.}` objects used via `ptr`;
  - enums as `cint` aliases with typed constants, and #define constants;
  - callback typedefs as `{.cdecl.}` proc types;
  - functions as `importc` procs of the flat C symbols, bound either with
    `header:` (the default) or with `dynlib:`;
  - the documentation of each declaration in the C header as its doc
    comment (SWIG's XML carries no plain C comments, so they are read from
    the headers the XML names by bindings/apigen/apigen/docs.py, the parser
    the Python docstrings use too).

Written in Python 3 with the standard library only because it runs inside
the C build, before any Nim code exists, on machines that already need
Python for SWIG itself.
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# The pieces every binding shares (the header's doc comments, the pinned
# SWIG) live in bindings/apigen, beside this directory.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "apigen"))
from apigen import find_swig as _find_swig  # noqa: E402
from apigen.docs import DocIndex  # noqa: E402,F401 (tests use nimgen.DocIndex)
from apigen.swigxml import (  # noqa: E402,F401 (tests use some by these names)
    ApigenError as NimgenError, Decl, Interface, Param, eval_c_int,
    is_string_type as _is_string_type, pointee as _pointee, resolve_values,
    run_swig, split_function_decl, split_swig_type)

NIM_KEYWORDS = frozenset("""
addr and as asm bind block break case cast concept const continue converter
defer discard distinct div do elif else end enum except export finally for
from func if import in include interface is isnot iterator let macro method
mixin mod nil not notin object of or out proc ptr raise ref return shl shr
static template try tuple type using var when while xor yield
""".split())

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
)


# --------------------------------------------------------------------------
# The interface model
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# Constant values
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# Nim names and types
# --------------------------------------------------------------------------

def camel(words, upper_first):
    parts = [w for w in re.split(r"_+", words) if w]
    if not parts:
        raise NimgenError("cannot make a Nim name of %r" % words)
    out = []
    for i, part in enumerate(parts):
        if i == 0 and not upper_first:
            out.append(part[0].lower() + part[1:])
        else:
            out.append(part[0].upper() + part[1:])
    return "".join(out)


def nim_ident(name):
    """Quotes a Nim keyword so that it can be used as an identifier."""
    return "`%s`" % name if name in NIM_KEYWORDS else name


def nim_normalized(name):
    """Nim compares identifiers by first letter, then case- and
    underscore-insensitively."""
    name = name.strip("`")
    return name[:1] + name[1:].replace("_", "").lower()


class Namer:
    """Applies the default rule to declarations the interface did not
    rename (see swig/nim.i for the rule in words)."""

    def __init__(self, prefix):
        self.prefix = prefix

    def strip_prefix(self, name):
        if name.lower().startswith(self.prefix.lower()):
            return name[len(self.prefix):]
        return name

    def type_name(self, decl):
        if decl.renamed:
            return decl.symname
        base = self.strip_prefix(decl.cname.replace("enum ", ""))
        if base.endswith("_t"):
            base = base[:-2]
        return camel(base, upper_first=True)

    def function_name(self, decl, object_words):
        if decl.renamed:
            return decl.symname
        base = self.strip_prefix(decl.cname)
        if decl.params:
            word = object_words.get(_pointee(decl.params[0].ctype))
            if word and base.startswith(word + "_") and len(base) > len(word) + 1:
                base = base[len(word) + 1:]
        return camel(base, upper_first=False)

    def object_word(self, cname):
        base = self.strip_prefix(cname)
        return base[:-2] if base.endswith("_t") else base


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
            raise NimgenError("%s: unsupported C type %r" % (context, ctype))
        # char pointers are C strings; void pointers are `pointer`.
        if base == "char" and parts and (parts[-1] == "p" or
                                         parts[-1].startswith("a(")):
            parts = parts[:-1]
            nim = "ConstCstring" if base_is_const else "cstring"
            self.used.add(nim)
        elif base == "void":
            if not parts:
                return None
            parts = parts[:-1]
            nim = "pointer"
        else:
            nim = self.base(base, context)
        for part in reversed(parts):
            nim = "ptr " + nim
        return nim

    def base(self, base, context):
        if base in self.typedefs:
            return self.typedefs[base]
        if base in C_BASE_TYPES and C_BASE_TYPES[base]:
            nim = C_BASE_TYPES[base]
            self.used.add(nim)
            return nim
        raise NimgenError("%s: unsupported C type %r (declare it in the "
                          "interface or teach nimgen.C_BASE_TYPES)"
                          % (context, base))


# --------------------------------------------------------------------------
# The Nim module
# --------------------------------------------------------------------------

class Options:
    def __init__(self, header="flatuv.h", dynlib=None, prefix="fuv_",
                 passc=(), passl=(), source="the SWIG interface"):
        self.header = header
        self.dynlib = dynlib
        self.prefix = prefix
        self.passc = list(passc)
        self.passl = list(passl)
        self.source = source


def doc_lines(doc, indent):
    if not doc:
        return []
    return [(indent + "## " + line).rstrip() for line in doc.split("\n")]


class Emitter:
    def __init__(self, iface, docs, options):
        self.iface = iface
        self.docs = docs
        self.opt = options
        self.namer = Namer(options.prefix)
        self.out = []

    def emit(self):
        self._name_everything()
        self._check_clashes()
        self._prologue()
        self._types()
        self._constants()
        self._procs()
        self.text = "\n".join(self.out).rstrip() + "\n"
        return self.text

    # -- naming ----------------------------------------------------------

    def _name_everything(self):
        typedefs, self.object_words = {}, {}
        for decl in self.iface.decls:
            if decl.kind in ("opaque", "alias", "callback", "enum"):
                decl.nimname = nim_ident(self.namer.type_name(decl))
                typedefs[decl.cname] = decl.nimname
            if decl.kind == "opaque":
                self.object_words[decl.cname] = self.namer.object_word(decl.cname)
        self.types = NimTypes(typedefs)
        for decl in self.iface.all_decls():
            if decl.kind == "constant":
                decl.nimname = nim_ident(decl.symname)
            elif decl.kind == "function":
                decl.nimname = nim_ident(
                    self.namer.function_name(decl, self.object_words))

    def _check_clashes(self):
        """Nim identifiers that differ only in case or underscores (after
        the first letter) are the same identifier; overloaded procs may
        share a name but not a signature."""
        owners = {}
        for decl in self.iface.all_decls():
            key = nim_normalized(decl.nimname)
            if decl.kind == "function":
                sig = tuple(self._param_type(decl, p) for p in decl.params)
                key = (key, sig)
            previous = owners.get(key)
            if previous is not None:
                raise NimgenError(
                    "%s and %s both become Nim %s; give one another name "
                    "with %%rename in the interface"
                    % (previous.cname, decl.cname, decl.nimname))
            owners[key] = decl
        procs = {nim_normalized(d.nimname) for d in self.iface.decls
                 if d.kind == "function"}
        for decl in self.iface.all_decls():
            if decl.kind != "function" and nim_normalized(decl.nimname) in procs:
                raise NimgenError("%s becomes Nim %s, which is also a proc name"
                                  % (decl.cname, decl.nimname))

    def nim_signature(self, decl):
        """The Nim types of a function's parameters and its result (None
        for void), as the generated module declares them."""
        params = [self._param_type(decl, p) for p in decl.params
                  if not (p.ctype == "void" and len(decl.params) == 1)]
        return params, self.types.map(decl.ret, decl.cname)

    def _param_type(self, decl, param):
        return self.types.map(param.ctype, "%s(%s)" % (decl.cname, param.name))

    # -- sections --------------------------------------------------------

    def _prologue(self):
        o = self.out
        o.extend(doc_lines(self.docs.module_doc, ""))
        if self.docs.module_doc:
            o.append("##")
        o.append("## The raw layer: every function, type and constant of the "
                 "C API, under its Nim")
        o.append("## name. Generated by bindings/nimgen from %s; do not edit."
                 % self.opt.source)
        o.append("")
        # Map every signature first so that only the system types in use
        # are imported.
        for decl in self.iface.decls:
            for p in decl.params:
                self._param_type(decl, p)
            if decl.ret:
                self.types.map(decl.ret, decl.cname)
            if decl.kind == "alias":
                self.types.map(decl.ctype, decl.cname)
        posix = [t for t in POSIX_TYPES if t in self.types.used]
        if posix:
            o.append("from posix import %s" % ", ".join(posix))
            o.append("export %s" % ", ".join(posix))
            o.append("")
        for flag in self.opt.passc:
            o.append("{.passC: %s.}" % nim_string(flag))
        for flag in self.opt.passl:
            o.append("{.passL: %s.}" % nim_string(flag))
        if self.opt.dynlib:
            o.append("const flatuvLib* = %s" % nim_string(self.opt.dynlib))
            o.append("  ## The library the procs are loaded from at run time.")
        if self.opt.passc or self.opt.passl or self.opt.dynlib:
            o.append("")

    def _types(self):
        decls = [d for d in self.iface.decls
                 if d.kind in ("opaque", "alias", "callback", "enum")]
        builtins = [b for b in BUILTIN_TYPES if b[0] in self.types.used]
        if not decls and not builtins:
            return
        o = self.out
        o.append("type")
        for _, definition, doc in builtins:
            o.append("  " + definition)
            o.append("    ## " + doc)
        for decl in decls:
            doc = doc_lines(self.docs.get(decl.cname), "    ")
            if decl.kind == "opaque":
                if self.opt.dynlib:
                    o.append("  %s* = object" % decl.nimname)
                else:
                    o.append('  %s* {.importc: "%s", header: "%s", '
                             "incompleteStruct.} = object"
                             % (decl.nimname, decl.cname, self.opt.header))
            elif decl.kind == "enum":
                o.append("  %s* = cint" % decl.nimname)
            elif decl.kind == "alias":
                o.append("  %s* = %s" % (decl.nimname,
                                         self.types.map(decl.ctype, decl.cname)))
            else:
                o.append("  %s* = %s {.cdecl.}" % (decl.nimname,
                                                   self._signature(decl)))
            o.extend(doc)
        o.append("")

    def _constants(self):
        o = self.out
        groups = []
        loose = [d for d in self.iface.decls if d.kind == "constant"]
        if loose:
            groups.append((None, loose))
        for decl in self.iface.decls:
            if decl.kind == "enum" and decl.items:
                groups.append((decl, decl.items))
        for enum, items in groups:
            o.append("const")
            for item in items:
                if enum is not None:
                    o.append("  %s*: %s = %d" % (item.nimname, enum.nimname,
                                                 item.value_int))
                elif _is_string_type(item.ctype):
                    o.append("  %s* = %s" % (item.nimname,
                                             nim_string(unquote_c(item.value))))
                else:
                    o.append("  %s* = %d" % (item.nimname, item.value_int))
                o.extend(doc_lines(self.docs.get(item.cname), "    "))
            o.append("")

    def _procs(self):
        o = self.out
        for decl in self.iface.decls:
            if decl.kind != "function":
                continue
            if self.opt.dynlib:
                binding = "dynlib: flatuvLib"
            else:
                binding = 'header: "%s"' % self.opt.header
            o.append("proc %s*%s {.importc: \"%s\", %s, cdecl.}"
                     % (decl.nimname, self._signature(decl)[len("proc "):],
                        decl.cname, binding))
            o.extend(doc_lines(self.docs.get(decl.cname), "  "))
            o.append("")

    def _signature(self, decl):
        params = []
        for i, p in enumerate(decl.params):
            if p.ctype == "void" and len(decl.params) == 1:
                break  # f(void)
            name = nim_ident(camel(p.name, False)) if p.name else "a%d" % (i + 1)
            params.append("%s: %s" % (name, self._param_type(decl, p)))
        ret = self.types.map(decl.ret, decl.cname)
        sig = "proc (%s)" % "; ".join(params)
        if ret:
            sig += ": " + ret
        return sig


def nim_string(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def unquote_c(value):
    """SWIG gives string constants without quotes; keep them as text."""
    value = value or ""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def find_swig():
    """The pinned SWIG (bindings/apigen/apigen/find_swig.py: $FLATUV_SWIG or
    $SWIG, else the PyPI package; a version other than the pin is refused)."""
    try:
        return _find_swig.find()
    except _find_swig.SwigError as exc:
        raise NimgenError(str(exc))


def generate(interface, include_dirs, options, swig=None, cc=None,
             xml_keep=None):
    """Runs SWIG on the interface and returns the Emitter that wrote the
    Nim module: its .text, and the declarations with their Nim names."""
    swig = swig or find_swig()
    cc = cc or os.environ.get("CC") or "cc"
    tmp = tempfile.mkdtemp(prefix="nimgen-")
    try:
        xml_path = xml_keep or os.path.join(tmp, "interface.xml")
        swiglib = run_swig(swig, interface, include_dirs, xml_path)
        iface = Interface.from_xml(xml_path, swiglib)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    docs = DocIndex(options.prefix)
    names = [d.cname for d in iface.all_decls()]
    for header in iface.headers:
        docs.add_header(header, names)
    resolve_values(iface, options.header, include_dirs, cc)
    emitter = Emitter(iface, docs, options)
    emitter.emit()
    return emitter


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("interface", help="the SWIG interface (.i)")
    ap.add_argument("-I", dest="include_dirs", action="append", default=[],
                    help="include directory, for SWIG and the C compiler")
    ap.add_argument("-o", dest="output", required=True,
                    help="the Nim module to write")
    ap.add_argument("--header", default="flatuv.h",
                    help="the C header the procs are imported from")
    ap.add_argument("--dynlib", metavar="LIB",
                    help="bind with dynlib: LIB (e.g. 'libflatuv.so(|.1)') "
                         "instead of header:")
    ap.add_argument("--prefix", default="fuv_",
                    help="the C prefix the default naming rule removes")
    ap.add_argument("--passc", action="append", default=[],
                    help="a {.passC.} flag to put in the module")
    ap.add_argument("--passl", action="append", default=[],
                    help="a {.passL.} flag to put in the module")
    ap.add_argument("--keep-xml", metavar="FILE",
                    help="also write SWIG's XML to FILE")
    args = ap.parse_args(argv)
    options = Options(header=args.header, dynlib=args.dynlib,
                      prefix=args.prefix, passc=args.passc, passl=args.passl,
                      source=os.path.basename(args.interface))
    try:
        text = generate(args.interface, args.include_dirs, options,
                        xml_keep=args.keep_xml).text
    except NimgenError as exc:
        print("nimgen: error: %s" % exc, file=sys.stderr)
        return 1
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    # Write through a temporary file so that an interrupted run never
    # leaves a half-written module for the next incremental build.
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
