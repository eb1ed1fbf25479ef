#!/bin/sh
# Solution of exercise 06-routes: Each host has its own container subnet. Add the routes that let c1 reach c2 across the hosts.
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
ip -n h1 addr add 172.17.1.1/24 dev docker0
ip -n h1 link set docker0 up
ip -n h2 link add docker0 type bridge
ip -n h2 addr add 172.17.2.1/24 dev docker0
ip -n h2 link set docker0 up
ip netns exec h1 sysctl -w net.ipv4.ip_forward=1
ip netns exec h2 sysctl -w net.ipv4.ip_forward=1
ip netns exec h1 iptables -t nat -A POSTROUTING -s 172.17.1.0/24 ! -o docker0 -j MASQUERADE
ip netns exec h2 iptables -t nat -A POSTROUTING -s 172.17.2.0/24 ! -o docker0 -j MASQUERADE
ip -n h1 link add veth1 type veth peer name eth0 netns c1
ip -n h1 link set veth1 master docker0
ip -n h1 link set veth1 up
ip -n c1 addr add 172.17.1.2/24 dev eth0
ip -n c1 link set eth0 up
ip -n c1 route add default via 172.17.1.1
ip -n h2 link add veth1 type veth peer name eth0 netns c2
ip -n h2 link set veth1 master docker0
ip -n h2 link set veth1 up
ip -n c2 addr add 172.17.2.2/24 dev eth0
ip -n c2 link set eth0 up
ip -n c2 route add default via 172.17.2.1
ip netns exec c2 nc -l -k -p 80 &

# >>> solution
ip -n h1 route add 172.17.2.0/24 via 192.168.1.2
ip -n h2 route add 172.17.1.0/24 via 192.168.1.1
# <<< solution

ip netns exec c1 nc -z -w 1 172.17.2.2 80
# expect: connected
