#!/usr/bin/env bash
# Runs every flatuv test: the C suite on both backends, again under
# ASan+UBSan and under valgrind, the installed-package test, and each
# language binding's suite. Every runner prints its own summary; the last
# line sums up the stages. Exits non-zero if any stage failed.
#
#   scripts/test.sh            everything
#   scripts/test.sh c asan     only the named stages
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${FLATUV_TEST_DIR:-$root/_build/test}
jobs=${FLATUV_JOBS:-2}
all_stages=(c asan valgrind install python lua nim nim2 conformance stress fuzz progfuzz)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")

"$root/scripts/deps.sh" || exit 1

passed=0
failed=0
failed_names=()
run_stage() {
  local name=$1
  shift
  echo
  echo "==== stage: $name ===="
  if "$@"; then
    passed=$((passed + 1))
    echo "==== stage $name: passed"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    echo "==== stage $name: FAILED"
  fi
}

configure_and_build() { # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" -G Ninja -DFLATUV_BUILD_TESTS=ON "$@" >"$dir.configure.log" 2>&1 &&
    cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1 ||
    { cat "$dir.configure.log" "$dir.build.log" 2>/dev/null | tail -n 60; return 1; }
}

# The main build, shared by the c, valgrind, install and nim2 stages. It has
# the benchmarks too, whose tools have tests of their own.
build_c() { configure_and_build "$out/c" -DFLATUV_BUILD_BENCH=ON; }

stage_c() {
  build_c &&
    (cd "$out/c" && ctest -j "$jobs" --output-on-failure)
}

stage_asan() {
  # Check runs each test in-process here so the sanitizers see every leak.
  configure_and_build "$out/asan" -DFLATUV_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug &&
    (cd "$out/asan" && CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest -j "$jobs" --output-on-failure)
}

stage_valgrind() {
  local ok=0 bad=0 t
  [ -d "$out/c" ] || build_c || return 1
  for t in "$out"/c/tests/test_*_epoll "$out"/c/tests/test_*_poll \
    "$out"/c/bindings/bridge/test_bridge; do
    [ -x "$t" ] || continue
    if CK_FORK=no valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$t" >"$t.valgrind.log" 2>&1; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
      echo "valgrind: $(basename "$t") failed:"
      tail -n 40 "$t.valgrind.log"
    fi
  done
  echo "valgrind: $ok passed, $bad failed"
  [ "$bad" -eq 0 ] && [ "$ok" -gt 0 ]
}

stage_install() {
  [ -d "$out/c" ] || build_c || return 1
  rm -rf "$out/prefix"
  bash "$root/tests/install/run.sh" "$out/c" "$out/prefix"
}

stage_python() { bash "$root/python/run_tests.sh" "$out/python"; }
stage_lua() { bash "$root/bindings/lua/run_tests.sh" "$out/lua"; }
stage_nim() { FLATUV_NIM_BUILD="$out/nim" bash "$root/nim/run_tests.sh"; }
# The same Nim tests, the Nim examples, the Nim conformance runner and the
# install test under Nim 2
# (Debian 12 has only 1.6; scripts/nim2.sh unpacks Debian unstable's).
stage_nim2() {
  local nim2 example
  nim2=$("$root/scripts/nim2.sh") || return 1
  "$nim2" --version | head -n 1
  for example in "$root"/examples/nim/*.nim; do
    NIM="$nim2" FLATUV_NIM_BUILD="$out/nim2" bash "$root/nim/build.sh" \
      --nimcache:"$out/nim2/examples/cache" -o:"$out/nim2/examples/$(basename "$example" .nim)" \
      "$example" || { echo "nim2: $(basename "$example") does not compile"; return 1; }
  done
  NIM="$nim2" FLATUV_NIM_BUILD="$out/nim2" bash "$root/nim/run_tests.sh" || return 1
  FLATUV_TEST_DIR="$out" NIM="$nim2" FLATUV_CONFORMANCE_ONLY=nim \
    bash "$root/tests/conformance/run.sh" "$out/conformance-nim2" || return 1
  # `nimble install` with Nim 2's nimble, and a program using the package.
  [ -d "$out/c" ] || build_c || return 1
  rm -rf "$out/prefix-nim2"
  NIM="$nim2" NIMBLE="$(dirname "$nim2")/nimble" \
    bash "$root/tests/install/run.sh" "$out/c" "$out/prefix-nim2"
}
# Load and faults: 10,000 connections, 100,000 cycles, 1 GiB, EMFILE, resets,
# half-close, a slow reader and a lossy link (network namespaces need root).
stage_stress() { bash "$root/tests/stress/run.sh" "$out/stress"; }
# libFuzzer under ASan+UBSan, 60 s for each harness, on a copy of the corpus.
stage_fuzz() { bash "$root/tests/fuzz/run.sh" 60 "$out/fuzz"; }
# Generated Python and Lua programs mixing use and misuse, under ASan+UBSan:
# the kept regressions replayed, then 120 s of new programs per language.
stage_progfuzz() { bash "$root/tests/fuzz/programs/run.sh" "${FLATUV_PROGFUZZ_SECONDS:-120}" "$out/progfuzz"; }
# After the binding stages, whose builds it reuses.
stage_conformance() {
  FLATUV_TEST_DIR="$out" FLATUV_NIM_BUILD="$out/nim" \
    bash "$root/tests/conformance/run.sh" "$out/conformance"
}

mkdir -p "$out"
for s in "${stages[@]}"; do
  case "$s" in
  c | asan | valgrind | install | python | lua | nim | nim2 | conformance | stress | fuzz | progfuzz)
    if [ "$s" = lua ] && [ ! -f "$root/bindings/lua/run_tests.sh" ]; then continue; fi
    if [ "$s" = nim ] && [ ! -f "$root/nim/run_tests.sh" ]; then continue; fi
    if [ "$s" = python ] && [ ! -f "$root/python/run_tests.sh" ]; then continue; fi
    run_stage "$s" "stage_$s" ;;
  *) echo "unknown stage: $s (stages: ${all_stages[*]})"; exit 2 ;;
  esac
done

echo
[ ${#failed_names[@]} -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
