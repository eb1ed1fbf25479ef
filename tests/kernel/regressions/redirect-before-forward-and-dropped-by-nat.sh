#!/bin/sh
# ICMP redirects, which the fuzzer's worlds used to switch off: rn0 owns the bridge and forwards
# rn1's packets for rn3 (behind rn2) back out of br0. Its kernel sends rn1 a redirect before
# FORWARD (so even when FORWARD drops the packet), through its OUTPUT chain; rn1 learns rn2 as
# the gateway for 10.0.3.2 once it has a neighbour entry for rn2 (its second redirect), and
# its later packets skip rn0. Once rn0 has a nat table, a redirect about a new connection is
# dropped in nat OUTPUT (nf_nat_icmp_reply_translation: its SNAT is decided after ip_forward):
# the raw table still counts it, filter OUTPUT and rn4 never see it.
ip netns add rn0
ip netns add rn1
ip netns add rn2
ip netns add rn3
ip netns add rn4
ip -n rn0 link add br0 type bridge
ip -n rn0 link set br0 up
ip -n rn0 addr add 10.9.0.1/24 dev br0
ip -n rn0 link add d1 type veth peer name eth0 netns rn1
ip -n rn0 link add d2 type veth peer name eth0 netns rn2
ip -n rn0 link add d4 type veth peer name eth0 netns rn4
ip -n rn0 link set d1 master br0
ip -n rn0 link set d2 master br0
ip -n rn0 link set d4 master br0
ip -n rn0 link set d1 up
ip -n rn0 link set d2 up
ip -n rn0 link set d4 up
ip -n rn1 addr add 10.9.0.2/24 dev eth0
ip -n rn1 link set eth0 up
ip -n rn2 addr add 10.9.0.3/24 dev eth0
ip -n rn2 link set eth0 up
ip -n rn4 addr add 10.9.0.5/24 dev eth0
ip -n rn4 link set eth0 up
ip -n rn2 link add d3 type veth peer name eth0 netns rn3
ip -n rn2 addr add 10.0.3.1/24 dev d3
ip -n rn2 link set d3 up
ip -n rn3 addr add 10.0.3.2/24 dev eth0
ip -n rn3 link set eth0 up
ip -n rn3 route add default via 10.0.3.1
ip -n rn1 route add default via 10.9.0.1
ip -n rn4 route add default via 10.9.0.1
ip -n rn0 route add 10.0.3.0/24 via 10.9.0.3
ip netns exec rn0 sysctl -w net.ipv4.ip_forward=1
ip netns exec rn2 sysctl -w net.ipv4.ip_forward=1
ip netns exec rn0 iptables -A OUTPUT -p icmp --icmp-type redirect
ip netns exec rn0 iptables -A FORWARD -s 10.9.0.2 -j DROP
ip netns exec rn1 iptables -A INPUT -p icmp --icmp-type redirect
ip netns exec rn4 iptables -A INPUT -p icmp --icmp-type redirect
ip netns exec rn1 ping -c 1 -W 1 10.0.3.2
ip netns exec rn0 iptables -D FORWARD 1
ip netns exec rn1 ping -c 1 -W 1 10.0.3.2
sleep 1
ip netns exec rn1 ping -c 1 -W 1 10.0.3.2
ip netns exec rn0 iptables -t raw -A OUTPUT -p icmp --icmp-type redirect
ip netns exec rn0 iptables -t nat -A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE
ip netns exec rn4 ping -c 1 -W 1 10.0.3.2
sleep 1
echo x | ip netns exec rn4 nc -u -w 1 10.0.3.2 53
