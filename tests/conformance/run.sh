#!/usr/bin/env bash
# Runs the conformance cases (tests/conformance/cases.txt) through every
# language: C, Python, Lua 5.4, LuaJIT and Nim. Each runner prints a line
# per case and its own summary; the last line counts the language runners:
# "conformance: N passed, M failed". Exits non-zero if any runner failed,
# could not be built, or its language is missing.
#
#   tests/conformance/run.sh [OUTDIR]       (default: _build/conformance)
#
# The C runner runs against both backends (epoll and poll), counted as one
# runner. Builds go to OUTDIR, except that what scripts/test.sh's stages
# already built under _build/test (FLATUV_TEST_DIR) is reused: the C
# static libraries (c/core/libflatuv_test_{epoll,poll}.a), the Python
# virtual environment with the wheel (python/venv) and the Lua modules
# (lua/lua5.4, lua/luajit). Nim programs are compiled with nim/build.sh,
# its build directory in OUTDIR/nim.
# Environment: PYTHON (to make the virtual environment), FLATUV_JOBS,
# FLATUV_CONFORMANCE_VALGRIND=1 (run the C runner under valgrind too),
# FLATUV_CONFORMANCE_ONLY="nim ..." (only those languages), NIM (the Nim
# compiler).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/_build/conformance}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage_dir=${FLATUV_TEST_DIR:-$root/_build/test}
jobs=${FLATUV_JOBS:-2}
cases=$here/cases.txt
limit=600 # seconds per runner: a hang is a failure

passed=0
failed=0
failed_names=()

# record NAME STATUS: counts one language runner.
record() {
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failed_names+=("$1")
  fi
}

# logged LOG COMMAND...: runs a build step, showing its log on failure.
logged() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 || { tail -n 40 "$log"; return 1; }
}

# ---- C --------------------------------------------------------------------

# Prints the path of a static core library with the given backend (epoll
# or poll), building it in OUTDIR/c-BACKEND unless scripts/test.sh's C
# stage has one.
c_library() { # BACKEND
  local backend=${1:-epoll}
  if [ -f "$stage_dir/c/core/libflatuv_test_$backend.a" ]; then
    echo "$stage_dir/c/core/libflatuv_test_$backend.a"
    return
  fi
  local dir=$out/c-$backend
  logged "$dir.configure.log" cmake -S "$root" -B "$dir" -G Ninja \
    -DFLATUV_BACKEND="$backend" -DFLATUV_BUILD_SHARED=OFF \
    -DFLATUV_BUILD_TESTS=OFF -DFLATUV_BUILD_EXAMPLES=OFF \
    -DFLATUV_BUILD_BRIDGE=OFF >&2 &&
    logged "$dir.build.log" cmake --build "$dir" --target flatuv_static \
      -j "$jobs" >&2 &&
    echo "$dir/core/libflatuv.a"
}

# The C runner, once per backend: the bindings use the default (epoll), so
# this is where the poll backend shows the same behaviour.
run_c() {
  local backend lib exe status=0
  for backend in epoll poll; do
    echo "-- the C runner, $backend backend"
    lib=$(c_library "$backend") ||
      { echo "conformance-c: the $backend library did not build"; status=1; continue; }
    exe=$out/runner-c-$backend
    logged "$exe.log" "${CC:-cc}" -std=c99 -Wall -Wextra -Werror -g \
      -I"$root/core/include" "$here/c/runner.c" "$lib" -lpthread -o "$exe" ||
      { echo "conformance-c: the runner did not compile"; status=1; continue; }
    timeout "$limit" "$exe" "$cases" || status=1
    if [ "${FLATUV_CONFORMANCE_VALGRIND:-0}" = 1 ]; then
      echo "-- the C runner, $backend backend, under valgrind"
      timeout "$limit" valgrind -q --leak-check=full --error-exitcode=99 \
        "$exe" "$cases" | tail -n 1 || status=1
    fi
  done
  return $status
}

# ---- Python ---------------------------------------------------------------

# Prints a Python that imports the installed flatuv wheel, building a
# virtual environment with it in OUTDIR/python if there is none to reuse.
python_with_wheel() {
  local venv
  for venv in "$stage_dir/python/venv" "$out/python/venv"; do
    if [ -x "$venv/bin/python" ] &&
       (cd / && "$venv/bin/python" -c "import flatuv") 2>/dev/null; then
      echo "$venv/bin/python"
      return
    fi
  done
  venv=$out/python/venv
  rm -rf "$out/python"
  mkdir -p "$out/python"
  logged "$out/python/venv.log" "${PYTHON:-python3}" -m venv "$venv" >&2 &&
    logged "$out/python/wheel.log" "$venv/bin/python" -m pip wheel --quiet \
      --disable-pip-version-check --no-deps --wheel-dir "$out/python/wheelhouse" \
      "$root/python" >&2 &&
    logged "$out/python/install.log" "$venv/bin/python" -m pip install --quiet \
      --disable-pip-version-check "$out"/python/wheelhouse/flatuv-*.whl >&2 &&
    echo "$venv/bin/python"
}

run_python() {
  local python
  python=$(python_with_wheel) ||
    { echo "conformance-python: the wheel did not build"; return 1; }
  # From /, so that nothing but the installed wheel can be imported.
  (cd / && PYTHONDONTWRITEBYTECODE=1 timeout "$limit" "$python" \
    "$here/python/runner.py" "$cases")
}

# ---- Lua ------------------------------------------------------------------

lua_build_dir() {
  if [ -f "$stage_dir/lua/lua5.4/flatuv/raw.so" ] &&
     [ -f "$stage_dir/lua/luajit/flatuv/raw.so" ]; then
    echo "$stage_dir/lua"
    return
  fi
  logged "$out/lua.configure.log" cmake -S "$root/bindings/lua" -B "$out/lua" \
    -G Ninja >&2 &&
    logged "$out/lua.build.log" cmake --build "$out/lua" -j "$jobs" >&2 &&
    echo "$out/lua"
}

run_lua() { # LUA BUILD_DIR
  local lua=$1 dir=$2/$1
  command -v "$lua" >/dev/null || { echo "conformance-$lua: $lua is not installed"; return 1; }
  [ -f "$dir/flatuv/raw.so" ] || { echo "conformance-$lua: no module was built in $dir"; return 1; }
  LUA_PATH="$dir/?.lua;;" LUA_CPATH="$dir/?.so;;" timeout "$limit" \
    "$lua" "$here/lua/runner.lua" "$cases" "$lua"
}

# ---- Nim ------------------------------------------------------------------

run_nim() { # C_LIBRARY
  command -v "${NIM:-nim}" >/dev/null || { echo "conformance-nim: nim is not installed"; return 1; }
  [ -f "$root/nim/build.sh" ] || { echo "conformance-nim: nim/build.sh is missing"; return 1; }
  mkdir -p "$out/nim"
  FLATUV_NIM_BUILD=$out/nim FLATUV_STATIC_LIB=$1 logged "$out/runner-nim.log" \
    sh "$root/nim/build.sh" --nimcache:"$out/nim/runner-cache" \
    -o:"$out/runner-nim" "$here/nim/runner.nim" ||
    { echo "conformance-nim: the runner did not compile"; return 1; }
  timeout "$limit" "$out/runner-nim" "$cases"
}

# ---- all ------------------------------------------------------------------

# wanted LANGUAGE: whether FLATUV_CONFORMANCE_ONLY (a list of c, python,
# lua, nim; empty for all) asks for it.
wanted() {
  [ -z "${FLATUV_CONFORMANCE_ONLY:-}" ] || [[ " $FLATUV_CONFORMANCE_ONLY " == *" $1 "* ]]
}

if wanted c; then
echo "==== conformance: C"
run_c
record c $?
fi

if wanted python; then
echo "==== conformance: Python"
run_python
record python $?
fi

if wanted lua; then
echo "==== conformance: Lua"
if lua_dir=$(lua_build_dir); then
  for lua in lua5.4 luajit; do
    run_lua "$lua" "$lua_dir"
    record "$lua" $?
  done
else
  echo "conformance-lua: the Lua modules did not build"
  record lua5.4 1
  record luajit 1
fi
fi

if wanted nim; then
echo "==== conformance: Nim ($("${NIM:-nim}" --version 2>/dev/null | head -n 1))"
if lib=$(c_library epoll); then
  run_nim "$lib"
  record nim $?
else
  echo "conformance-nim: the C library did not build"
  record nim 1
fi
fi

echo
[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "conformance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
