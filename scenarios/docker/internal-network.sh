#!/bin/sh
# An --internal network (Docker 29): containers on it talk to each other, but there is no
# default route, no MASQUERADE, and DOCKER-INTERNAL drops anything entering or leaving the
# subnet through the host.
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

ip netns exec h1 dockerd &
ip netns exec h1 docker network create --internal --subnet 10.30.0.0/24 vault
ip netns exec h1 docker run -d --network vault --name db redis
ip netns exec h1 docker run -d --network vault --name app busybox
ip netns exec h1 docker exec app ip route
ip netns exec h1 iptables -S DOCKER-INTERNAL

ip netns exec h1 docker exec app nc -z -w 1 10.30.0.2 6379
# expect: connected from 10.30.0.3
ip netns exec h1 docker exec app ping -c 1 203.0.113.20
# expect: error ENETUNREACH

# Even a container that adds a default route via the host's bridge address gets nowhere.
ip netns exec h1-app ip route add default via 10.30.0.1
ip netns exec client nc -l -k -p 8080 &
ip netns exec h1 docker exec app nc -z -w 1 203.0.113.20 8080
# expect: timeout via filter/DOCKER-INTERNAL#2
