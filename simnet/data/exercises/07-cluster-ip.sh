#!/bin/sh
# Exercise 07-cluster-ip: Write kube-proxy's chains for Service 10.96.0.10:80 with one endpoint, the pod web at 10.244.0.2:8080.
ip netns add node
ip netns add web
ip netns add shop
ip -n node link set lo up
ip -n web link set lo up
ip -n shop link set lo up
ip -n node link add cni0 type bridge
ip -n node addr add 10.244.0.1/24 dev cni0
ip -n node link set cni0 up
ip netns exec node sysctl -w net.ipv4.ip_forward=1
ip -n node link add eth0 type dummy
ip -n node addr add 192.0.2.10/24 dev eth0
ip -n node link set eth0 up
ip -n node route add default via 192.0.2.1
ip -n node link add veth-web type veth peer name eth0 netns web
ip -n node link set veth-web master cni0
ip -n node link set veth-web up
ip -n web addr add 10.244.0.2/24 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 10.244.0.1
ip -n node link add veth-shop type veth peer name eth0 netns shop
ip -n node link set veth-shop master cni0
ip -n node link set veth-shop up
ip -n shop addr add 10.244.0.3/24 dev eth0
ip -n shop link set eth0 up
ip -n shop route add default via 10.244.0.1
ip netns exec web nc -l -k -p 8080 &

# >>> your commands here

ip netns exec shop nc -z -w 1 10.96.0.10 80
# expect: connected from 10.244.0.3
ip netns exec node nc -z -w 1 10.96.0.10 80
# expect: connected
