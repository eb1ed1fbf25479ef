#!/bin/sh
# Published-port forms of compose files and Docker's own tests, Docker 29 without docker-proxy
# (so the kernel runs exactly the same): -p 0.0.0.0:8080:80 means every address, as -p 8081:80
# does; -p 80 takes a host port from the daemon's allocator (the first of
# net.ipv4.ip_local_port_range, 32768); each path to them behaves alike. Then the container is
# connected to a second network whose name sorts first: the NAT bindings (and the default route)
# move to that endpoint, and back when it is disconnected.
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
ip netns exec h1 docker network create --subnet 172.18.0.0/16 other
ip netns exec h1 docker run -d -p 0.0.0.0:8080:80 -p 8081:80 -p 80 --name web busybox nc -l -k -p 80
ip netns exec h1 docker run -d --network other --name stranger busybox
ip netns exec h1 docker port web
ip netns exec h1 iptables -t nat -S DOCKER

# From the LAN: DNAT, the container sees the client.
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#1
ip netns exec client nc -z -w 1 203.0.113.10 8081
# expect: connected from 203.0.113.20 via nat/DOCKER#2
ip netns exec client nc -z -w 1 203.0.113.10 32768
# expect: connected from 203.0.113.20 via nat/DOCKER#3

# From the host, via 127.0.0.1 (route_localnet on docker0) and its own address: without the
# proxy, the hairpin MASQUERADE (-m addrtype --src-type LOCAL -o docker0) applies to both.
ip netns exec h1 nc -z -w 1 127.0.0.1 8080
# expect: connected from 172.17.0.1 via nat/DOCKER#1
ip netns exec h1 nc -z -w 1 127.0.0.1 8081
# expect: connected from 172.17.0.1 via nat/DOCKER#2
ip netns exec h1 nc -z -w 1 203.0.113.10 8080
# expect: connected from 172.17.0.1 via nat/DOCKER#1

# From a container on another network, and from the container itself (hairpin).
ip netns exec h1 docker exec stranger nc -z -w 1 203.0.113.10 8080
# expect: connected from 172.17.0.1 via nat/DOCKER#1
ip netns exec h1 docker exec web nc -z -w 1 203.0.113.10 8080
# expect: connected from 172.17.0.1 via nat/DOCKER#1

# "alpha" sorts before "bridge": connecting web to it makes it the gateway endpoint.
ip netns exec h1 docker network create --subnet 172.19.0.0/16 alpha
ip netns exec h1 docker network connect alpha web
ip netns exec h1-web ip route
ip netns exec h1 iptables -t nat -S DOCKER
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#1
# Revoking and programming again picks a new host port for "-p 80" (the next after 32768).
ip netns exec h1 docker port web
ip netns exec h1 docker network disconnect alpha web
ip netns exec h1-web ip route
ip netns exec client nc -z -w 1 203.0.113.10 8081
# expect: connected from 203.0.113.20 via nat/DOCKER#2
