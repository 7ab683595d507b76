#!/usr/bin/env bash
# Runs examples/python/pyuv_program.py, a program written in pyuv's
# documented style, on flatuv and compares what it printed with
# pyuv_program.expected. The program imports "pyuv"; that name is made to
# import flatuv, so the program runs unchanged. (pyuv itself no longer
# builds for the Python versions this machine has, so the expected output
# follows pyuv's documentation rather than a run of it.)
#
#   examples/python/run_pyuv_program.sh PYTHON
#
# PYTHON is an interpreter with flatuv installed (e.g. the virtual
# environment the python stage builds). Exits non-zero on any difference.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
python=${1:?usage: run_pyuv_program.sh PYTHON}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if "$python" -c '
import runpy, sys
import flatuv
sys.modules["pyuv"] = flatuv
runpy.run_path(sys.argv[1], run_name="__main__")
' "$here/pyuv_program.py" > "$out/out.txt" 2> "$out/err.txt" &&
   diff -u "$here/pyuv_program.expected" "$out/out.txt" > "$out/diff.txt"; then
  echo "pyuv-program on flatuv: PASS"
else
  echo "pyuv-program on flatuv: FAIL"
  cat "$out/err.txt" "$out/diff.txt" 2>/dev/null || true
  exit 1
fi
