#!/bin/sh
# Exercise 07-br-netfilter: The Service works from the node but not from the pod shop on the same bridge. Fix the node.
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
ip netns exec node iptables -t nat -N KUBE-SERVICES
ip netns exec node iptables -t nat -A PREROUTING -j KUBE-SERVICES
ip netns exec node iptables -t nat -A OUTPUT -j KUBE-SERVICES
ip netns exec node iptables -t nat -N KUBE-SVC-WEB
ip netns exec node iptables -t nat -N KUBE-SEP-WEB1
ip netns exec node iptables -t nat -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp --dport 80 -j KUBE-SVC-WEB
ip netns exec node iptables -t nat -A KUBE-SVC-WEB -j KUBE-SEP-WEB1
ip netns exec node iptables -t nat -A KUBE-SEP-WEB1 -p tcp -j DNAT --to-destination 10.244.0.2:8080
ip netns exec node sysctl -w net.bridge.bridge-nf-call-iptables=0

# >>> your commands here

ip netns exec shop nc -z -w 1 10.96.0.10 80
# expect: connected from 10.244.0.3
