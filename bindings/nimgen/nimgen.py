#!/usr/bin/env python3
"""nimgen: writes the Nim raw layer of a C API from `swig -xml` output.

A thin command over bindings/apigen/apigen/emit_nim_raw.py, where the
generator now lives (`python3 bindings/apigen/apigen nim ...` writes the
raw and the idiomatic layer of flatuv); kept for any C API in flatuv's
style, with its own prefix:

    nimgen.py IFACE.i -I DIR -o raw.nim [--header H] [--prefix P]
              [--dynlib LIB] [--passc F] [--passl F] [--keep-xml FILE]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "apigen"))
from apigen import emit_nim_raw, find_swig  # noqa: E402
from apigen.emit_roles import _write_if_changed  # noqa: E402
from apigen.swigxml import ApigenError  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("interface", help="the SWIG interface (.i)")
    ap.add_argument("-I", dest="include_dirs", action="append", default=[])
    ap.add_argument("-o", dest="output", required=True)
    ap.add_argument("--header", default="flatuv.h")
    ap.add_argument("--dynlib", metavar="LIB")
    ap.add_argument("--prefix", default="fuv_")
    ap.add_argument("--passc", action="append", default=[])
    ap.add_argument("--passl", action="append", default=[])
    ap.add_argument("--keep-xml", metavar="FILE")
    args = ap.parse_args(argv)
    options = emit_nim_raw.Options(
        header=args.header, dynlib=args.dynlib, prefix=args.prefix,
        passc=args.passc, passl=args.passl,
        source=os.path.basename(args.interface))
    try:
        text = emit_nim_raw.generate(args.interface, args.include_dirs,
                                     options, xml_keep=args.keep_xml).text
    except (ApigenError, find_swig.SwigError) as exc:
        print("nimgen: error: %s" % exc, file=sys.stderr)
        return 1
    _write_if_changed(args.output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
