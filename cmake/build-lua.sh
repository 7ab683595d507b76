#!/bin/sh
# build-lua.sh CMAKE SOURCE_DIR BUILD_DIR [BUILD_TYPE] - the flatuv_lua
# target: configures bindings/lua (SOURCE_DIR) as a project of its own in
# BUILD_DIR, with Ninja as bindings/lua/run_tests.sh does (so that its own
# configure of the same directory later agrees), and builds it. Logs:
# BUILD_DIR.configure.log and BUILD_DIR.build.log, the names run_tests.sh
# uses; their end is shown when a step fails.
set -eu
cmake=$1 src=$2 build=$3 type=${4:-}
mkdir -p "$(dirname "$build")"
if [ ! -f "$build/CMakeCache.txt" ]; then
  "$cmake" -S "$src" -B "$build" -G Ninja ${type:+-DCMAKE_BUILD_TYPE=$type} \
    >"$build.configure.log" 2>&1 ||
    { tail -n 60 "$build.configure.log"; echo "flatuv_lua: configuring $src FAILED"; exit 1; }
fi
"$cmake" --build "$build" >"$build.build.log" 2>&1 ||
  { tail -n 60 "$build.build.log"; echo "flatuv_lua: building $src FAILED"; exit 1; }
