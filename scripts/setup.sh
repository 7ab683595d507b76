#!/usr/bin/env bash
# Set-up on a fresh Debian machine: installs what is missing, builds the
# library, examples and benchmarks, and runs the demo (the C echo server and
# client exchanging messages).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
cmake -S "$root" -B "$root/_build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFLATUV_BUILD_BENCH=ON -DFLATUV_BUILD_EXAMPLES=ON -DFLATUV_BUILD_TESTS=ON
cmake --build "$root/_build/release" -j 2
bash "$root/examples/demo.sh" "$root/_build/release"
