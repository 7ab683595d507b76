#!/bin/sh
# nim/prepare_install.sh - generates the raw and idiomatic layers for
# `nimble install`.
#
#   nim/prepare_install.sh      (nimble's before-install hook runs it)
#
# An installed Nim package cannot link a static library in a build
# directory that may be gone tomorrow, so for `nimble install` the raw
# layer is generated against the installed C library instead: its header
# and -lflatuv as pkg-config describes them (install the C library first,
# e.g. `cmake --install build --prefix PREFIX`, and put
# PREFIX/lib/pkgconfig on PKG_CONFIG_PATH). The library's directory is
# also recorded as the program's run path, so programs find the library
# without LD_LIBRARY_PATH.
#
# The modules are written to src/flatuv/raw.nim and src/flatuv/api.nim
# (the idiomatic layer that src/flatuv.nim includes), from where nimble
# copies them with the rest of src/. They are generated code: git ignores
# them, and build.sh removes them before building in the repository, where
# they would shadow the build tree's. (Nimble runs the after-install
# hook in the installed copy, which cannot reach the checkout.)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
generated=$here/src/flatuv

if ! pkg-config --exists flatuv; then
  echo "flatuv: pkg-config does not know flatuv: install the C library first" >&2
  echo "  (cmake -S . -B build && cmake --build build && cmake --install build --prefix PREFIX)" >&2
  echo "  and set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig" >&2
  exit 1
fi
# Absolute, normalized directories: flatuv.pc gives them relative to
# itself, and they end up in the generated module.
libdir=$(cd "$(pkg-config --variable=libdir flatuv)" && pwd)
includedir=$(cd "$(pkg-config --variable=includedir flatuv)" && pwd)

# SWIG reads the installed header, so the module matches the installed
# library even if this checkout's header has moved on.
set -- nim --interface "$root/swig/flatuv.i" -I "$includedir" --out "$here/src" \
  --passc="-I$includedir" --passl="-L$libdir"
for flag in $(pkg-config --cflags-only-other flatuv); do
  set -- "$@" --passc="$flag"
done
for flag in $(pkg-config --libs-only-l --libs-only-other flatuv); do
  set -- "$@" --passl="$flag"
done
set -- "$@" --passl="-Wl,-rpath,$libdir"
mkdir -p "$generated"
"${PYTHON:-python3}" "$root/bindings/apigen/apigen" "$@"
echo "flatuv: generated $generated/raw.nim and api.nim against $libdir"
