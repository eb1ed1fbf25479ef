#!/bin/sh
# Found by the differential fuzzer: fx1's SYN to fx0's bridge address is DNATed by fx0 back to
# fx1's own address 10.0.1.2 and returned to fx1. It arrives carrying fx1's own address as its
# source: a martian (fib_validate_source, accept_local=0), dropped after PREROUTING. simnet used
# to route it on and counted fx1's nat/POSTROUTING policy twice.
ip netns add fx0
ip netns add fx1
ip netns exec fx0 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
ip -n fx0 link set lo up
ip netns exec fx1 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
ip -n fx1 link set lo up
ip -n fx0 link add br0 type bridge
ip -n fx0 link set br0 up
ip -n fx0 addr add 10.9.0.1/24 dev br0
ip -n fx0 link add d1 type veth peer name eth0 netns fx1
ip -n fx0 addr add 10.0.1.1/24 dev d1
ip -n fx0 link set d1 up
ip -n fx1 addr add 10.0.1.2/24 dev eth0
ip -n fx1 link set eth0 up
ip netns exec fx0 sysctl -w net.ipv4.ip_forward=1
ip -n fx1 route add default via 10.0.1.1
ip netns exec fx1 sysctl -w net.ipv4.ip_forward=1
ip netns exec fx0 iptables -t nat -A PREROUTING -p udp --dport 53 -j DNAT --to-destination 10.9.0.1
ip netns exec fx0 iptables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.1.2
ip netns exec fx1 iptables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.9.0.1
ip netns exec fx0 nc -z -w 1 10.9.0.1 80
ip netns exec fx1 nc -z -w 1 10.9.0.1 80
ip netns exec fx0 ping -c 1 -W 1 10.9.0.1
