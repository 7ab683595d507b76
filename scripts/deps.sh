#!/usr/bin/env bash
# Installs what flatuv's build, tests and benchmarks need on Debian: the
# packages from Debian's archive and the one pinned SWIG from PyPI. It is
# idempotent and quick when everything is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

apt_packages=(
  build-essential cmake ninja-build pkg-config check valgrind strace
  libffi-dev libuv1-dev clang libclang-rt-14-dev
  lua5.4 liblua5.4-dev luajit libluajit-5.1-dev lua-busted lua-luv luarocks
  nim patchelf iproute2 python3-venv python3-dev
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The one SWIG every binding is generated with, pinned in python/pyproject.toml.
swig_pin=$("$here/scripts/swig-pin.sh" 2>/dev/null || true)
pip_packages=(scikit-build-core pytest uvloop)
[ -z "$swig_pin" ] || pip_packages+=("swig==$swig_pin")
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${pip_packages[@]}" >/dev/null
if [ -n "$swig_pin" ]; then
  echo "deps: ok (swig $swig_pin at $("$here/scripts/find-swig.sh"))"
else
  echo "deps: ok"
fi
