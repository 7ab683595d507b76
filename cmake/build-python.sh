#!/bin/sh
# build-python.sh PYTHON SOURCE_DIR OUT_DIR - the flatuv_python target:
# builds the wheel of SOURCE_DIR (python/) as `pip wheel` does for a user
# (build isolation: scikit-build-core and the pinned SWIG come from PyPI)
# into OUT_DIR/wheelhouse, and installs it into the virtual environment
# OUT_DIR/venv (made with PYTHON the first time). The log is OUT_DIR/wheel.log;
# its end is shown when the build fails.
set -eu
python=$1 src=$2 out=$3
mkdir -p "$out"
log=$out/wheel.log
fail() { tail -n 60 "$log"; echo "flatuv_python: $1 FAILED (log: $log)"; exit 1; }
[ -x "$out/venv/bin/python" ] || "$python" -m venv "$out/venv" >"$log" 2>&1 || fail "python -m venv"
rm -rf "$out/wheelhouse"
"$out/venv/bin/python" -m pip wheel --disable-pip-version-check --no-deps \
  --wheel-dir "$out/wheelhouse" "$src" >"$log" 2>&1 || fail "the wheel's build"
"$out/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --force-reinstall --no-deps "$out"/wheelhouse/flatuv-*.whl >>"$log" 2>&1 || fail "installing the wheel"
echo "flatuv_python: $(cd "$out/wheelhouse" && ls flatuv-*.whl), installed in $out/venv"
