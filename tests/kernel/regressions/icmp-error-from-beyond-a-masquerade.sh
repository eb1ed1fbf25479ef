#!/bin/sh
# Found by the differential fuzzer: fm0's datagram leaves the router fm1 MASQUERADEd and is
# answered by a port-unreachable from fm2. The error quotes the translated datagram, whose
# *inverse* is the router's reply tuple: nf_conntrack_inet_error looks the entry up that way,
# un-NATs the error and its quote, and fm0's socket gets ECONNREFUSED. simnet looked the quote
# up as it was, found nothing on the router, and the error died there ("lost").
ip netns add fm0
ip netns add fm1
ip netns add fm2
ip -n fm0 link set lo up
ip -n fm1 link set lo up
ip -n fm2 link set lo up
ip -n fm1 link add d0 type veth peer name eth0 netns fm0
ip -n fm1 link add eth0 type veth peer name eth0 netns fm2
ip -n fm1 addr add 10.0.2.1/24 dev d0
ip -n fm1 addr add 10.0.1.2/24 dev eth0
ip -n fm0 addr add 10.0.2.2/24 dev eth0
ip -n fm2 addr add 10.0.1.1/24 dev eth0
ip -n fm1 link set d0 up
ip -n fm1 link set eth0 up
ip -n fm0 link set eth0 up
ip -n fm2 link set eth0 up
ip -n fm0 route add default via 10.0.2.1
ip netns exec fm1 sysctl -w net.ipv4.ip_forward=1
ip netns exec fm1 iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
ip netns exec fm2 iptables -A INPUT -p icmp --icmp-type echo-request -j REJECT --reject-with icmp-host-prohibited
echo x | ip netns exec fm0 nc -u -w 1 10.0.1.1 7
ip netns exec fm0 nc -z -w 1 10.0.1.1 7
ip netns exec fm0 ping -c 1 -W 1 10.0.1.1
