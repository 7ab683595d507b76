#!/bin/sh
# Prints the command of the pinned SWIG installed from PyPI (never a system
# swig, whose version may differ): the package's console script, which
# points SWIG at its own library of .swg files.
python3 - <<'PY'
import os, sys, sysconfig
try:
    import swig  # noqa: F401
except ImportError:
    sys.exit("find-swig: the swig package from PyPI is not installed (run scripts/deps.sh)")
script = os.path.join(sysconfig.get_path("scripts"), "swig")
if not os.path.exists(script):
    sys.exit("find-swig: the swig package has no console script at " + script)
print(script)
PY
