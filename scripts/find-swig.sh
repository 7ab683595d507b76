#!/bin/sh
# Prints the command of the pinned SWIG installed from PyPI (never a system
# swig, whose version may differ), e.g. `SWIG_LIB=... /path/to/swig`: run it
# with eval "$(scripts/find-swig.sh) -version". The search is
# bindings/apigen/apigen/find_swig.py, the one the CMake builds and nimgen
# use too; pass --fields for binary, library and version on three lines.
here=$(cd "$(dirname "$0")/.." && pwd)
exec "${PYTHON:-python3}" "$here/bindings/apigen/apigen/find_swig.py" "$@"
