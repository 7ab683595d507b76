#!/bin/sh
# The asan stage: the C tests (label c) again, in a Debug build of their own
# with ASan and UBSan (FLATUV_SANITIZE=ON), where Check runs each test
# in-process so that the sanitizers see every leak. Prints ctest's summary.
#
#   cmake/stages/asan.sh SOURCE_DIR BUILD_DIR GENERATOR C_COMPILER
set -u
src=$1 build=$2 generator=$3 cc=$4
jobs=${FLATUV_JOBS:-2}
mkdir -p "$build"
if ! { cmake -S "$src" -B "$build" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
         -DCMAKE_BUILD_TYPE=Debug -DFLATUV_SANITIZE=ON -DFLATUV_BUILD_TESTS=ON \
         -DFLATUV_BUILD_BRIDGE=ON \
         >"$build.configure.log" 2>&1 &&
       cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1; }; then
  cat "$build.configure.log" "$build.build.log" 2>/dev/null | tail -n 60
  echo "asan: the sanitizer build FAILED"
  exit 1
fi
cd "$build" &&
  CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest -L '^c$' -j "$jobs" --output-on-failure --no-tests=error
