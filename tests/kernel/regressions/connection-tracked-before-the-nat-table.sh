#!/bin/sh
# Issue #13.2, seen on Linux 6.18: a UDP flow tracked before any nat table existed (the NAT hooks
# are registered with the first nat table). While unreplied its packets are IP_CT_NEW and, NAT never
# having been initialised for it, run the nat PREROUTING/POSTROUTING chains (counted), but
# nf_nat_setup_info sets nothing up for a confirmed entry: no DNAT, no SNAT. A new flow (sport 4001)
# is mapped. simnet never consulted nat for the old flow.
ip netns add pc
ip netns add pr
ip netns add ps
ip -n pc link set lo up
ip -n pr link set lo up
ip -n ps link set lo up
ip -n pr link add d0 type veth peer name eth0 netns pc
ip -n pr link add eth1 type veth peer name eth0 netns ps
ip -n pr addr add 10.0.0.1/24 dev d0
ip -n pc addr add 10.0.0.2/24 dev eth0
ip -n pr addr add 10.1.0.1/24 dev eth1
ip -n ps addr add 10.1.0.2/24 dev eth0
ip -n ps addr add 10.1.0.3/24 dev eth0
ip -n pr link set d0 up
ip -n pr link set eth1 up
ip -n pc link set eth0 up
ip -n ps link set eth0 up
ip -n pc route add default via 10.0.0.1
ip netns exec pr sysctl -w net.ipv4.ip_forward=1
ip netns exec pr iptables -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED
ip netns exec ps nc -u -l -k -p 7 &
ip netns exec ps nc -u -l -k -p 8 &
echo x | ip netns exec pc nc -u -p 4000 -w 1 10.1.0.2 7
ip netns exec pr iptables -t nat -A PREROUTING -p udp -j DNAT --to-destination 10.1.0.3:8
ip netns exec pr iptables -t nat -A POSTROUTING -p udp -j SNAT --to-source 10.1.0.1:5000
ip netns exec pr iptables -t nat -A INPUT -p udp
ip netns exec pr iptables -t nat -A OUTPUT -p udp
echo x | ip netns exec pc nc -u -p 4000 -w 1 10.1.0.2 7
echo x | ip netns exec pc nc -u -p 4000 -w 1 10.1.0.2 7
echo x | ip netns exec pc nc -u -p 4001 -w 1 10.1.0.2 7
