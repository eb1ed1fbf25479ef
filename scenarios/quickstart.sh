#!/bin/sh
# Quickstart: two hosts on a bridge, a router, and a server behind it.
#
#   a  10.0.0.1 ──┐
#                 br0 ── r: 10.0.0.254 | 10.0.1.254 ── s  10.0.1.2
#   b  10.0.0.2 ──┘
#
# Run it with `simnet run scenarios/quickstart.sh` (or as root on a real host).
set -e
ip netns add a
ip netns add b
ip netns add r
ip netns add s

# the LAN: a bridge in r with one veth port per host
ip -n r link add br0 type bridge
ip -n r link add ra type veth peer name eth0 netns a
ip -n r link add rb type veth peer name eth0 netns b
ip -n r link set ra master br0
ip -n r link set rb master br0
ip -n r addr add 10.0.0.254/24 dev br0
ip -n r link set br0 up
ip -n r link set ra up
ip -n r link set rb up

# the server link
ip -n r link add rs type veth peer name eth0 netns s
ip -n r addr add 10.0.1.254/24 dev rs
ip -n r link set rs up

ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n s addr add 10.0.1.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n s link set eth0 up
ip -n a route add default via 10.0.0.254
ip -n b route add default via 10.0.0.254
ip -n s route add default via 10.0.1.254

# same LAN: the bridge forwards, no routing needed
ip netns exec a ping -c 1 -W 1 10.0.0.2
# expect: reply from 10.0.0.2

# r does not forward yet
ip netns exec a ping -c 1 -W 1 10.0.1.2
# expect: timeout
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec a ping -c 1 -W 1 10.0.1.2
# expect: reply from 10.0.1.2

# a web server on s; only the LAN's a may reach it
ip netns exec s python3 -m http.server 8080 &
ip netns exec r iptables -A FORWARD -s 10.0.0.2 -p tcp --dport 8080 -j DROP
ip netns exec a nc -z -w 1 10.0.1.2 8080
# expect: connected from 10.0.0.1
ip netns exec b nc -z -w 1 10.0.1.2 8080
# expect: timeout via filter/FORWARD#1
ip netns exec a nc -z -w 1 10.0.1.2 9
# expect: refused
kill %1

ip -n a route
ip netns exec r iptables -L FORWARD -v -n --line-numbers
