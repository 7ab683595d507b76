#!/usr/bin/env bash
# Builds the Lua module for Lua 5.4 and for LuaJIT and runs the busted
# specs (bindings/lua/spec) under each, printing busted's summary per Lua.
# Exits non-zero if a build or any spec failed, or if a Lua is missing.
#
#   bindings/lua/run_tests.sh [BUILD_DIR]        (default: _build/lua)
#
# FLATUV_LUA_VALGRIND=1 adds a pass of the specs under valgrind with Lua
# 5.4 (errors and definite leaks fail it); it leaves out the one test
# tagged #rss, since RSS measures valgrind's allocator, not ours.
#
# Then the generator's shapes test (tests/shapes.sh, in BUILD_DIR/shapes):
# a module built against a copy of the header with one function of each
# shape added, each called from both Luas. FLATUV_LUA_SHAPES=0 skips it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/_build/lua}
jobs=${FLATUV_JOBS:-2}
luas=(lua5.4 luajit)

mkdir -p "$(dirname "$build")"
if ! { cmake -S "$here" -B "$build" -G Ninja >"$build.configure.log" 2>&1 &&
       cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1; }; then
  cat "$build.configure.log" "$build.build.log" 2>/dev/null | tail -n 60
  echo "lua: build FAILED"
  exit 1
fi

busted=$(command -v busted) || { echo "lua: busted is not installed"; exit 1; }

# run_specs NAME LUA_COMMAND DIR [busted options...]
run_specs() {
  local name=$1 lua=$2 dir=$3
  shift 3
  echo "---- busted under $name"
  (cd "$here" &&
    FLATUV_LUA="$lua" LUA_PATH="$dir/?.lua;$here/spec/?.lua;;" \
    LUA_CPATH="$dir/?.so;;" $lua "$busted" -o utfTerminal "$@" spec) \
    >"$build/busted-$name.log" 2>&1
  local rc=$?
  cat "$build/busted-$name.log"
  summary=$(grep -E '[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors?' \
    "$build/busted-$name.log" | tail -n 1)
  summaries+=("$name: ${summary:-no summary (busted did not finish)}")
  return $rc
}

summaries=()
failed=0
for lua in "${luas[@]}"; do
  if ! command -v "$lua" >/dev/null; then
    summaries+=("$lua: not installed")
    failed=1
    continue
  fi
  if [ ! -f "$build/$lua/flatuv/raw.so" ]; then
    summaries+=("$lua: no module was built (headers missing?)")
    failed=1
    continue
  fi
  run_specs "$lua" "$lua" "$build/$lua" || failed=1
done

if [ "${FLATUV_LUA_VALGRIND:-0}" = 1 ]; then
  vg="valgrind -q --error-exitcode=99 --leak-check=full \
--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect"
  run_specs "lua5.4-valgrind" "$vg lua5.4" "$build/lua5.4" --exclude-tags=rss ||
    failed=1
fi

if [ "${FLATUV_LUA_SHAPES:-1}" != 0 ]; then
  echo "---- the shapes test (tests/shapes.sh)"
  shapes_out=$(bash "$here/tests/shapes.sh" "$build/shapes" 2>&1)
  shapes_rc=$?
  echo "$shapes_out"
  while IFS= read -r line; do
    case $line in "lua shapes: "*) summaries+=("${line#lua }") ;; esac
  done <<<"$shapes_out"
  [ "$shapes_rc" -eq 0 ] || { failed=1; summaries+=("shapes: FAILED"); }
fi

echo
for s in "${summaries[@]}"; do echo "lua: $s"; done
if [ "$failed" -ne 0 ]; then
  echo "lua: FAILED"
  exit 1
fi
echo "lua: all passed"
