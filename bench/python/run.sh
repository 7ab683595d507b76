#!/usr/bin/env bash
# The Python echo comparison: flatuv's Python binding against uvloop and
# asyncio (both with asyncio.Protocol and TCP_NODELAY), with bench/run.py
# (alternating rounds, pinned cores, medians, server CPU per request), then
# the per-call overhead figures.
#
#   bench/python/run.sh [WORK_DIR] [run.py options...]
#
# WORK_DIR (default /tmp/flatuv-bench-python) gets a virtual environment
# with the flatuv wheel built from ./python and uvloop from PyPI, and a
# Release build of the load generator. Defaults: --configs
# 10x1024,100x1024,10x65536 --rounds 5; later options override them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/flatuv-bench-python}
[ $# -gt 0 ] && shift
mkdir -p "$work"
python=${PYTHON:-python3}

if [ ! -x "$work/venv/bin/python" ]; then
  "$python" -m venv "$work/venv"
fi
venv_python="$work/venv/bin/python"
"$venv_python" -m pip install --quiet --disable-pip-version-check "$root/python" uvloop

cmake -S "$root" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFLATUV_BUILD_BENCH=ON -DFLATUV_BUILD_TESTS=OFF -DFLATUV_BUILD_EXAMPLES=OFF \
  >"$work/cmake.log"
cmake --build "$work/build" -j 2 --target fuv_loadgen >>"$work/cmake.log"

here="$root/bench/python"
python3 "$root/bench/run.py" --build-dir "$work/build" \
  --configs 10x1024,100x1024,10x65536 --rounds 5 \
  --server flatuv-py="$venv_python $here/echo_flatuv.py" \
  --server uvloop="$venv_python $here/echo_uvloop.py" \
  --server asyncio="$venv_python $here/echo_asyncio.py" \
  "$@"
echo
"$venv_python" "$here/overhead.py"
