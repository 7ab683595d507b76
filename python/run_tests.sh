#!/usr/bin/env bash
# Tests the Python package the way a user gets it: builds the wheel from
# ./python in a fresh virtual environment (with build isolation, so the
# pinned SWIG and scikit-build-core come from PyPI), installs it there with
# pytest, and runs python/tests from a directory where the source package
# cannot shadow the installed one.
#
#   python/run_tests.sh [WORK_DIR]     (default: a new directory under /tmp)
#
# Prints pytest's summary line; exits non-zero on any failure. Extra pytest
# arguments can be given in FLATUV_PYTEST_ARGS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
work=${1:-$(mktemp -d /tmp/flatuv-python.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)

rm -rf "$work/venv" "$work/wheelhouse" "$work/run"
"$python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
echo "python: building the wheel in $work"
"$venv_python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --wheel-dir "$work/wheelhouse" "$here" >"$work/wheel.log" 2>&1 ||
  { tail -n 60 "$work/wheel.log"; exit 1; }
wheel=$(ls "$work"/wheelhouse/flatuv-*.whl)
echo "python: installing $(basename "$wheel")"
"$venv_python" -m pip install --quiet --disable-pip-version-check "$wheel" pytest

# From an empty directory. pytest puts only python/tests on sys.path (it
# has no __init__.py), so `import flatuv` finds the installed wheel, never
# python/flatuv; test_package.py checks that it did.
mkdir -p "$work/run"
cd "$work/run"
PYTHONDONTWRITEBYTECODE=1 FLATUV_SOURCE_DIR="$here" "$venv_python" -m pytest -p no:cacheprovider \
  -q "$here/tests" ${FLATUV_PYTEST_ARGS:-}
