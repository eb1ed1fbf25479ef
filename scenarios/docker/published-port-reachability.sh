#!/bin/sh
# A published port (-p 1180:5000, Docker 29, docker-proxy on, the default) reached from
# everywhere: outside, a container on the same bridge, a container on another bridge, and the
# host itself via 127.0.0.1 and via its own address. Who does the work (DNAT or docker-proxy)
# decides what source address the container sees.
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

ip netns exec h1 dockerd --era 29 &
ip netns exec h1 docker network create --subnet 172.18.0.0/16 other
ip netns exec h1 docker run -d -p 1180:5000 --name registry registry:2
ip netns exec h1 docker run -d --name peer busybox
ip netns exec h1 docker run -d --network other --name stranger busybox
ip netns exec h1 docker ps

# From outside: DNAT in nat PREROUTING; the container sees the client itself.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20 via nat/DOCKER#1

# From a container on the same bridge, via the host's address: the DNAT rule says ! -i docker0,
# so the SYN goes to the host's INPUT, where docker-proxy listens; the proxy opens its own
# connection, and the registry sees the gateway 172.17.0.1.
ip netns exec h1 docker exec peer nc -z -w 1 203.0.113.10 1180
# expect: connected from 172.17.0.1

# From a container on another bridge: DNATed (it arrives on br-..., not docker0), accepted by
# the per-port rule in filter DOCKER, and MASQUERADEd on the way out of its own subnet.
ip netns exec h1 docker exec stranger nc -z -w 1 203.0.113.10 1180
# expect: connected from 172.17.0.1 via nat/DOCKER#1

# The other bridge cannot reach the registry's own address: isolation (DOCKER ! -i docker0 -o docker0 DROP).
ip netns exec h1 docker exec stranger nc -z -w 1 172.17.0.2 5000
# expect: timeout

# From the host via 127.0.0.1: nat OUTPUT skips 127.0.0.0/8, so docker-proxy takes it.
ip netns exec h1 nc -z -w 1 127.0.0.1 1180
# expect: connected from 172.17.0.1

# From the host via its own address: DNAT in nat OUTPUT, no proxy involved; the source was
# chosen before the DNAT (203.0.113.10 is local, so the source is 203.0.113.10 too) and stays.
ip netns exec h1 nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.10 via nat/DOCKER#1

# The same bridge reaches the registry directly, of course.
ip netns exec h1 docker exec peer nc -z -w 1 172.17.0.2 5000
# expect: connected from 172.17.0.3
