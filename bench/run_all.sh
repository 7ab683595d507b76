#!/usr/bin/env bash
# Every comparison the issues ask for, in one invocation, each with
# bench/run.py's alternating rounds and pinned cores:
#   C       flatuv vs libuv vs raw epoll (1/10/100 x 1 KiB, 10 x 64 KiB),
#           plus system calls per request under strace
#   C UDP   flatuv vs libuv vs raw recvmmsg/sendmmsg (10x64, 10x1200,
#           100x1200), system calls per datagram, and udp_gso's bulk sends
#   C pipes the same servers over a Unix domain socket (fuv_pipe_t vs
#           uv_pipe_t vs epoll; 10 x 1 KiB, 10 x 64 KiB), plus system calls
#   Python  flatuv vs uvloop vs asyncio, plus the per-call overhead figure
#   Lua     flatuv vs luv, on Lua 5.4 and on LuaJIT
#   Nim     flatuv's Nim binding vs asyncnet vs flatuv's C server
#
#   bench/run_all.sh [WORK_DIR] [run.py options, e.g. --rounds 9]
#
# Run it on a quiet machine: the figures are ratios of alternating rounds,
# but a busy machine still widens them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/flatuv-bench}
[ $# -gt 0 ] && shift
opts=(--rounds 7 --duration 3 "$@")
mkdir -p "$work"

echo "==== building (Release)"
cmake -S "$root" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFLATUV_BUILD_BENCH=ON -DFLATUV_BUILD_TESTS=OFF -DFLATUV_BUILD_EXAMPLES=OFF \
  >"$work/cmake.log"
cmake --build "$work/build" -j 2 >>"$work/cmake.log"
cmake -S "$root/bindings/lua" -B "$work/lua" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  >>"$work/cmake.log"
cmake --build "$work/lua" -j 2 >>"$work/cmake.log"
FLATUV_NIM_BUILD="$work/nim" bash "$root/bench/nim/build.sh" "$work/nim-bench" \
  >>"$work/cmake.log"
bench="$work/build/bench"

echo "==== C: flatuv vs libuv vs epoll"
python3 "$root/bench/run.py" --build-dir "$work/build" "${opts[@]}"
echo "==== C: system calls per request"
python3 "$root/bench/run.py" --build-dir "$work/build" --syscalls

echo "==== C pipes: flatuv vs libuv vs epoll over a Unix domain socket"
python3 "$root/bench/run.py" --build-dir "$work/build" --transport unix \
  --configs 10x1024,10x65536 "${opts[@]}"
echo "==== C pipes: system calls per request"
python3 "$root/bench/run.py" --build-dir "$work/build" --transport unix --syscalls

echo "==== C UDP: flatuv vs libuv vs raw recvmmsg/sendmmsg (10x64, 10x1200, 100x1200)"
python3 "$root/bench/run.py" --build-dir "$work/build" --transport udp "${opts[@]}"
echo "==== C UDP: system calls per datagram"
python3 "$root/bench/run.py" --build-dir "$work/build" --transport udp --syscalls \
  --syscall-size 64
echo "==== C UDP: bulk sends of 1200-byte datagrams, one per send vs sendmmsg vs GSO"
"$work/build/bench/udp_gso"

echo "==== Python: flatuv vs uvloop vs asyncio"
bash "$root/bench/python/run.sh" "$work/python" "${opts[@]}"

for lua in lua5.4 luajit; do
  echo "==== Lua ($lua): flatuv vs luv"
  LUA_PATH="$work/lua/$lua/?.lua;;" LUA_CPATH="$work/lua/$lua/?.so;;" \
    python3 "$root/bench/run.py" --loadgen "$bench/fuv_loadgen" \
    --server flatuv-lua="$lua $root/bench/lua/echo_flatuv.lua" \
    --server luv="$lua $root/bench/lua/echo_luv.lua" \
    --configs 10x1024,100x1024,10x65536 "${opts[@]}"
done

echo "==== Nim: flatuv vs asyncnet vs flatuv's C server"
python3 "$root/bench/run.py" --loadgen "$bench/fuv_loadgen" \
  --server flatuv-nim="$work/nim-bench/echo_flatuv_nim" \
  --server asyncnet="$work/nim-bench/echo_asyncnet" \
  --server flatuv-c="$bench/echo_flatuv" \
  --configs 10x1024,100x1024,10x65536 "${opts[@]}"

# At 64 KiB the kernel's copying dominates every server; this is the floor
# any read/write server on this machine stands on, against asyncnet.
echo "==== Nim, 64 KiB floor: a raw epoll server vs asyncnet"
python3 "$root/bench/run.py" --loadgen "$bench/fuv_loadgen" \
  --server epoll="$bench/echo_epoll" \
  --server asyncnet="$work/nim-bench/echo_asyncnet" \
  --configs 10x65536 "${opts[@]}"
