#!/bin/sh
# Compares the dynamic symbols the shared library exports with the functions
# the public header declares: both sets must be exactly equal.
set -eu
lib=$1
header=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWw]$/ {print $3}' | sort -u > "$tmp/exported"
grep -v "^#" "$header" | grep -o "FUV_EXTERN[^(]*(" | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort -u > "$tmp/declared"
if ! diff -u "$tmp/declared" "$tmp/exported"; then
  echo "exported symbols differ from the header's functions (- header, + library)"
  exit 1
fi
echo "exported symbols match the header: $(wc -l < "$tmp/exported") functions"
