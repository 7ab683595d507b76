#!/bin/sh
# nim/prepare_install.sh - generates the raw layer for `nimble install`.
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
# The module is written to src/flatuv/raw.nim, from where nimble copies it
# with the rest of src/. It is generated code: git ignores it, and
# build.sh removes it before building in the repository, where it would
# shadow the raw layer of the build tree. (Nimble runs the after-install
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
set -- "$root/swig/flatuv.i" -I "$includedir" -o "$generated/raw.nim" \
  --passc="-I$includedir" --passl="-L$libdir"
for flag in $(pkg-config --cflags-only-other flatuv); do
  set -- "$@" --passc="$flag"
done
for flag in $(pkg-config --libs-only-l --libs-only-other flatuv); do
  set -- "$@" --passl="$flag"
done
set -- "$@" --passl="-Wl,-rpath,$libdir"
mkdir -p "$generated"
"${PYTHON:-python3}" "$root/bindings/nimgen/nimgen.py" "$@"
echo "flatuv: generated $generated/raw.nim against $libdir"
