#!/usr/bin/env bash
# The program fuzzer's CI driver: builds the Python wheel and the Lua module
# with AddressSanitizer and UBSan in OUTDIR, tests the fuzzer itself,
# replays every kept regression, then fuzzes each language for SECONDS.
#
#   tests/fuzz/programs/run.sh [SECONDS] [OUTDIR]   (default: 120, _build/progfuzz/ci)
#
# Prints the replay's and each language's summary line
# ("progfuzz-python: N passed, N failed", "progfuzz-lua: ..."); exits
# non-zero if a build, a test, a regression or a fuzzed program failed.
# Failing programs are kept in OUTDIR/found/<lang>/<verdict>/; shrink one
# with `python3 -m progfuzz minimize FILE` (same environment, see below).
#
# Sanitizers: python/CMakeLists.txt builds the core through
# add_subdirectory, so FLATUV_SANITIZE=ON (passed by SKBUILD_CMAKE_ARGS)
# instruments the core; CMAKE_C_FLAGS instruments the extension itself
# (python/src and SWIG's wrapper) and the bridge. Neither CPython nor Lua is
# built with ASan, so the runtime comes in by LD_PRELOAD, for the programs
# only (PROGFUZZ_PRELOAD), never for the fuzzer's own interpreter. If a
# sanitizer build fails, the script falls back to a plain build for that
# language and says so: a crash is then still seen as a signal.
set -uo pipefail
seconds=${1:-120}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${2:-$root/_build/progfuzz/ci}
mkdir -p "$out"
out=$(cd "$out" && pwd)
jobs=${PROGFUZZ_JOBS:-2}
python=${PYTHON:-python3}
san="-g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
failed=0

case $seconds in
'' | *[!0-9]*) echo "run.sh: SECONDS must be a number" >&2; exit 2 ;;
esac

preload=""
for lib in libasan.so libubsan.so; do
  path=$(gcc -print-file-name=$lib)
  [ -f "$path" ] && preload="${preload:+$preload:}$path"
done

# ---- Python: the wheel, in a venv --------------------------------------------
build_wheel() { # dir, extra SKBUILD_CMAKE_ARGS
  local dir=$1 args=$2
  rm -rf "$dir" && "$python" -m venv "$dir/venv" &&
    SKBUILD_CMAKE_ARGS="$args" SKBUILD_BUILD_DIR="$dir/build" \
      "$dir/venv/bin/pip" wheel --disable-pip-version-check --no-deps \
      --wheel-dir "$dir/wheelhouse" "$root/python" >"$dir.log" 2>&1 &&
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check \
      "$dir"/wheelhouse/flatuv-*.whl >>"$dir.log" 2>&1
}
echo "progfuzz: building the Python wheel with ASan+UBSan in $out/python"
py_preload=$preload
if ! build_wheel "$out/python" "-DFLATUV_SANITIZE=ON;-DCMAKE_C_FLAGS=$san;-DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=address,undefined"; then
  tail -n 30 "$out/python.log"
  echo "progfuzz: the sanitizer wheel did not build; falling back to a plain wheel"
  py_preload=""
  build_wheel "$out/python" "" || { tail -n 30 "$out/python.log"; echo "progfuzz-python: build FAILED"; exit 1; }
fi

# ---- Lua: the module for Lua 5.4 -------------------------------------------------
build_lua() { # dir, C flags, linker flags
  rm -rf "$1" &&
    cmake -S "$root/bindings/lua" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_C_FLAGS=$2" "-DCMAKE_MODULE_LINKER_FLAGS=$3" >"$1.log" 2>&1 &&
    cmake --build "$1" -j "$jobs" >>"$1.log" 2>&1 && [ -f "$1/lua5.4/flatuv/raw.so" ]
}
echo "progfuzz: building the Lua module with ASan+UBSan in $out/lua"
lua_preload=$preload
if ! build_lua "$out/lua" "$san" "-fsanitize=address,undefined"; then
  tail -n 30 "$out/lua.log"
  echo "progfuzz: the sanitizer module did not build; falling back to a plain module"
  lua_preload=""
  build_lua "$out/lua" "" "" || { tail -n 30 "$out/lua.log"; echo "progfuzz-lua: build FAILED"; exit 1; }
fi

export PROGFUZZ_PYTHON="$out/python/venv/bin/python"
export PROGFUZZ_LUA=lua5.4
export PROGFUZZ_LUA_DIR="$out/lua/lua5.4"
cd "$here"

# ---- the fuzzer's own tests ----------------------------------------------------
echo "---- progfuzz: tests of the fuzzer"
"$out/python/venv/bin/pip" install --quiet --disable-pip-version-check pytest >/dev/null 2>&1
PYTHONDONTWRITEBYTECODE=1 "$out/python/venv/bin/python" -m pytest -q -p no:cacheprovider \
  progfuzz/tests || failed=1

# ---- regressions, then fuzzing ----------------------------------------------------
echo "---- progfuzz: replaying the regressions"
PROGFUZZ_PRELOAD=$py_preload "$python" -m progfuzz replay --lang python || failed=1
PROGFUZZ_PRELOAD=$lua_preload "$python" -m progfuzz replay --lang lua || failed=1

summaries=()
for lang in python lua; do
  echo "---- progfuzz: fuzzing $lang for ${seconds}s"
  pre=$py_preload
  [ $lang = lua ] && pre=$lua_preload
  PROGFUZZ_PRELOAD=$pre "$python" -m progfuzz fuzz --lang $lang --seconds "$seconds" \
    --jobs "$jobs" --out "$out/found/$lang" ${PROGFUZZ_SEED_START:+--seed-start $PROGFUZZ_SEED_START} \
    | tee "$out/fuzz-$lang.log" || failed=1
  summaries+=("$(tail -n 1 "$out/fuzz-$lang.log")")
done

echo
for s in "${summaries[@]}"; do echo "$s"; done
exit $failed
