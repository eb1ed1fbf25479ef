#!/bin/sh
# The four network modes (Docker 29): bridge (own namespace, eth0 on docker0), host (the host's
# own stack), none (only lo) and container:NAME (another container's namespace).
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
# bridge: its own namespace h1-web, eth0 172.17.0.2 on docker0.
ip netns exec h1 docker run -d --name web nginx
ip netns exec h1 docker exec web ip -br addr
ip netns exec client nc -z -w 1 203.0.113.10 80
# expect: refused

# host: -p is discarded with Docker's warning; the process listens in h1 itself, so the LAN
# reaches it on the host's address without any NAT.
ip netns exec h1 docker run -d --network host -p 8080:8080 --name hostweb busybox nc -l -k -p 8080
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20
ip netns exec h1 docker exec hostweb ping -c 1 203.0.113.20
# expect: reply

# none: only lo; nothing leaves.
ip netns exec h1 docker run -d --network none --name isolated busybox
ip netns exec h1 docker exec isolated ip -br link
ip netns exec h1 docker exec isolated ping -c 1 203.0.113.20
# expect: error ENETUNREACH

# container:web: the sidecar shares web's namespace: same eth0, same address, and it reaches
# nginx on localhost.
ip netns exec h1 docker run -d --network container:web --name sidecar busybox
ip netns exec h1 docker exec sidecar ip -br addr
ip netns exec h1 docker exec sidecar nc -z -w 1 127.0.0.1 80
# expect: connected from 127.0.0.1
ip netns exec h1 docker exec sidecar nc -z -w 1 203.0.113.20 8080
# expect: refused
ip netns exec h1 docker ps
