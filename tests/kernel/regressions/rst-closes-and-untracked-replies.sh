#!/bin/sh
# Found by the differential fuzzer. A REJECT --reject-with tcp-reset also sets its segment's
# (confirmed) entry to CLOSE (nf_send_reset -> nf_ct_set_closing, Linux 6.2+): fk1 rejects its
# own SYN-ACK and lists the connection as CLOSE, not SYN_RECV. And when a connection's replies
# go untracked (CT --notrack in raw PREROUTING), the client's abort RST cannot be checked
# against a window conntrack never saw: it is INVALID, and fk0's entry stays SYN_SENT.
ip netns add fk0
ip netns add fk1
ip -n fk0 link set lo up
ip -n fk1 link set lo up
ip -n fk0 link add eth0 type veth peer name eth0 netns fk1
ip -n fk0 addr add 10.0.0.1/24 dev eth0
ip -n fk1 addr add 10.0.0.2/24 dev eth0
ip -n fk0 link set eth0 up
ip -n fk1 link set eth0 up
ip netns exec fk1 sysctl -w net.ipv4.tcp_synack_retries=0
ip netns exec fk1 nc -l -k 80 &
ip netns exec fk1 nc -l -k 8080 &
ip netns exec fk1 iptables -A OUTPUT -p tcp --sport 80 -m state --state ESTABLISHED -j REJECT --reject-with tcp-reset
ip netns exec fk0 iptables -t raw -A PREROUTING -p tcp --sport 8080 -j CT --notrack
ip netns exec fk0 iptables -A INPUT -p tcp -m conntrack --ctstate NEW
ip netns exec fk0 nc -z -w 1 10.0.0.2 80
ip netns exec fk0 nc -z -w 1 10.0.0.2 8080
