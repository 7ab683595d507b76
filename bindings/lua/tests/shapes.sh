#!/usr/bin/env bash
# The generator's shapes test for Lua (issue 11, "Done when"): adds the
# functions of bindings/apigen/tests/shapes/shapes.h (one of each shape: a
# predicate, a setter returning a status, a getter with out-parameters, a
# call taking a callback, the constructor of a new handle kind) to a copy
# of flatuv.h, builds the Lua module against that copy with shapes.c and
# no other edit, and calls each from Lua 5.4 and LuaJIT (shapes.lua).
#
#   bindings/lua/tests/shapes.sh [BUILD_DIR]    (default: _build/lua-shapes)
#
# Prints one line per Lua and exits non-zero if the build or a check fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/_build/lua-shapes}
shapes=$root/bindings/apigen/tests/shapes
jobs=${FLATUV_JOBS:-2}

mkdir -p "$build/include"
cp "$root"/core/include/*.h "$build/include/"
python3 - "$build/include/flatuv.h" "$shapes/shapes.h" <<'PY' || exit 1
import sys
header, added = sys.argv[1], open(sys.argv[2]).read()
tail = "#ifdef __cplusplus\n}\n#endif\n\n#endif /* FLATUV_H */"
text = open(header).read()
if tail not in text:
    sys.exit("shapes: the end of flatuv.h is not %r" % tail)
open(header, "w").write(text.replace(tail, added + tail))
PY

if ! { cmake -S "$root/bindings/lua" -B "$build" -G Ninja \
         -DFLATUV_LUA_INCLUDE_DIR="$build/include" \
         -DFLATUV_LUA_EXTRA_SOURCES="$shapes/shapes.c" >"$build.configure.log" 2>&1 &&
       cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1; }; then
  cat "$build.configure.log" "$build.build.log" 2>/dev/null | tail -n 60
  echo "lua shapes: build FAILED"
  exit 1
fi

failed=0
for lua in lua5.4 luajit; do
  if [ ! -f "$build/$lua/flatuv/raw.so" ]; then
    echo "lua shapes: $lua: no module was built"
    failed=1
    continue
  fi
  if out=$(LUA_PATH="$build/$lua/?.lua;;" LUA_CPATH="$build/$lua/?.so;;" \
           "$lua" "$here/shapes.lua" 2>&1); then
    echo "lua shapes: $lua: $out"
  else
    echo "$out"
    echo "lua shapes: $lua: FAILED"
    failed=1
  fi
done
exit $failed
