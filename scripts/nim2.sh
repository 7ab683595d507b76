#!/usr/bin/env bash
# scripts/nim2.sh - provides a Nim 2 compiler and prints its path (its
# nimble is beside it).
#
#   scripts/nim2.sh [DIR]
#
# The Nim binding must keep working with Nim 2, but Debian 12 (bookworm),
# the machine this project is built on, ships only Nim 1.6. Debian's
# unstable archive has Nim 2; its compiler needs a newer C library than
# bookworm's, so this script downloads the nim and libc6 packages from
# unstable with a private apt state (the system's package sources and
# installed packages are left alone), unpacks them into DIR and points the
# compiler's ELF interpreter and library path at the unpacked C library
# with patchelf. The programs the compiler produces are ordinary bookworm
# programs: it only writes C, which the system's gcc compiles and links
# against the system's C library.
#
# DIR defaults to ${XDG_CACHE_HOME:-~/.cache}/flatuv/nim2. A DIR that
# already holds a working compiler is reused. If `nim` on PATH is already
# Nim 2, that is printed instead. Exits non-zero, saying why, when Nim 2
# cannot be provided.
set -euo pipefail

say() { echo "nim2: $*" >&2; }

major_version() { # nim binary -> major version number, or nothing
  "$1" --version 2>/dev/null |
    sed -n 's/^Nim Compiler Version \([0-9]*\)\..*/\1/p' | head -n 1
}

if command -v nim >/dev/null 2>&1 && [ "$(major_version nim)" -ge 2 ] 2>/dev/null; then
  command -v nim
  exit 0
fi

dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/flatuv/nim2}
nim=$dir/bin/nim
if [ -x "$nim" ] && [ -x "$dir/bin/nimble" ] && [ "$(major_version "$nim")" -ge 2 ] 2>/dev/null; then
  echo "$nim"
  exit 0
fi

command -v patchelf >/dev/null 2>&1 || { say "patchelf is missing (scripts/deps.sh installs it)"; exit 1; }

work=$dir.download
rm -rf "$work" "$dir"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/root"
echo "deb http://deb.debian.org/debian unstable main" >"$work/sources.list"
apt_options=(
  -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
  -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache"
  -o APT::Sandbox::User=root -qq
)
apt-get "${apt_options[@]}" update >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; say "cannot read Debian unstable's package lists"; exit 1; }
(cd "$work" && apt-get "${apt_options[@]}" download nim libc6 >>apt.log 2>&1) ||
  { cat "$work/apt.log" >&2; say "cannot download nim and libc6 from Debian unstable"; exit 1; }
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done

# The layout Nim finds on its own: DIR/bin/nim, the standard library in
# DIR/lib and the configuration in DIR/config/nim.cfg (so the system's
# /etc/nim/nim.cfg, which belongs to Nim 1.6, is not read).
mkdir -p "$dir/bin" "$dir/config" "$dir/glibc"
cp "$work/root/usr/bin/nim" "$work/root/usr/bin/nimble" "$dir/bin/"
cp -r "$work/root/usr/lib/nim/lib" "$dir/lib"
cp "$work/root/etc/nim/"*.cfg "$dir/config/"
multiarch=$(gcc -print-multiarch)
cp -a "$work/root/usr/lib/$multiarch/." "$dir/glibc/"
interpreter=$(find "$dir/glibc" -maxdepth 1 -name 'ld-linux*.so.*' | head -n 1)
for program in nim nimble; do
  patchelf --set-interpreter "$interpreter" --set-rpath "$dir/glibc" "$dir/bin/$program"
done
rm -rf "$work"

version=$(major_version "$nim" || true)
if [ -z "$version" ] || [ "$version" -lt 2 ]; then
  say "the unpacked compiler does not run: $("$nim" --version 2>&1 | head -n 1)"
  exit 1
fi
echo "$nim"
