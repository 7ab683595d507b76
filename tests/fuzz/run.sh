#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang under ASan+UBSan and runs each
# for a bounded time on a copy of the committed seed corpus.
#
#   tests/fuzz/run.sh [SECONDS_PER_HARNESS] [OUTDIR]
#
# Harnesses: fuzz_api on the epoll and on the poll backend, and fuzz_addr.
# Each prints its number of executions; the last line is
# "fuzz: N passed, M failed". Exits non-zero when a harness found a crash,
# leak, timeout or out-of-memory; its input is kept in OUTDIR/artifacts and
# can be replayed with `OUTDIR/bin/<harness> <file>` (for fuzz_api, with
# FUZZ_API_TRACE=1 to print every call). New corpus entries go to OUTDIR,
# never into the repository.
set -uo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/_build/fuzz}
here=$root/tests/fuzz
cc=${FUZZ_CC:-clang}

case $seconds in
'' | *[!0-9]*) echo "run.sh: SECONDS_PER_HARNESS must be a number" >&2; exit 2 ;;
esac
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "run.sh: $cc not found (install clang and libclang-rt-dev)" >&2
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

mkdir -p "$out/bin" "$out/corpus" "$out/artifacts" "$out/logs"

core_sources() { # backend: every core source but the other backend's
  local backend=$1 f
  for f in "$root"/core/src/*.c; do
    case $(basename "$f") in
    epoll.c) [ "$backend" = epoll ] && echo "$f" ;;
    poll.c) [ "$backend" = poll ] && echo "$f" ;;
    *) echo "$f" ;;
    esac
  done
}

build() { # name, harness source, backend
  local name=$1 src=$2 backend=$3
  # shellcheck disable=SC2046
  "$cc" -std=c99 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE \
    -I"$root/core/include" -I"$root/core/src" \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer \
    "$src" $(core_sources "$backend") -o "$out/bin/$name" \
    >"$out/logs/$name.build.log" 2>&1
}

passed=0
failed=0
run_harness() { # name, harness source, backend, seed corpus
  local name=$1 src=$2 backend=$3 seeds=$4
  local log=$out/logs/$name.log
  echo "---- $name ($backend backend, ${seconds}s)"
  if ! build "$name" "$src" "$backend"; then
    cat "$out/logs/$name.build.log"
    echo "$name: build FAILED"
    failed=$((failed + 1))
    return
  fi
  # A fresh copy of the seeds each time: what the fuzzer adds stays here.
  rm -rf "$out/corpus/$name"
  mkdir -p "$out/corpus/$name"
  cp "$seeds"/* "$out/corpus/$name/"
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/bin/$name" "$out/corpus/$name" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=2048 -len_control=10 -detect_leaks=1 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$name-" >"$log" 2>&1
  local rc=$?
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1
  if [ $rc -eq 0 ] && [ -n "$execs" ]; then
    echo "$name: passed, $execs executions"
    passed=$((passed + 1))
  else
    echo "$name: FAILED (exit $rc), ${execs:-?} executions; log $log"
    grep -E 'ERROR|contract broken|SUMMARY|Test unit written|runtime error' "$log" | head -n 20
    tail -n 60 "$log"
    failed=$((failed + 1))
  fi
}

run_harness fuzz_api_epoll "$here/fuzz_api.c" epoll "$here/corpus/api"
run_harness fuzz_api_poll "$here/fuzz_api.c" poll "$here/corpus/api"
run_harness fuzz_addr "$here/fuzz_addr.c" epoll "$here/corpus/addr"

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
