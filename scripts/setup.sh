#!/usr/bin/env bash
# Set-up on a fresh Debian machine: installs what is missing, builds the
# library, examples, benchmarks and every binding (the Python wheel with a
# virtual environment, the Lua modules, the Nim raw layer; see
# cmake/FlatuvBindings.cmake), and runs the demo (the C echo server and
# client exchanging messages).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/_build/release
"$root/scripts/deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFLATUV_BUILD_BENCH=ON -DFLATUV_BUILD_EXAMPLES=ON -DFLATUV_BUILD_TESTS=ON \
  -DFLATUV_BUILD_PYTHON=ON -DFLATUV_BUILD_LUA=ON -DFLATUV_BUILD_NIM=ON
cmake --build "$build" -j 2
bash "$root/examples/demo.sh" "$build"
echo "setup: built in $build; the bindings: python/venv (has the wheel of python/wheelhouse),"
echo "setup: lua/lua5.4 and lua/luajit (flatuv.lua and flatuv/raw.so), nim/flatuv/raw.nim"
