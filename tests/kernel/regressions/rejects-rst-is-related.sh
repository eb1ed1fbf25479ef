#!/bin/sh
# Found by the differential fuzzer: REJECT --reject-with tcp-reset attaches the segment's
# conntrack entry to its RST as RELATED (nf_conntrack_attach: IP_CT_RELATED_REPLY), not as
# ESTABLISHED: rules see the RST as RELATED, and a SYN REJECTed in its own OUTPUT leaves no
# entry (never confirmed). simnet attached it as ESTABLISHED, counted the wrong rules and
# listed a SYN_SENT entry.
ip netns add fr0
ip netns add fr1
ip -n fr0 link set lo up
ip -n fr1 link set lo up
ip -n fr0 link add eth0 type veth peer name eth0 netns fr1
ip -n fr0 addr add 10.0.0.1/24 dev eth0
ip -n fr1 addr add 10.0.0.2/24 dev eth0
ip -n fr0 link set eth0 up
ip -n fr1 link set eth0 up
ip netns exec fr0 iptables -A INPUT -m state --state NEW,ESTABLISHED
ip netns exec fr0 iptables -A INPUT -m conntrack --ctstate RELATED
ip netns exec fr0 iptables -A OUTPUT -p tcp --dport 9 -j REJECT --reject-with tcp-reset
ip netns exec fr1 iptables -A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset
ip netns exec fr1 iptables -A OUTPUT -m conntrack --ctstate ESTABLISHED
ip netns exec fr1 iptables -A OUTPUT -m conntrack --ctstate RELATED
ip netns exec fr0 nc -z -w 1 10.0.0.1 9
ip netns exec fr0 nc -z -w 1 10.0.0.2 80
