#!/bin/sh
# The same published port with --userland-proxy=false (Docker 29): no docker-proxy. Docker
# compensates with a DNAT in nat OUTPUT for loopback too, route_localnet=1 on docker0, hairpin
# mode on the veth, and a MASQUERADE for host-originated traffic into the bridge, so every path
# works without a userland process -- and what the container sees changes.
# Two machines on a LAN: "h1", the Docker host (eth0 203.0.113.10), and "client" (203.0.113.20).
ip netns add h1
ip netns add client
ip -n h1 link set lo up
ip -n client link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns client
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n client link set eth0 up

ip netns exec h1 dockerd --era 29 --userland-proxy=false &
ip netns exec h1 docker run -d -p 1180:5000 --name registry registry:2
ip netns exec h1 docker run -d --name peer busybox
ip netns exec h1 sysctl net.ipv4.conf.docker0.route_localnet
ip netns exec h1 iptables -t nat -S

ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20

# 127.0.0.1 is DNATed in OUTPUT (the rule has no "! -d 127.0.0.0/8" now), routed to docker0
# thanks to route_localnet, and MASQUERADEd by the --src-type LOCAL rule.
ip netns exec h1 nc -z -w 1 127.0.0.1 1180
# expect: connected from 172.17.0.1

ip netns exec h1 nc -z -w 1 203.0.113.10 1180
# expect: connected from 172.17.0.1

# Same bridge: without the proxy the DNAT rule has no "! -i docker0", so the peer's SYN is
# DNATed on docker0 and bridged to the registry (br_netfilter); the registry sees the peer.
ip netns exec h1 docker exec peer nc -z -w 1 203.0.113.10 1180
# expect: connected from 172.17.0.3

# The registry reaches itself through the published port: hairpin + the -s C -d C MASQUERADE.
ip netns exec h1 docker exec registry nc -z -w 1 203.0.113.10 1180
# expect: connected from 172.17.0.1
