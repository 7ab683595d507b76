"""apigen: writes a binding's generated files from the SWIG interface.

    python3 -m apigen LANGUAGE... --interface swig/flatuv.i -I core/include \\
        --out DIR [--xml FILE]

LANGUAGE is an emitter, the module apigen/emit_LANGUAGE.py: `roles`
(roles.i for the SWIG modules), `bridge` (the bridge's table), `python`, `lua`, `nim`, or `dump` (the
model as text, to read what the rules made of the header). SWIG runs once
(the pinned one, apigen/find_swig.py) and every emitter named writes into
DIR. Each emitter module has write(api, out_dir, options) returning the
paths it wrote; options are this command's arguments.
"""

import argparse
import importlib
import os
import sys
import tempfile

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "apigen"

from apigen import find_swig, model, swigxml  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="apigen", description=__doc__.split("\n")[0])
    ap.add_argument("languages", nargs="+", metavar="LANGUAGE")
    ap.add_argument("--interface", required=True, help="the SWIG interface (.i)")
    ap.add_argument("-I", dest="include_dirs", action="append", default=[])
    ap.add_argument("--out", required=True, help="directory to write into")
    ap.add_argument("--xml", help="keep SWIG's XML in this file")
    ap.add_argument("--header", default="flatuv.h",
                    help="the header the constants are probed with")
    ap.add_argument("--dynlib", help="(nim) bind with dynlib: LIB")
    ap.add_argument("--passc", action="append", default=[], help="(nim) {.passC.}")
    ap.add_argument("--passl", action="append", default=[], help="(nim) {.passL.}")
    ap.add_argument("--overrides", help="(python) the hand-written overrides file")
    ap.add_argument("--pyproject", help="the pyproject.toml with the SWIG pin "
                    "(default: the repository's python/pyproject.toml)")
    return ap.parse_args(argv)


def load_api(args):
    swig = find_swig.find(args.pyproject)
    with tempfile.TemporaryDirectory(prefix="apigen-") as tmp:
        xml = args.xml or os.path.join(tmp, "interface.xml")
        swiglib = swigxml.run_swig(swig, args.interface, args.include_dirs, xml)
        return model.load(xml, swiglib, args.include_dirs,
                          os.environ.get("CC") or "cc", args.header)


def main(argv=None):
    args = parse_args(argv)
    emitters = []
    for language in args.languages:
        try:
            emitters.append(importlib.import_module("apigen.emit_" + language))
        except ImportError as exc:
            print("apigen: no emitter %r (%s)" % (language, exc), file=sys.stderr)
            return 2
    try:
        api = load_api(args)
        os.makedirs(args.out, exist_ok=True)
        for emitter in emitters:
            emitter.write(api, args.out, args)
    except (swigxml.ApigenError, find_swig.SwigError) as exc:
        print("apigen: error: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
