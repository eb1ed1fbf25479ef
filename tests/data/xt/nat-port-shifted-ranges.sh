#!/bin/sh
# Issue #13.4, seen on Linux 6.18: port-shifted NAT ranges (lo-hi/base, NF_NAT_RANGE_PROTO_OFFSET).
# DNAT 9100-9110/8100 maps dport 8105 to 9105, 8120 to 9109 and 7 to 9101 (a u16 offset, mod 11);
# SNAT and MASQUERADE keep the flag but lose the base (iptables-save prints /0): sport 4000 -> 9107,
# 8105 -> 9109. The conntrack entries after each probe say so.
ip netns add sc
ip netns add sr
ip netns add ss
ip -n sc link set lo up
ip -n sr link set lo up
ip -n ss link set lo up
ip -n sr link add d0 type veth peer name eth0 netns sc
ip -n sr link add eth1 type veth peer name eth0 netns ss
ip -n sr addr add 10.0.0.1/24 dev d0
ip -n sc addr add 10.0.0.2/24 dev eth0
ip -n sr addr add 10.1.0.1/24 dev eth1
ip -n ss addr add 10.1.0.2/24 dev eth0
ip -n sr link set d0 up
ip -n sr link set eth1 up
ip -n sc link set eth0 up
ip -n ss link set eth0 up
ip -n sc route add default via 10.0.0.1
ip netns exec sr sysctl -w net.ipv4.ip_forward=1
ip netns exec sr iptables -t nat -A PREROUTING -p udp -d 10.0.0.1 -j DNAT --to-destination 10.1.0.2:9100-9110/8100
ip netns exec sr iptables -t nat -A POSTROUTING -p udp --dport 7 -j SNAT --to-source 10.1.0.1:9100-9110/8100
ip netns exec sr iptables -t nat -A POSTROUTING -p udp --dport 8 -j MASQUERADE --to-ports 9100-9110/8100
ip netns exec ss nc -u -l -k -p 9101 &
ip netns exec ss nc -u -l -k -p 9105 &
ip netns exec ss nc -u -l -k -p 9109 &
ip netns exec ss nc -u -l -k -p 7 &
ip netns exec ss nc -u -l -k -p 8 &
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.0.0.1 8105
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.0.0.1 8120
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.0.0.1 7
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.1.0.2 7
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.1.0.2 8
echo x | ip netns exec sc nc -u -p 8105 -w 1 10.1.0.2 7
