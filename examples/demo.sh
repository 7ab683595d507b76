#!/usr/bin/env bash
# Runs the C echo server and client against each other over loopback and
# prints what both did.
#
#   examples/demo.sh [BUILD_DIR] [MESSAGES]
#
# BUILD_DIR is the CMake build directory holding examples/echo_server and
# examples/echo_client (default: build, next to this repository's root).
# The server listens on a free port it picks itself (port 0) and prints it;
# the client sends MESSAGES messages (default 5) and checks every echo. The
# server is started with --once 1, so it exits after that one connection;
# it is killed if anything goes wrong. Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
messages=${2:-5}
server_bin=$build/examples/echo_server
client_bin=$build/examples/echo_client

for bin in "$server_bin" "$client_bin"; do
  if [ ! -x "$bin" ]; then
    echo "demo: $bin not found; build first: cmake -S $root -B $build && cmake --build $build" >&2
    exit 1
  fi
done

# The server's output arrives through a coprocess pipe, so the first line
# (with the port) can be read as soon as it is printed, with no polling.
coproc SERVER { exec "$server_bin" --once 1 0 127.0.0.1 2>&1; }
server_pid=$SERVER_PID
# A duplicate of the pipe's read end: bash closes the coprocess's own fds
# when it exits, which would lose lines not yet read.
exec {server_out}<&"${SERVER[0]}"

stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT

if ! read -r -t 10 -u "$server_out" first_line; then
  echo "demo: the server printed nothing within 10 s" >&2
  exit 1
fi
echo "[server] $first_line"
port=$(sed -n 's/.* port \([0-9][0-9]*\)$/\1/p' <<<"$first_line")
if [ -z "$port" ]; then
  echo "demo: no port in the server's first line" >&2
  exit 1
fi

# With pipefail the status is the client's (sed does not fail).
client_status=0
"$client_bin" --count "$messages" "$port" 127.0.0.1 2>&1 | sed 's/^/[client] /' ||
  client_status=$?

# A failed client may never have connected: then stop the server (SIGTERM
# makes it close everything and exit) instead of waiting for it.
if [ "$client_status" -ne 0 ]; then
  stop_server
fi

# The server exits by itself after its one connection, which ends its
# output; each line must come within 10 s.
server_status=0
while true; do
  read_status=0
  read -r -t 10 -u "$server_out" line || read_status=$?
  if [ "$read_status" -eq 0 ]; then
    echo "[server] $line"
  elif [ "$read_status" -gt 128 ]; then
    echo "demo: the server did not finish within 10 s of its last line" >&2
    exit 1
  else
    break # end of the server's output: it has exited
  fi
done
wait "$server_pid" || server_status=$?
trap - EXIT

if [ "$client_status" -ne 0 ] || [ "$server_status" -ne 0 ]; then
  echo "demo: FAILED (client exit $client_status, server exit $server_status)" >&2
  exit 1
fi
echo "demo: OK: the C echo client and server exchanged $messages messages on port $port"
