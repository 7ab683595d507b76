#!/usr/bin/env bash
# Runs examples/lua/luv_program.lua, a program written for luv, on flatuv
# (and on luv itself when the system has it) and compares what each
# printed with luv_program.expected. The program requires "luv"; on flatuv
# that name is preloaded with flatuv, so the program runs unchanged.
#
#   examples/lua/run_luv_program.sh LUA MODULE_DIR
#
# LUA is the interpreter (lua5.4, luajit); MODULE_DIR holds flatuv.lua and
# flatuv/raw.so (e.g. _build/test/lua/lua5.4). Exits non-zero on any
# difference.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lua=${1:?usage: run_luv_program.sh LUA MODULE_DIR}
modules=$(cd "${2:?usage: run_luv_program.sh LUA MODULE_DIR}" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0

run_on() {
  local name=$1
  shift
  if "$@" "$here/luv_program.lua" > "$out/$name.txt" 2> "$out/$name.err" &&
     diff -u "$here/luv_program.expected" "$out/$name.txt" > "$out/$name.diff"; then
    echo "luv-program on $name ($lua): PASS"
  else
    echo "luv-program on $name ($lua): FAIL"
    cat "$out/$name.err" "$out/$name.diff" 2>/dev/null || true
    status=1
  fi
}

LUA_PATH="$modules/?.lua;;" LUA_CPATH="$modules/?.so;;" \
  run_on flatuv "$lua" -e 'package.preload.luv = function() return require "flatuv" end'
# The same program on luv, which it was written for: proof that the
# expected output is luv's behaviour, not flatuv's.
if "$lua" -e 'require "luv"' 2>/dev/null; then
  run_on luv "$lua"
else
  echo "luv-program on luv ($lua): not run, luv is not installed for $lua"
fi
exit $status
