#!/bin/sh
# nim/run_tests.sh - builds and runs the Nim tests of flatuv.
#
# Runs the generator's Nim tests (bindings/apigen/tests/test_nim*.py),
# builds the core and generates the raw and idiomatic layers (see build.sh), then compiles every
# nim/tests/test_*.nim under both memory managers, refc and orc, runs
# each (in Nim's debug mode, so with its run-time checks; add -d:release
# through FLATUV_NIM_FLAGS) with a time limit, so that a hang is a
# failure, counts the unittest results and prints "N passed, M failed".
# Exits non-zero on any failure, including a test program that crashes or
# does not compile.
#
#   SWIG=/path/to/swig nim/run_tests.sh [test_name ...]
#
# Environment: FLATUV_NIM_BUILD (build directory), FLATUV_NIM_MM (memory
# managers, default "refc orc"), FLATUV_NIM_FLAGS (extra nim c flags),
# FLATUV_NIM_TIMEOUT (seconds per test program, default 300),
# FLATUV_NIM_SKIP_GENERATOR=1 (leave out the generator's tests).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${FLATUV_NIM_BUILD:-${TMPDIR:-/tmp}/flatuv-nim-build}
export FLATUV_NIM_BUILD=$build
out=$build/nim-tests # test programs, their C caches and logs
mms=${FLATUV_NIM_MM:-refc orc}
limit=${FLATUV_NIM_TIMEOUT:-300}

FLATUV_NIM_PREPARE_ONLY=1 "$here/build.sh" || {
  echo "0 passed, 1 failed (could not build the core or generate the raw layer)"
  exit 1
}

if [ $# -gt 0 ]; then
  tests=$*
else
  tests=$(cd "$here/tests" && ls test_*.nim | sed 's/\.nim$//')
fi

passed=0
failed=0

# The generator's own Nim tests (bindings/apigen/tests/test_nim*.py:
# golden output, compile checks, the shapes a function can have), unless
# only some Nim tests were asked for or FLATUV_NIM_SKIP_GENERATOR=1 (ctest
# runs them as a test of their own).
if [ $# -eq 0 ] && [ "${FLATUV_NIM_SKIP_GENERATOR:-0}" != 1 ]; then
  mkdir -p "$out/log"
  log=$out/log/apigen-nim.log
  NIM=${NIM:-nim} ${PYTHON:-python3} -m pytest -q -p no:cacheprovider -rfEs \
    "$root"/bindings/apigen/tests/test_nim*.py >"$log" 2>&1
  status=$?
  # pytest's summary: "N passed, F failed, E errors, S skipped in T s".
  summary=$(grep -E '^=*.*( passed| failed| error)' "$log" | tail -n 1)
  count() { echo "$summary" | sed -n "s/.*[^0-9]\([0-9][0-9]*\) $1.*/\1/p;s/^\([0-9][0-9]*\) $1.*/\1/p" | head -n 1; }
  ok=$(count passed); f=$(count failed); e=$(count error)
  echo "[apigen-nim] ${summary:-no summary}"
  bad=$(( ${f:-0} + ${e:-0} ))
  passed=$((passed + ${ok:-0}))
  failed=$((failed + bad))
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
    tail -n 20 "$log"
    failed=$((failed + 1))
  elif [ "$bad" -ne 0 ]; then
    grep -E '^(FAILED|ERROR)' "$log"
  fi
fi
for name in $tests; do
  for mm in $mms; do
    exe=$out/bin/$name-$mm
    log=$out/log/$name-$mm.log
    mkdir -p "$out/bin" "$out/log"
    # shellcheck disable=SC2086
    if ! "$here/build.sh" --mm:"$mm" ${FLATUV_NIM_FLAGS:-} \
         --nimcache:"$out/cache/$name-$mm" -o:"$exe" \
         "$here/tests/$name.nim" >"$log" 2>&1; then
      cat "$log"
      echo "FAILED: $name ($mm) does not compile"
      failed=$((failed + 1))
      continue
    fi
    timeout "$limit" "$exe" >>"$log" 2>&1
    status=$?
    sed -n '/^\[Suite\]/,$p' "$log" | sed "s/^/[$mm] /"
    ok=$(grep -c '^ *\[OK\]' "$log")
    bad=$(grep -c '^ *\[FAILED\]' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
      # A crash or a time-out, not a failed check: show why, count it.
      tail -n 20 "$log"
      echo "FAILED: $name ($mm) exited with status $status"
      failed=$((failed + 1))
    fi
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
