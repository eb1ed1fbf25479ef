#!/bin/sh
# -m policy without IPsec: no packet has a policy, so --pol none matches every packet and --pol ipsec none.
set -e
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip netns exec b iptables -A INPUT -m policy --dir in --pol ipsec -j DROP
ip netns exec b iptables -A INPUT -m policy --dir in --pol ipsec --strict --proto esp --mode tunnel --tunnel-src 10.0.0.1
ip netns exec b iptables -A INPUT -m policy --dir in --pol none
ip netns exec b iptables -A OUTPUT -m policy --dir out --pol none -j ACCEPT
ip netns exec b iptables -A OUTPUT -j DROP

ip netns exec a ping -c 1 -W 1 10.0.0.2
# expect: reply from 10.0.0.2
ip netns exec b iptables -L -v -n -x
