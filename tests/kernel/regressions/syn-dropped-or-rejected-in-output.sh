#!/bin/sh
# Found by the differential fuzzer: a SYN that netfilter drops in the sender's own OUTPUT does
# not fail connect() (tcp_connect ignores tcp_transmit_skb's EPERM): the timer retransmits it
# and nc times out. simnet reported EPERM at once. A REJECT there answers the sender itself:
# an ICMP error refuses the connect at once, and so does a RST, unless the rule drops the RST
# too. ping and UDP sends do fail with EPERM, beside the REJECT's ICMP error.
ip netns add fo0
ip netns add fo1
ip -n fo0 link set lo up
ip -n fo1 link set lo up
ip -n fo0 link add eth0 type veth peer name eth0 netns fo1
ip -n fo0 addr add 10.0.0.1/24 dev eth0
ip -n fo1 addr add 10.0.0.2/24 dev eth0
ip -n fo0 link set eth0 up
ip -n fo1 link set eth0 up
ip netns exec fo1 nc -l -k 80 &
ip netns exec fo0 iptables -A OUTPUT -p tcp --dport 84 -j DROP
ip netns exec fo0 iptables -A OUTPUT -p tcp --dport 81 -j REJECT
ip netns exec fo0 iptables -A OUTPUT -p tcp --dport 82 -j REJECT --reject-with tcp-reset
ip netns exec fo0 iptables -A OUTPUT -p tcp -m multiport --ports 83 -j REJECT --reject-with tcp-reset
ip netns exec fo0 iptables -A OUTPUT -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited
ip netns exec fo0 iptables -A OUTPUT -p icmp -d 10.0.0.9 -j REJECT --reject-with icmp-net-prohibited
ip netns exec fo0 nc -z -w 1 10.0.0.2 80
ip netns exec fo0 nc -z -w 3 10.0.0.2 84
ip netns exec fo0 nc -z -w 1 10.0.0.2 81
ip netns exec fo0 nc -z -w 1 10.0.0.2 82
ip netns exec fo0 nc -z -w 1 10.0.0.2 83
echo x | ip netns exec fo0 nc -u -w 1 10.0.0.2 53
ip netns exec fo0 ping -c 1 -W 1 10.0.0.9
