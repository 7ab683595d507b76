#!/bin/sh
# nim/run_tests.sh - builds and runs the Nim tests of flatuv.
#
# Runs the generator's tests (bindings/nimgen/tests), builds the core and
# generates the raw layer (see build.sh), then compiles every
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

# The generator's own tests (golden output, compile checks, a function
# added to the header), unless only some Nim tests were asked for or
# FLATUV_NIM_SKIP_GENERATOR=1 (ctest runs them as a test of their own).
if [ $# -eq 0 ] && [ "${FLATUV_NIM_SKIP_GENERATOR:-0}" != 1 ]; then
  mkdir -p "$out/log"
  log=$out/log/nimgen.log
  ${PYTHON:-python3} -m unittest discover -v \
    -s "$(dirname "$here")/bindings/nimgen/tests" >"$log" 2>&1
  status=$?
  grep -E '\.\.\. (ok|FAIL|ERROR|skipped)' "$log" | sed 's/^/[nimgen] /'
  # unittest's summary: "Ran N tests", then "OK" or "FAILED (failures=F,
  # errors=E, skipped=S)".
  ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$log")
  count() { sed -n "s/.*[(, ]$1=\([0-9]*\).*/\1/p" "$log" | tail -n 1; }
  f=$(count failures); e=$(count errors); sk=$(count skipped)
  bad=$(( ${f:-0} + ${e:-0} ))
  ok=$(( ${ran:-0} - bad - ${sk:-0} ))
  passed=$((passed + ok))
  failed=$((failed + bad))
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
    tail -n 20 "$log"
    failed=$((failed + 1))
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
