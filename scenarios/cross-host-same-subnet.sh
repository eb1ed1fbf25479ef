#!/bin/sh
# Why containers on two hosts cannot talk: both daemons chose 172.17.0.0/16.
# h1 and h2 share a LAN (192.168.1.0/24); c1 runs on h1, c2 on h2.
ip netns add h1
ip netns add h2
ip netns add c1
ip netns add c2
ip -n h1 link set lo up
ip -n h2 link set lo up
ip -n c1 link set lo up
ip -n c2 link set lo up

ip -n h1 link add eth0 type veth peer name eth0 netns h2
ip -n h1 addr add 192.168.1.1/24 dev eth0
ip -n h2 addr add 192.168.1.2/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 link set eth0 up

ip -n h1 link add docker0 type bridge
ip -n h1 addr add 172.17.0.1/16 dev docker0
ip -n h1 link set docker0 up
ip -n h2 link add docker0 type bridge
ip -n h2 addr add 172.17.0.1/16 dev docker0
ip -n h2 link set docker0 up
ip netns exec h1 sysctl -w net.ipv4.ip_forward=1
ip netns exec h2 sysctl -w net.ipv4.ip_forward=1
ip netns exec h1 iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
ip netns exec h2 iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE

ip -n h1 link add veth1 type veth peer name eth0 netns c1
ip -n h1 link set veth1 master docker0
ip -n h1 link set veth1 up
ip -n c1 addr add 172.17.0.2/16 dev eth0
ip -n c1 link set eth0 up
ip -n c1 route add default via 172.17.0.1

ip -n h2 link add veth1 type veth peer name eth0 netns c2
ip -n h2 link set veth1 master docker0
ip -n h2 link set veth1 up
ip -n c2 addr add 172.17.0.3/16 dev eth0
ip -n c2 link set eth0 up
ip -n c2 route add default via 172.17.0.1

ip netns exec c2 nc -l -k -p 80 &

# c1 believes 172.17.0.3 is on its own segment: it asks docker0 on h1, where nobody answers (3 ARP requests, ~3 s).
ip netns exec c1 ping -c 4 -W 1 172.17.0.3
# expect: unreachable from 172.17.0.2

# The gateway address is the same on both hosts: c1 reaches its own host, not h2.
ip netns exec c1 ping -c 1 -W 1 172.17.0.1
# expect: reply

# From h1, 172.17.0.3 is also "local": h1 looks for it on its own docker0.
ip netns exec h1 nc -z -w 1 172.17.0.3 80
# expect: timeout
