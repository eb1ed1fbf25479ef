#!/bin/sh
# Direct routing to a container's address from the LAN, Docker 29 (28.2+ options), no proxy.
# A LAN neighbour routes 172.16.0.0/12 via the Docker host and connects to a published port on
# the container's own address: the raw-table direct-access filter (-d CONTAINER ! -i BRIDGE -j
# DROP) stops it, unless the network trusts the host interface the packet comes in on
# (com.docker.network.bridge.trusted_host_interfaces: a raw ACCEPT first). A port that is not
# published is dropped by filter DOCKER either way.
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
ip -n client route add 172.16.0.0/12 via 203.0.113.10

ip netns exec h1 dockerd --era 29 --userland-proxy=false &
ip netns exec h1 docker network create --subnet 172.20.0.0/16 plain
ip netns exec h1 docker network create --subnet 172.21.0.0/16 -o com.docker.network.bridge.trusted_host_interfaces=eth0 trusting
ip netns exec h1 docker run -d --network plain -p 8080:80 --name a busybox nc -l -k -p 80
ip netns exec h1 docker run -d --network trusting -p 8081:80 --name b busybox nc -l -k -p 80
ip netns exec h1 iptables -t raw -S PREROUTING

ip netns exec client nc -z -w 1 172.20.0.2 80
# expect: timeout via raw/PREROUTING#1
ip netns exec client nc -z -w 1 172.21.0.2 80
# expect: connected from 203.0.113.20
# Through the published port, both are reached.
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#1
ip netns exec client nc -z -w 1 203.0.113.10 8081
# expect: connected from 203.0.113.20 via nat/DOCKER#2
