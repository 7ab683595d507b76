#!/bin/sh
# Prints the pinned SWIG version: the one in python/pyproject.toml's
# build-system.requires, which is its single source.
here=$(cd "$(dirname "$0")/.." && pwd)
sed -n 's/.*"swig==\([0-9.a-z]*\)".*/\1/p' "$here/python/pyproject.toml" | head -n 1
