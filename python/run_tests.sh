#!/usr/bin/env bash
# Tests the Python package the way a user gets it: builds the wheel from
# ./python in a fresh virtual environment (with build isolation, so the
# pinned SWIG and scikit-build-core come from PyPI), installs it there with
# pytest and mypy, and runs from a directory where the source package
# cannot shadow the installed one:
#   - the Python emitter's tests (bindings/apigen/tests/test_emit_python*.py,
#     with mypy there: the shapes test rebuilds the module from a copy of the
#     header with functions added, and type-checks their stubs);
#   - python/tests (pytest);
#   - mypy's stubtest of the installed package against its generated stubs,
#     and mypy --strict on a typed program (python/tests/typing_sample.py).
#
#   python/run_tests.sh [WORK_DIR]     (default: a new directory under /tmp)
#
# Prints pytest's and mypy's summary lines; exits non-zero on any failure.
# Extra pytest arguments can be given in FLATUV_PYTEST_ARGS.
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
# The pinned SWIG too, for the emitter's tests (the wheel's build had its own).
swig_pin=$("$venv_python" -c 'import re, sys
print(re.search(r"\"(swig==[^\"]+)\"", open(sys.argv[1]).read()).group(1))' "$here/pyproject.toml")
"$venv_python" -m pip install --quiet --disable-pip-version-check "$wheel" pytest mypy "$swig_pin"

# From an empty directory. pytest puts only python/tests on sys.path (it
# has no __init__.py), so `import flatuv` finds the installed wheel, never
# python/flatuv; test_package.py checks that it did.
mkdir -p "$work/run"
cd "$work/run"
echo "python: the emitter's tests (bindings/apigen: the Python emitter, the shapes)"
apigen_tests="$here/../bindings/apigen/tests"
PYTHONDONTWRITEBYTECODE=1 "$venv_python" -m pytest -p no:cacheprovider -q \
  "$apigen_tests/test_emit_python.py" "$apigen_tests/test_emit_python_shapes.py"
echo "python: the package's tests (python/tests)"
PYTHONDONTWRITEBYTECODE=1 FLATUV_SOURCE_DIR="$here" "$venv_python" -m pytest -p no:cacheprovider \
  -q "$here/tests" ${FLATUV_PYTEST_ARGS:-}

# The stubs: what they say is what the installed package has, and a typed
# program over them passes mypy --strict. Each prints its result line.
export MYPY_CACHE_DIR="$work/mypy-cache"
echo "python: stubtest"
"$venv_python" -m mypy.stubtest flatuv
echo "python: mypy --strict tests/typing_sample.py"
"$venv_python" -m mypy --strict "$here/tests/typing_sample.py"
