#!/bin/sh
# Two user-defined networks (Docker 29) are isolated from each other: the per-bridge
# "DOCKER ! -i BR -o BR -j DROP" rules (in 27: DOCKER-ISOLATION-STAGE-1/2) refuse traffic
# between bridges; containers on the same network talk freely; a container connected to both
# networks reaches both.
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
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker network create --subnet 10.20.0.0/24 back
ip netns exec h1 docker network ls
ip netns exec h1 docker run -d --network front --name web nginx
ip netns exec h1 docker run -d --network front --name web2 busybox
ip netns exec h1 docker run -d --network back --ip 10.20.0.50 --name db redis
ip netns exec h1 iptables -S DOCKER

ip netns exec h1 docker exec web2 nc -z -w 1 10.10.0.2 80
# expect: connected from 10.10.0.3
ip netns exec h1 docker exec web nc -z -w 1 10.20.0.50 6379
# expect: timeout
ip netns exec h1 docker exec web ping -c 1 -W 1 10.20.0.50
# expect: timeout

# Connect web to back as well: eth1 10.20.0.2, and now it reaches db on that network.
ip netns exec h1 docker network connect back web
ip netns exec h1 docker exec web ip -br addr
ip netns exec h1 docker exec web nc -z -w 1 10.20.0.50 6379
# expect: connected from 10.20.0.2
ip netns exec h1 docker network disconnect back web
ip netns exec h1 docker exec web nc -z -w 1 10.20.0.50 6379
# expect: timeout
