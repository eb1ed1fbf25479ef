#!/bin/sh
# Exercise 03-publish: Publish the registry's port 5000 on the host's port 1180 as Docker 1.9 did (two rules).
ip netns add host
ip netns add client
ip -n host link set lo up
ip -n client link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip netns add registry
ip -n registry link set lo up
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip -n host link add veth0a1b2c3 type veth peer name eth0 netns registry
ip -n host link set veth0a1b2c3 master docker0
ip -n host link set veth0a1b2c3 up
ip -n registry addr add 172.17.0.2/16 dev eth0
ip -n registry link set eth0 up
ip -n registry route add default via 172.17.0.1
ip netns exec registry nc -l -k -p 5000 &
ip netns exec client nc -l -k -p 8080 &
ip netns exec host iptables -t nat -N DOCKER
ip netns exec host iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
ip netns exec host iptables -N DOCKER
ip netns exec host iptables -A FORWARD -o docker0 -j DOCKER
ip netns exec host iptables -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip netns exec host iptables -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
ip netns exec host iptables -P FORWARD DROP

# >>> your commands here

ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20 via nat/DOCKER#1
