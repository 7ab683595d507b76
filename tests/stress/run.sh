#!/bin/sh
# Builds and runs the stress programs (issue 7: load and faults; issue 12:
# load over pipes; issue 13: UDP).
#
#   tests/stress/run.sh [OUTDIR]      (default OUTDIR: /tmp/flatuv-stress)
#
# The core is compiled from core/src (epoll backend) with the programs, so
# no CMake build is needed. Each program prints its figures and a line
# "<name>: N passed, M failed" (its checks); the last line here is
# "stress: N passed, M failed" (programs), and the exit status is non-zero
# when any program failed. Environment: CC (default cc), STRESS_CFLAGS
# (default "-O2 -g"; e.g. "-O1 -g -fsanitize=address,undefined"), and
# STRESS_PROGRAMS to run a subset ("faults cycles_100k"), STRESS_BACKEND
# (epoll, the default, or poll).
# The faults program's lossy-link case needs root (network namespaces); its
# namespaces are removed when this script exits, however it exits.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-/tmp/flatuv-stress}
cc=${CC:-cc}
cflags=${STRESS_CFLAGS:--O2 -g}
programs=${STRESS_PROGRAMS:-load_10k load_10k_pipe cycles_100k transfer_1g faults udp_1m}
backend=${STRESS_BACKEND:-epoll}
case $backend in epoll) other=poll ;; poll) other=epoll ;; *)
  echo "STRESS_BACKEND must be epoll or poll" >&2; exit 2 ;; esac
warn="-std=c99 -Wall -Wextra -Werror"
defs="-D_GNU_SOURCE -DFLATUV_STATIC -I$root/core/include -I$root/core/src"

# The namespaces' tag: short (interface names) and unique to this run.
FUV_NETNS_TAG=s$$
export FUV_NETNS_TAG
running=
cleanup() {
  [ -n "$running" ] && kill "$running" 2>/dev/null && wait "$running"
  sh "$here/netns.sh" down "$FUV_NETNS_TAG" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Under AddressSanitizer, freed memory sits in a quarantine that would look
# like RSS growth to the memory checks; without it the checks measure the
# program again (leak detection stays on).
ASAN_OPTIONS="quarantine_size_mb=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

mkdir -p "$out/obj" || exit 1
echo "stress: building into $out ($cc $cflags, $backend backend)"
objs=
for src in "$root"/core/src/*.c "$here/stress.c"; do
  case $src in */$other.c) continue ;; esac
  obj="$out/obj/$(basename "$src" .c).o"
  # shellcheck disable=SC2086
  $cc $warn $cflags $defs -c "$src" -o "$obj" || exit 1
  objs="$objs $obj"
done

passed=0 failed=0
for p in $programs; do
  # shellcheck disable=SC2086
  if ! $cc $warn $cflags $defs -I"$here" "$here/$p.c" $objs -lpthread \
      -o "$out/$p"; then
    echo "$p: build failed"
    failed=$((failed + 1))
    continue
  fi
  echo "== $p"
  start=$(date +%s)
  # The programs bound their own waits; this is the last line of defence.
  # In the background so that a signal to this script is handled at once
  # (the trap stops the program and removes the namespaces).
  timeout -k 10 400 "$out/$p" "$here" >"$out/$p.log" 2>&1 &
  running=$!
  wait "$running"
  status=$?
  running=
  cat "$out/$p.log"
  echo "($p: exit status $status, $(($(date +%s) - start)) s)"
  if [ $status -eq 0 ] && tail -n 1 "$out/$p.log" | grep -q "^$p: [0-9]* passed, 0 failed"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "stress: $passed passed, $failed failed"
[ $failed -eq 0 ]
