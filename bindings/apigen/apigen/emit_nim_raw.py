"""The Nim raw layer (`flatuv/raw.nim`) from SWIG's XML.

SWIG has no Nim backend, so flatuv keeps the SWIG interface as the single
source and turns SWIG's XML parse tree into Nim here. The interface decides
the Nim names (through %rename in swig/nim.i, seen as each node's
sym_name); nim_names.Namer applies the default rule to everything that was
not renamed, and nim_types maps C types to Nim. It emits:

  - opaque struct typedefs as `{.incompleteStruct.}` objects used via `ptr`;
  - enums as `cint` aliases with typed constants, and #define constants;
  - callback typedefs as `{.cdecl.}` proc types;
  - functions as `importc` procs of the flat C symbols, bound either with
    `header:` (the default) or with `dynlib:`;
  - the documentation of each declaration in the C header as its doc
    comment (apigen.docs, the parser every binding uses).

It works on the declarations alone (swigxml.Interface), not on the API
model, so that it serves any C API in flatuv's style (the tests' mini.h).
"""

import os
import shutil
import tempfile

from . import find_swig
from .docs import DocIndex
from .nim_names import Namer, camel, nim_ident, nim_normalized
from .nim_types import BUILTIN_TYPES, POSIX_TYPES, NimTypes
from .swigxml import (ApigenError, Interface, is_string_type, resolve_values,
                      run_swig)


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


def nim_string(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def unquote_c(value):
    """SWIG gives string constants without quotes; keep them as text."""
    value = value or ""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


class Emitter:
    def __init__(self, iface, docs, options):
        self.iface = iface
        self.docs = docs
        self.opt = options
        bases = {d.cname: d.features.get("base") for d in iface.decls
                 if d.kind == "opaque" and d.features.get("base")}
        self.namer = Namer(options.prefix, bases)
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
        typedefs, object_types = {}, set()
        for decl in self.iface.decls:
            if decl.kind in ("opaque", "alias", "callback", "enum"):
                decl.nimname = nim_ident(self.namer.type_name(decl))
                typedefs[decl.cname] = decl.nimname
            if decl.kind == "opaque":
                object_types.add(decl.cname)
        self.types = NimTypes(typedefs)
        for decl in self.iface.all_decls():
            if decl.kind == "constant":
                decl.nimname = nim_ident(decl.symname)
            elif decl.kind == "function":
                decl.nimname = nim_ident(
                    self.namer.function_name(decl, object_types))

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
                raise ApigenError(
                    "%s and %s both become Nim %s; give one another name "
                    "with %%rename in the interface"
                    % (previous.cname, decl.cname, decl.nimname))
            owners[key] = decl
        procs = {nim_normalized(d.nimname) for d in self.iface.decls
                 if d.kind == "function"}
        for decl in self.iface.all_decls():
            if decl.kind != "function" and nim_normalized(decl.nimname) in procs:
                raise ApigenError("%s becomes Nim %s, which is also a proc name"
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
        o.append("## name. Generated by bindings/apigen from %s; do not edit."
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
                elif is_string_type(item.ctype):
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


def options_from(args):
    """Options from apigen's command line (apigen/__main__.py)."""
    return Options(header=getattr(args, "header", None) or "flatuv.h",
                   dynlib=getattr(args, "dynlib", None),
                   passc=getattr(args, "passc", None) or (),
                   passl=getattr(args, "passl", None) or (),
                   source=os.path.basename(getattr(args, "interface", None)
                                           or "the SWIG interface"))


def emitter_for(api, options):
    """The Emitter of the raw layer of a loaded model (its declarations
    and docs), already run."""
    emitter = Emitter(api.iface, api.docs, options)
    emitter.emit()
    return emitter


def generate(interface, include_dirs, options, swig=None, cc=None,
             xml_keep=None):
    """Runs SWIG on any interface (its own prefix, no model) and returns the
    Emitter that wrote the Nim module: its .text, and the declarations with
    their Nim names."""
    swig = swig or find_swig.find()
    cc = cc or os.environ.get("CC") or "cc"
    tmp = tempfile.mkdtemp(prefix="apigen-nim-")
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


def write(api, out_dir, options=None):
    """Writes OUT/flatuv/raw.nim (`python3 -m apigen nim_raw ...`)."""
    from .emit_roles import _write_if_changed
    path = os.path.join(out_dir, "flatuv", "raw.nim")
    _write_if_changed(path, emitter_for(api, options_from(options)).text)
    return [path]
