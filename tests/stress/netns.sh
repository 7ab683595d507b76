#!/bin/sh
# Network namespaces for the faults program's lossy-link case.
#
#   netns.sh up TAG     creates the namespaces fuvTAGa, fuvTAGb and fuvTAGc:
#     a (10.77.1.1) <-> b (10.77.1.2), MTU 65000, 5% loss and 50 ms delay
#       each way (100 ms RTT): a veth pair with tc netem on both ends; where
#       the kernel has no netem (CONFIG_NET_SCH_NETEM unset), a pair of tun
#       devices instead, and the caller relays packets between them with
#       the same loss and delay (exit status 10 says so).
#     a (10.77.2.1) <-> c (10.77.2.2): a veth pair where a's permanent
#       neighbour entry for 10.77.2.2 names a MAC that c's device does not
#       have, so c drops every frame a sends it: each SYN is lost and a
#       connect to 10.77.2.2 can only time out (no ARP, no RST, no ICMP).
#   netns.sh down TAG   deletes them (idempotent; the links go with them)
#
# Exit status of up: 0 (netem link), 10 (tun link, relay needed), 77 when
# the machine refuses network namespaces, anything else on failure.
# TAG is at most 8 characters (interface names are limited to 15).
set -eu
cmd=${1:?usage: netns.sh up|down TAG}
tag=${2:?usage: netns.sh up|down TAG}
a=fuv${tag}a b=fuv${tag}b c=fuv${tag}c

down() {
  for ns in "$a" "$b" "$c"; do
    ip netns del "$ns" 2>/dev/null || true
  done
}

case $cmd in
down)
  down
  ;;
up)
  down
  trap 'down' EXIT
  if ! ip netns add "$a"; then
    trap - EXIT
    exit 77
  fi
  ip netns add "$b"
  ip netns add "$c"
  for ns in "$a" "$b" "$c"; do ip -n "$ns" link set lo up; done

  status=0
  ip link add "${a}1" netns "$a" type veth peer name "${b}1" netns "$b"
  if ! ip netns exec "$a" tc qdisc add dev "${a}1" root netem loss 5% delay 50ms limit 10000 2>/dev/null; then
    echo "netns.sh: no netem in this kernel; using tun devices and a user-space relay"
    ip -n "$a" link del "${a}1"
    ip -n "$a" tuntap add dev "${a}1" mode tun
    ip -n "$b" tuntap add dev "${b}1" mode tun
    status=10
  else
    ip netns exec "$b" tc qdisc add dev "${b}1" root netem loss 5% delay 50ms limit 10000
  fi
  ip -n "$a" link set "${a}1" mtu 65000 up
  ip -n "$b" link set "${b}1" mtu 65000 up
  ip -n "$a" addr add 10.77.1.1/24 dev "${a}1"
  ip -n "$b" addr add 10.77.1.2/24 dev "${b}1"

  ip link add "${a}2" netns "$a" type veth peer name "${c}2" netns "$c"
  ip -n "$a" link set "${a}2" up
  ip -n "$c" link set "${c}2" address 02:00:00:77:02:02 up
  ip -n "$a" addr add 10.77.2.1/24 dev "${a}2"
  ip -n "$c" addr add 10.77.2.2/24 dev "${c}2"
  ip -n "$a" neigh replace 10.77.2.2 lladdr 02:00:00:77:02:99 dev "${a}2" nud permanent
  trap - EXIT
  exit $status
  ;;
*)
  echo "usage: netns.sh up|down TAG" >&2
  exit 2
  ;;
esac
