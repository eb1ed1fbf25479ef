#!/bin/sh
# The PMTU black hole: a host behind an uplink of MTU 1400 whose firewall drops ICMP.
# h (10.0.1.2) reaches the server s (10.0.2.2) through a VPN-like gateway g whose link to s has
# MTU 1400. h's firewall lets echo replies in and drops every other ICMP message, so the
# "fragmentation needed" g sends back never arrives: large DF datagrams vanish without a word.
ip netns add h
ip netns add g
ip netns add s
ip -n h link set lo up
ip -n g link set lo up
ip -n s link set lo up
ip -n h link add eth0 type veth peer name eth0 netns g
ip -n g link add tun0 type veth peer name eth0 netns s
ip -n h addr add 10.0.1.2/24 dev eth0
ip -n h link set eth0 up
ip -n h route add default via 10.0.1.1
ip -n g addr add 10.0.1.1/24 dev eth0
ip -n g link set eth0 up
ip -n g addr add 10.0.2.1/24 dev tun0
ip -n g link set tun0 mtu 1400
ip -n g link set tun0 up
ip -n s addr add 10.0.2.2/24 dev eth0
ip -n s link set eth0 mtu 1400
ip -n s link set eth0 up
ip -n s route add default via 10.0.2.1
ip netns exec g sysctl -w net.ipv4.ip_forward=1

ip netns exec h iptables -A INPUT -p icmp --icmp-type echo-reply -j ACCEPT
ip netns exec h iptables -A INPUT -p icmp -j DROP

# Small requests work...
ip netns exec h ping -c 1 -W 1 10.0.2.2
# expect: reply

# ...large ones with DF set (ping's default sets DF on what fits its own 1500-byte link) time out:
# the frag-needed is dropped by INPUT rule 2, h never learns the path MTU and tries again the same.
ip netns exec h ping -c 1 -W 1 -s 1472 10.0.2.2
# expect: timeout via filter/INPUT#2
ip netns exec h ping -c 1 -W 1 -s 1472 10.0.2.2
# expect: timeout via filter/INPUT#2
ip -n h route get 10.0.2.2

# The fix: let ICMP 3/4 in.
ip netns exec h iptables -I INPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT

# The next large ping still fails, but now with the reason, and h learns MTU 1400 for s...
ip netns exec h ping -c 1 -W 1 -s 1472 10.0.2.2
# expect: unreachable from 10.0.1.1 via filter/INPUT#1
ip -n h route get 10.0.2.2

# ...so the one after leaves in two fragments and is answered.
ip netns exec h ping -c 1 -W 1 -s 1472 10.0.2.2
# expect: reply
