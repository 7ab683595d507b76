#!/usr/bin/env bash
# The nim2 stage: the Nim binding under Nim 2 (Debian 12 has only 1.6;
# scripts/nim2.sh unpacks Debian unstable's): the Nim examples compile, the
# Nim tests (nim/run_tests.sh, with the generator's) and the Nim conformance
# runner pass, and `nimble install` with Nim 2's nimble gives a package a
# program can use (tests/install/run.sh, installing BUILD_DIR).
#
#   cmake/stages/nim2.sh SOURCE_DIR OUT_DIR BUILD_DIR STATIC_LIB REUSE_DIR
#
# STATIC_LIB is the core the Nim programs link (empty: nim/build.sh builds
# one); REUSE_DIR is what tests/conformance/run.sh is given as
# FLATUV_TEST_DIR.
set -uo pipefail
root=$1 out=$2 build=$3 lib=$4 reuse=$5
mkdir -p "$out"
nim2=$("$root/scripts/nim2.sh") || exit 1
"$nim2" --version | head -n 1
export NIM=$nim2 FLATUV_NIM_BUILD=$out/build
# Without a core given, nim/build.sh builds one in FLATUV_NIM_BUILD.
[ -z "$lib" ] || export FLATUV_STATIC_LIB=$lib
for example in "$root"/examples/nim/*.nim; do
  bash "$root/nim/build.sh" --nimcache:"$out/examples/cache" \
    -o:"$out/examples/$(basename "$example" .nim)" "$example" ||
    { echo "nim2: $(basename "$example") does not compile"; exit 1; }
done
bash "$root/nim/run_tests.sh" || exit 1
FLATUV_TEST_DIR=$reuse FLATUV_CONFORMANCE_ONLY=nim \
  bash "$root/tests/conformance/run.sh" "$out/conformance" || exit 1
rm -rf "$out/prefix"
unset FLATUV_STATIC_LIB
NIMBLE="$(dirname "$nim2")/nimble" bash "$root/tests/install/run.sh" "$build" "$out/prefix"
