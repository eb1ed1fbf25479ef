#!/bin/sh
# Found while modelling conntrack zones: the UDP stack's port unreachable carries no conntrack
# entry (__udp4_lib_rcv calls nf_reset_ct before icmp_send), unlike REJECT's errors, which
# nf_ct_attach attaches as RELATED. So conntrack looks the error up in OUTPUT, where raw NOTRACK
# applies to it: fb's errors are UNTRACKED and not un-DNATed, and fa's socket never hears of the
# DNATed one (lost); REJECT's error stays RELATED. simnet attached the entry to both.
ip netns add fa
ip netns add fb
ip -n fa link set lo up
ip -n fb link set lo up
ip -n fa link add eth0 type veth peer name eth0 netns fb
ip -n fa addr add 10.0.0.1/24 dev eth0
ip -n fb addr add 10.0.0.2/24 dev eth0
ip -n fa link set eth0 up
ip -n fb link set eth0 up
ip netns exec fb iptables -t raw -A OUTPUT -p icmp -j NOTRACK
ip netns exec fb iptables -A OUTPUT -m conntrack --ctstate UNTRACKED
ip netns exec fb iptables -A OUTPUT -m conntrack --ctstate RELATED
ip netns exec fb iptables -t nat -A PREROUTING -p udp --dport 5353 -j DNAT --to-destination 10.0.0.2:53
ip netns exec fb iptables -A INPUT -p tcp -j REJECT
echo x | ip netns exec fa nc -u -w 1 10.0.0.2 53
echo x | ip netns exec fa nc -u -w 1 10.0.0.2 5353
ip netns exec fa nc -z -w 1 10.0.0.2 80
