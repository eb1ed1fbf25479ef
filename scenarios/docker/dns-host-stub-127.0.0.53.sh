#!/bin/sh
# The host runs systemd-resolved: /etc/resolv.conf names only its stub 127.0.0.53 (modelled by a
# dnsmasq there), the real upstream (203.0.113.20 on the LAN) is in
# /run/systemd/resolve/resolv.conf.  127.0.0.53 is the host's loopback: from a container it is
# the container's own loopback, where nothing listens.  Docker knows: it reads systemd's file
# instead (resolvconf.Path), so the default bridge gets 203.0.113.20 and a user network's
# 127.0.0.11 forwards to it (29: from the host's namespace); a container told `--dns 127.0.0.53`
# keeps that line (an override is never filtered) and every lookup is refused.
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
mkdir -p /run/systemd/resolve
echo "nameserver 203.0.113.20" > /run/systemd/resolve/resolv.conf
cat /etc/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/git.example.com/198.51.100.7 &
ip netns exec h1 dnsmasq -k --no-hosts --listen-address 127.0.0.53 --server=203.0.113.20 &

ip netns exec h1 dockerd --era 29 &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --name legacy busybox
ip netns exec h1 docker run -d --dns 127.0.0.53 --name pinned busybox
ip netns exec h1 docker run -d --network front --name app busybox
ip netns exec h1 docker exec legacy cat /etc/resolv.conf
ip netns exec h1 docker exec pinned cat /etc/resolv.conf
ip netns exec h1 docker exec app cat /etc/resolv.conf

# On the host the stub answers.
ip netns exec h1 dig +short git.example.com
# expect: reply
# In a container 127.0.0.53 is its own loopback: port unreachable.
ip netns exec h1 docker exec pinned dig +short +tries=1 git.example.com
# expect: refused
# Docker's own choices work: the upstream from systemd's file, directly or through 127.0.0.11.
ip netns exec h1 docker exec legacy dig +short git.example.com
# expect: reply
ip netns exec h1 docker exec app dig +short git.example.com
# expect: reply via nat/DOCKER_OUTPUT#2
