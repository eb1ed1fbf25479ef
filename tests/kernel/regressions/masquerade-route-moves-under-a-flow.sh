#!/bin/sh
# Issue #13.1, seen on Linux 6.18: a flow MASQUERADEd out of eth1 (source 10.1.0.1) whose route
# moves to eth2. Its next packet meets nf_nat_inet_fn -> nf_nat_oif_changed at POSTROUTING: dropped
# ("lost"), the entry killed; the packet after it is a new connection masqueraded to 10.2.0.1.
# simnet kept the flow on the old address.
ip netns add mc
ip netns add mr
ip netns add ms
ip -n mc link set lo up
ip -n mr link set lo up
ip -n ms link set lo up
ip -n mr link add d0 type veth peer name eth0 netns mc
ip -n mr link add eth1 type veth peer name eth1 netns ms
ip -n mr link add eth2 type veth peer name eth2 netns ms
ip -n mr addr add 10.0.0.1/24 dev d0
ip -n mc addr add 10.0.0.2/24 dev eth0
ip -n mr addr add 10.1.0.1/24 dev eth1
ip -n ms addr add 10.1.0.2/24 dev eth1
ip -n mr addr add 10.2.0.1/24 dev eth2
ip -n ms addr add 10.2.0.2/24 dev eth2
ip -n ms addr add 10.9.9.9/32 dev lo
ip -n mr link set d0 up
ip -n mr link set eth1 up
ip -n mr link set eth2 up
ip -n mc link set eth0 up
ip -n ms link set eth1 up
ip -n ms link set eth2 up
ip -n mc route add default via 10.0.0.1
ip -n mr route add 10.9.9.9 via 10.1.0.2
ip netns exec mr sysctl -w net.ipv4.ip_forward=1
ip netns exec mr iptables -t nat -A POSTROUTING ! -o d0 -j MASQUERADE
ip netns exec mr iptables -A FORWARD -i d0
ip netns exec ms nc -u -l -k -p 7 &
echo x | ip netns exec mc nc -u -p 4000 -w 1 10.9.9.9 7
ip -n mr route replace 10.9.9.9 via 10.2.0.2
echo x | ip netns exec mc nc -u -p 4000 -w 1 10.9.9.9 7
echo x | ip netns exec mc nc -u -p 4000 -w 1 10.9.9.9 7
