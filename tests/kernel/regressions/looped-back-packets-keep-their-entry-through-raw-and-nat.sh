#!/bin/sh
# Found by the differential fuzzer. A looped-back packet already carries its conntrack entry,
# and the raw table's NOTRACK leaves it alone ("Previously seen (loopback)? Ignore."): fl0's
# ping to itself is tracked, its echo reply is ESTABLISHED in INPUT. And a REJECT's RST
# carries its SYN's entry as RELATED, so nf_nat runs the nat chain for it where the SYN never
# got a binding (the SYN died in filter OUTPUT, before nat POSTROUTING): its policy counts.
ip netns add fl0
ip netns add fl1
ip -n fl0 link set lo up
ip -n fl1 link set lo up
ip -n fl0 link add eth0 type veth peer name eth0 netns fl1
ip -n fl0 addr add 10.0.0.1/24 dev eth0
ip -n fl1 addr add 10.0.0.2/24 dev eth0
ip -n fl0 link set eth0 up
ip -n fl1 link set eth0 up
ip netns exec fl0 iptables -t raw -A PREROUTING -p icmp -j NOTRACK
ip netns exec fl0 iptables -A INPUT -m conntrack --ctstate ESTABLISHED
ip netns exec fl0 iptables -A INPUT -m conntrack --ctstate UNTRACKED
ip netns exec fl0 iptables -A OUTPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset
ip netns exec fl0 iptables -t nat -A OUTPUT -p udp --dport 53 -j REDIRECT --to-ports 5353
ip netns exec fl0 ping -c 1 -W 1 10.0.0.1
ip netns exec fl0 ping -c 1 -W 1 10.0.0.2
ip netns exec fl0 nc -z -w 1 10.0.0.2 80
