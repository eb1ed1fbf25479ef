#!/bin/sh
# Seen on Linux 6.18: DNAT to a port range 9100-9110 (no shift). dport 8105 is out of the range and maps
# to its first port, 9100; dport 9105 is in the range and stays 9105 (get_unique_tuple keeps a port in
# range when the tuple is free). simnet mapped every port to 9100, so the second flow clashed with the
# first reply tuple and was dropped.
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
ip netns exec sr iptables -t nat -A PREROUTING -p udp -d 10.0.0.1 -j DNAT --to-destination 10.1.0.2:9100-9110
ip netns exec sr iptables -t nat -A POSTROUTING -p udp --dport 7 -j SNAT --to-source 10.1.0.1:9100-9110/8100
ip netns exec sr iptables -t nat -A POSTROUTING -p udp --dport 8 -j MASQUERADE --to-ports 9100-9110/8100
ip netns exec ss nc -u -l -k -p 9101 &
ip netns exec ss nc -u -l -k -p 9105 &
ip netns exec ss nc -u -l -k -p 9109 &
ip netns exec ss nc -u -l -k -p 7 &
ip netns exec ss nc -u -l -k -p 8 &
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.0.0.1 8105
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.0.0.1 9105
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.0.0.1 7
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.1.0.2 7
echo x | ip netns exec sc nc -u -p 4000 -w 1 10.1.0.2 8
echo x | ip netns exec sc nc -u -p 8105 -w 1 10.1.0.2 7
