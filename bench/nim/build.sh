#!/bin/sh
# bench/nim/build.sh - builds the Nim echo servers for bench/run.py.
#
#   bench/nim/build.sh [OUT_DIR] [nim c options]
#
# Writes OUT_DIR/echo_flatuv_nim (flatuv's Nim binding, via nim/build.sh)
# and OUT_DIR/echo_asyncnet (Nim's standard library); OUT_DIR defaults to
# ${FLATUV_NIM_BUILD:-/tmp/flatuv-nim-build}/nim-bench. Both are compiled with
# -d:danger and the memory manager in $FLATUV_NIM_MM (default refc, the
# default of Nim 1.6). Extra options go to both compilations.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FLATUV_NIM_BUILD:-${TMPDIR:-/tmp}/flatuv-nim-build}
out=${1:-$build/nim-bench}
[ $# -gt 0 ] && shift
mm=${FLATUV_NIM_MM:-refc}
mkdir -p "$out"
"$root/nim/build.sh" -d:danger --mm:"$mm" "$@" \
  --nimcache:"$build/nim-bench/cache/flatuv-$mm" -o:"$out/echo_flatuv_nim" \
  "$here/echo_flatuv_nim.nim"
${NIM:-nim} c --hints:off -d:danger --mm:"$mm" "$@" \
  --nimcache:"$build/nim-bench/cache/asyncnet-$mm" -o:"$out/echo_asyncnet" \
  "$here/echo_asyncnet.nim"
echo "built $out/echo_flatuv_nim and $out/echo_asyncnet"
