#!/bin/sh
# Docker deletes conntrack flows when it programs or revokes a container's published ports
# (clearConntrackEntries, 20.10+): flows whose reply tuple has the container's address, and UDP
# flows to its host ports. Without that, netfilter keeps using a flow that was created before
# the DNAT rule existed (the host answered it) or for a container that is gone.
# Docker 29 without docker-proxy, so the kernel runs the same thing. Two machines on a LAN:
# "h1", the Docker host (eth0 203.0.113.10), and "client" (203.0.113.20).
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

# Nothing is published yet: the host itself answers with a port unreachable, and the flow
# (client:40000 -> host:5353, no NAT) stays in the host's conntrack table.
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: unreachable

# Publishing 5353/udp deletes UDP flows to host port 5353, so the same source port now meets
# the DNAT rule and reaches the container.
ip netns exec h1 docker run -d -p 5353:53/udp --name dns busybox nc -u -l -k -p 53
ip netns exec h1 conntrack -L
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40000 via nat/DOCKER#1

# Removing the container deletes the flows of its address: none is left for the next
# container on 172.17.0.2, which listens on another port behind the same host port. The new
# container has another MAC address: Docker 28+ announces it with gratuitous ARP, so the host's
# neighbour entry for 172.17.0.2 (still the old MAC, REACHABLE) is updated at once.
ip netns exec h1 docker rm -f dns
ip netns exec h1 conntrack -L
ip netns exec h1 docker run -d -p 5353:54/udp --name dns2 busybox nc -u -l -k -p 54
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40000 via nat/DOCKER#1
