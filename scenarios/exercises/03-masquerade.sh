#!/bin/sh
# Solution of exercise 03-masquerade: Docker 1.9's rules without the MASQUERADE: the registry's connection to the client gets no answer. Add the rule.
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

# >>> solution
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
# <<< solution

ip netns exec registry nc -z -w 1 203.0.113.20 8080
# expect: connected from 203.0.113.10
