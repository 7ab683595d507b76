#!/usr/bin/env bash
# Runs every flatuv test. The stages and their tests are registered with
# ctest by the top-level build (cmake/stages/CMakeLists.txt has the one list:
# c asan tsan valgrind install python lua nim nim2 conformance stress fuzz
# progfuzz); this script configures one build with every binding and every
# stage on, builds it, and runs each stage as `ctest -L '^STAGE$'`, showing
# each test's whole output, so every runner's own summary line is there. The
# last line sums up the stages. Exits non-zero if any stage failed.
#
#   scripts/test.sh            everything
#   scripts/test.sh c asan     only the named stages
#
# Environment: FLATUV_TEST_DIR (the build directory, default _build/test),
# FLATUV_JOBS (parallel jobs, default 2), FLATUV_FUZZ_SECONDS (60, per
# libFuzzer harness), FLATUV_PROGFUZZ_SECONDS (120, per language).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FLATUV_TEST_DIR:-$root/_build/test}
jobs=${FLATUV_JOBS:-2}
export FLATUV_JOBS=$jobs

"$root/scripts/deps.sh" || exit 1

mkdir -p "$build"
echo "test: configuring and building $build"
if ! cmake -S "$root" -B "$build" -G Ninja -DFLATUV_BUILD_TESTS=ON \
    -DFLATUV_BUILD_BENCH=ON -DFLATUV_BUILD_PYTHON=ON -DFLATUV_BUILD_LUA=ON \
    -DFLATUV_BUILD_NIM=ON -DFLATUV_TEST_STAGES=ON >"$build.configure.log" 2>&1; then
  tail -n 60 "$build.configure.log"
  echo "test: configuring FAILED (log: $build.configure.log)"
  echo "stages: 0 passed, $(($# > 0 ? $# : 1)) failed"
  exit 1
fi
mapfile -t all_stages <"$build/flatuv_stages.txt"
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
  [[ " ${all_stages[*]} " == *" $s "* ]] ||
    { echo "unknown stage: $s (stages: ${all_stages[*]})"; exit 2; }
done

# Everything that builds is built (-k 0): a target that does not only fails
# the stages whose tests need it, which then say why.
start=$SECONDS
if cmake --build "$build" -j "$jobs" -- -k 0 >"$build.build.log" 2>&1; then
  echo "test: built in $((SECONDS - start)) s"
else
  grep -E -B 2 -A 20 '^FAILED:' "$build.build.log" | head -n 120
  echo "test: the build FAILED in part (log: $build.build.log); the stages run on what was built"
fi

# What ctest -V prints about itself rather than the tests.
noise='^(UpdateCTestConfiguration|Parse Config file|Updating test list|Constructing a list of tests|Done constructing|Checking test dependency graph|Test project |Internal ctest changing|Added [0-9]+ tests to meet|Label Time Summary:)|^ *Add coverage exclude|^test [0-9]+$|^[0-9]+: (Test timeout computed|Working Directory|Environment variables)|^[0-9]+:  [A-Z_]+=|^[a-z0-9]+ += +[0-9.]+ sec\*proc|^ *$'
passed=0
failed=0
failed_names=()
mkdir -p "$build/stages"
for s in "${stages[@]}"; do
  echo
  echo "==== stage: $s ===="
  start=$SECONDS
  log=$build/stages/$s.log
  # Every test's whole output (-V), less ctest's own chatter, into the log
  # whole. ctest puts each test's number before its lines; a stage of one
  # test is shown without it.
  strip='s/^//'
  [ "$(ctest --test-dir "$build" -N -L "^$s\$" | grep -c '^ *Test *#')" -eq 1 ] &&
    strip='s/^[0-9]+: //'
  ctest --test-dir "$build" -L "^$s\$" -j "$jobs" -V --no-tests=error 2>&1 | tee "$log" |
    grep --line-buffered -v -E "$noise" | sed -u -E "$strip"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    passed=$((passed + 1))
    echo "==== stage $s: passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failed_names+=("$s")
    echo "==== stage $s: FAILED ($((SECONDS - start)) s; log: $log)"
  fi
done

echo
[ ${#failed_names[@]} -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
