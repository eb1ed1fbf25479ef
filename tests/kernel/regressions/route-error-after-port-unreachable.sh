#!/bin/sh
# Found by the differential fuzzer: a router's "net unreachable" (ip_error) to a host that
# had a port-unreachable from it less than a second before was never sent. Both draw on one
# per-host token bucket, which an ICMP error empties even with icmp_ratelimit=0. The runner
# now also pins icmp_ratemask=0 (no ICMP type rate-limited, the bucket left alone), so the
# kernel sends it, as simnet (which models no ICMP rate limit) does.
ip netns add fe0
ip netns add fe1
ip netns add fe2
ip -n fe0 link set lo up
ip -n fe1 link set lo up
ip -n fe2 link set lo up
ip -n fe1 link add d0 type veth peer name eth0 netns fe0
ip -n fe1 link add d2 type veth peer name eth0 netns fe2
ip -n fe1 addr add 10.0.1.1/24 dev d0
ip -n fe1 addr add 10.0.2.1/24 dev d2
ip -n fe0 addr add 10.0.1.2/24 dev eth0
ip -n fe2 addr add 10.0.2.2/24 dev eth0
ip -n fe1 link set d0 up
ip -n fe1 link set d2 up
ip -n fe0 link set eth0 up
ip -n fe2 link set eth0 up
ip -n fe0 route add default via 10.0.1.1
ip -n fe2 route add default via 10.0.2.1
ip netns exec fe1 sysctl -w net.ipv4.ip_forward=1
ip netns exec fe0 iptables -A INPUT -p icmp
echo x | ip netns exec fe0 nc -u -w 1 10.0.1.1 7
ip netns exec fe0 ping -c 1 -W 1 10.0.9.9
ip netns exec fe2 ping -c 1 -W 1 10.0.1.2
