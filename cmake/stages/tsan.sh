#!/bin/sh
# The tsan stage: the C tests of the code that runs on more than one thread
# (the worker pool, async handles) again, in a Debug build of their own with
# ThreadSanitizer, which fails a test on any report. Each test runs in a
# process of its own (Check's default fork mode), so that a test that forks
# does so from a process without threads of the library's. Prints ctest's
# summary.
#
#   cmake/stages/tsan.sh SOURCE_DIR BUILD_DIR GENERATOR C_COMPILER
set -u
src=$1 build=$2 generator=$3 cc=$4
jobs=${FLATUV_JOBS:-2}
tests="test_threadpool test_async"
targets=
for t in $tests; do
  targets="$targets ${t}_epoll ${t}_poll"
done
mkdir -p "$build"
# shellcheck disable=SC2086 # the targets are words
if ! { cmake -S "$src" -B "$build" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
         -DCMAKE_BUILD_TYPE=Debug -DFLATUV_BUILD_TESTS=ON \
         -DFLATUV_BUILD_BRIDGE=OFF -DFLATUV_BUILD_EXAMPLES=OFF \
         "-DCMAKE_C_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
         -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
         -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
         >"$build.configure.log" 2>&1 &&
       cmake --build "$build" -j "$jobs" --target $targets \
         >"$build.build.log" 2>&1; }; then
  cat "$build.configure.log" "$build.build.log" 2>/dev/null | tail -n 60
  echo "tsan: the sanitizer build FAILED"
  exit 1
fi
regex=$(echo "$tests" | sed 's/ /|/g')
cd "$build" &&
  TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1 \
  ctest -R "^($regex)_(epoll|poll)\$" -j "$jobs" --output-on-failure \
    --no-tests=error
