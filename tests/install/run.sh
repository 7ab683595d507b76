#!/usr/bin/env bash
# The installed-package test: installs a flatuv build into PREFIX, then
# builds a consumer against the installed tree three ways, as a downstream
# project would, and runs each program:
#   1. with CMake: find_package(flatuv 1.0) and flatuv::flatuv (main.c);
#   2. with pkg-config: cc main.c $(pkg-config --cflags --libs flatuv);
#   3. with Nim: `nimble install` of nim/ against the installed library,
#      then `nim c main.nim` (FLATUV_INSTALL_NIM=0 leaves this out; $NIM
#      and $NIMBLE choose the compiler and nimble, default from PATH).
# It also checks that find_package refuses an incompatible major version
# and that each program really loads the installed library.
#
#   tests/install/run.sh BUILD_DIR PREFIX
#
# Exits non-zero on any failure and prints a one-line summary.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR PREFIX" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
mkdir -p "$2"
prefix=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "install test: FAILED: $*" >&2
  exit 1
}

# Runs a command quietly, showing its output only when it fails.
quietly() {
  local log=$work/log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$*"
  fi
}

# ---- install -----------------------------------------------------------------
quietly cmake --install "$build" --prefix "$prefix"
pc=$(find "$prefix" -name flatuv.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no flatuv.pc under $prefix"
[ -f "$prefix/include/flatuv.h" ] || fail "no include/flatuv.h under $prefix"
pcdir=$(dirname "$pc")
libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir flatuv)
[ "$libdir" != "${libdir#"$prefix"}" ] || fail "flatuv.pc's libdir $libdir is not under $prefix"

# The program prints the version it runs with, then what each end received.
version=$(PKG_CONFIG_PATH=$pcdir pkg-config --modversion flatuv)
expected="flatuv $version
server received: ping from a program built against the installed flatuv
client received: pong"

# Runs a built consumer and compares what it printed with the expectation.
check_output() {
  local name=$1 program=$2 output
  if ! output=$("$program" 2>&1); then
    printf '%s\n' "$output" >&2
    fail "the $name consumer exited non-zero"
  fi
  if [ "$output" != "$expected" ]; then
    printf 'expected:\n%s\ngot:\n%s\n' "$expected" "$output" >&2
    fail "the $name consumer printed something else"
  fi
}

# A program linked to the shared library must load the installed copy, not
# the one in the build tree.
check_loads_installed() {
  local name=$1 program=$2 loaded
  loaded=$(ldd "$program" | awk '/libflatuv/ {print $3}')
  if [ -n "$loaded" ]; then
    case $(readlink -f "$loaded") in
      "$(readlink -f "$prefix")"/*) ;;
      *) fail "the $name consumer loads $loaded, not the library in $prefix" ;;
    esac
  fi
}

# ---- 1. the CMake package ----------------------------------------------------
quietly cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release
quietly cmake --build "$work/cmake"
check_loads_installed cmake "$work/cmake/consumer"
check_output cmake "$work/cmake/consumer"

# The version file must refuse a different major version.
if cmake -S "$here" -B "$work/cmake-v2" -DCMAKE_PREFIX_PATH="$prefix" \
  -DFLATUV_REQUIRED_VERSION=2.0 >"$work/log" 2>&1; then
  fail "find_package(flatuv 2.0) accepted version $version"
fi

# ---- 2. pkg-config -------------------------------------------------------------
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs flatuv)
# shellcheck disable=SC2086 # the flags are meant to be split into words
quietly "${CC:-cc}" -std=c99 -Wall -Wextra -Werror -o "$work/pkgconfig-consumer" \
  "$here/main.c" $flags -Wl,-rpath,"$libdir"
check_loads_installed pkg-config "$work/pkgconfig-consumer"
check_output pkg-config "$work/pkgconfig-consumer"

# ---- 3. the Nim package: `nimble install` against the installed library -------
# nimble installs into a private directory; the consumer is compiled with a
# plain `nim c` that finds the package there, as a Nim user's project would.
nim_consumers=""
if [ "${FLATUV_INSTALL_NIM:-1}" = 1 ]; then
  nimble_dir=$work/nimble
  nim_dir=$(cd "$here/../../nim" && pwd)
  # The generated module nimble installs from nim/src/flatuv/ goes when
  # this test ends (see nim/prepare_install.sh).
  trap 'rm -rf "$work" "$nim_dir/src/flatuv"' EXIT
  nim=${NIM:-nim}
  nimble=${NIMBLE:-nimble}
  nimble_options=(--nimbleDir:"$nimble_dir")
  # Nimble 0.16 and later read the package list even for a package with
  # no dependencies; an empty local list and --offline keep it off the
  # network. Nimble 0.13 (Debian 12's) has neither the list nor the flag.
  mkdir -p "$nimble_dir"
  if "$nimble" --help 2>&1 | grep -q -- --offline; then
    echo '[]' >"$nimble_dir/packages_official.json"
    nimble_options+=(--offline)
  fi
  # Nimble runs the compiler it finds on PATH: put the one under test
  # first, alone in a directory, so nothing else on PATH changes.
  mkdir -p "$work/nim-bin"
  ln -s "$(command -v "$nim")" "$work/nim-bin/nim"
  (cd "$nim_dir" && PATH=$work/nim-bin:$PATH PKG_CONFIG_PATH=$pcdir \
    quietly "$nimble" "${nimble_options[@]}" install -y)
  raw=$(find "$nimble_dir" -path '*/flatuv-*/flatuv/raw.nim' | head -n 1)
  [ -n "$raw" ] || fail "nimble install left no generated flatuv/raw.nim in $nimble_dir"
  # .../pkgs/flatuv-VERSION/flatuv/raw.nim: nimble 0.13 says pkgs, 0.24 pkgs2.
  packages=$(dirname "$(dirname "$(dirname "$raw")")")
  quietly "$nim" c --hints:off --nimblePath:"$packages" \
    --nimcache:"$work/nimcache" -o:"$work/nim-consumer" "$here/main.nim"
  check_loads_installed nim "$work/nim-consumer"
  check_output nim "$work/nim-consumer"
  nim_consumers=" and the nimble-installed Nim package ($("$nim" --version | head -n 1 | sed 's/ \[.*//'))"
fi

echo "install test: OK: flatuv $version installed in $prefix; CMake package, pkg-config$nim_consumers consumers built, linked and ran a TCP exchange"
