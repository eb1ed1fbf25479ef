#!/bin/sh
# The host resolves through a local stub at 127.0.0.53 (a dnsmasq here, as systemd-resolved's
# stub) that forwards to the LAN server 203.0.113.20; its resolv.conf lists the stub first.
# 127.0.0.53 is the host's loopback: in a container it is the container's own loopback, where
# nothing listens.  Docker knows: the default bridge gets the host's file without loopback
# servers (203.0.113.20 is left), and a user network's 127.0.0.11 keeps them as upstreams reached
# from the host's namespace (29: "host(127.0.0.53)"); a container told `--dns 127.0.0.53` keeps
# that line (an override is never filtered) and every lookup is refused.
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
printf 'nameserver 127.0.0.53\nnameserver 203.0.113.20\n' > /etc/netns/h1/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/git.example.com/198.51.100.7 &
ip netns exec h1 dnsmasq -k --no-resolv --no-hosts --listen-address 127.0.0.53 --address=/vpn.corp/10.77.0.1 --server=203.0.113.20 &

ip netns exec h1 dockerd --era 29 &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --name legacy busybox
ip netns exec h1 docker run -d --dns 127.0.0.53 --name pinned busybox
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker exec legacy cat /etc/resolv.conf
ip netns exec h1 docker exec pinned cat /etc/resolv.conf
ip netns exec h1 docker exec app cat /etc/resolv.conf

# On the host the stub answers, its own names too.
ip netns exec h1 dig +short vpn.corp
# expect: reply
# In a container 127.0.0.53 is its own loopback: port unreachable.
ip netns exec h1 docker exec pinned dig +short +tries=1 git.example.com
# expect: refused
# The default bridge asks 203.0.113.20 directly: public names work, the stub's own do not.
ip netns exec h1 docker exec legacy dig +short git.example.com
# expect: reply
# A user network's 127.0.0.11 forwards from the host's namespace, to the stub first.
ip netns exec h1 docker exec app dig +short vpn.corp
# expect: reply via nat/DOCKER_OUTPUT#2
