#!/bin/sh
# Prints the path of the pinned SWIG installed from PyPI (never a system
# swig, whose version may differ).
python3 - <<'PY'
import os, sys
try:
    import swig
except ImportError:
    sys.exit("find-swig: the swig package from PyPI is not installed (run scripts/deps.sh)")
print(os.path.join(swig.BIN_DIR, "swig"))
PY
