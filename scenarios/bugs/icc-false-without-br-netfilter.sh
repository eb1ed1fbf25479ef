#!/bin/sh
# Bug 6: --icc=false is a FORWARD rule; bridged traffic only meets FORWARD when br_netfilter is on.
ip netns add host
ip netns add client
ip netns add web
ip -n host link set lo up
ip -n client link set lo up
ip -n web link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip -n host link add veth1 type veth peer name eth0 netns web
ip -n host link set veth1 master docker0
ip -n host link set veth1 up
ip -n web addr add 172.17.0.2/16 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 172.17.0.1
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip netns add db
ip -n db link set lo up
ip -n host link add veth2 type veth peer name eth0 netns db
ip -n host link set veth2 master docker0
ip -n host link set veth2 up
ip -n db addr add 172.17.0.3/16 dev eth0
ip -n db link set eth0 up
ip -n db route add default via 172.17.0.1
ip netns exec db nc -l -k -p 5432 &
# What --icc=false installs: drop traffic between two ports of docker0.
ip netns exec host iptables -A FORWARD -i docker0 -o docker0 -j DROP
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=0
ip netns exec web nc -z -w 1 172.17.0.3 5432
# expect: connected from 172.17.0.2
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=1
ip netns exec web nc -z -w 1 172.17.0.3 5432
# expect: timeout via filter/FORWARD#1
