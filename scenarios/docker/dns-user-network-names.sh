#!/bin/sh
# Docker's embedded DNS (29): containers on a user-defined network find each other by name,
# alias and NAME.NETWORK through 127.0.0.11, whose port 53 the container's own nat table maps
# to the resolver's ephemeral ports (DOCKER_OUTPUT/DOCKER_POSTROUTING); on the default bridge
# there is no resolver and no names, and resolv.conf lists the host's servers instead.
# "h1" is the Docker host (eth0 203.0.113.10) on a LAN with "lan" (203.0.113.20), where a
# dnsmasq answers lab names; the host's resolv.conf points at it.
ip netns add h1
ip netns add lan
ip -n h1 link set lo up
ip -n lan link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns lan
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n lan addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n lan link set eth0 up
ip -n h1 route add default via 203.0.113.20
mkdir -p /etc/netns/h1
echo "nameserver 203.0.113.20" > /etc/netns/h1/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/registry.lab/203.0.113.50 &

ip netns exec h1 dockerd --era 29 &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --network front --name web --network-alias www nginx
ip netns exec h1 docker run -d --network front --name app --hostname app1 --add-host db:10.9.9.9 busybox
ip netns exec h1 docker run -d --name legacy busybox
ip netns exec h1 docker exec app iptables-save -t nat
ip netns exec h1 docker exec app cat /etc/resolv.conf
ip netns exec h1 docker exec app cat /etc/hosts
ip netns exec h1 docker exec legacy cat /etc/resolv.conf

# By name, by alias, by NAME.NETWORK: answered by 127.0.0.11 itself.
ip netns exec h1 docker exec app dig +short web
# expect: reply via nat/DOCKER_OUTPUT#2
ip netns exec h1 docker exec app dig +short www.front
# expect: reply
ip netns exec h1 docker exec app nc -z -w 1 web 80
# expect: connected from 10.10.0.3
# Another name goes on to the host's server: 29 sends it from the host's namespace.
ip netns exec h1 docker exec app dig +short registry.lab
# expect: reply
# The default bridge: no 127.0.0.11 there; its resolv.conf sends every query to the LAN server,
# which knows no container names (and, with no upstream, refuses them: glibc's EAI_AGAIN).
ip netns exec h1 docker exec legacy dig +short registry.lab
# expect: reply
ip netns exec h1 docker exec legacy nc -z -w 1 web 80
# expect: error EAI_AGAIN
