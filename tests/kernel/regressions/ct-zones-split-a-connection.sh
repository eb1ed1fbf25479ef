#!/bin/sh
# Conntrack zones split a connection where its answer travels in another zone. fz0 DNATs fz1's
# traffic for its own address 10.0.1.1 to fz2, and puts what arrives on d1 in zone 5 (raw CT);
# the answers from fz2 arrive on d2 without a CT rule, in the default zone. With --zone 5 the
# entry's reply tuple is keyed by zone 5, so the SYN-ACK is not found: INVALID, dropped by the
# FORWARD rule (nc times out), and fz2's port unreachable is not found either: it goes on
# un-DNATed and fz1's socket never hears of it (lost). With --zone-orig 5 the reply tuple stays in
# the default zone: connected, and ECONNREFUSED from 10.0.1.1. --zone mark takes zone 5 from the
# mark 0x50005 (16 bits). conntrack -L prints zone=5, zone-orig=5 where conntrack-tools does.
# simnet ignored zones (and dropped zone= from the comparison) until they were modelled.
ip netns add fz0
ip netns add fz1
ip netns add fz2
ip netns exec fz0 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.tcp_synack_retries=0
ip netns exec fz1 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.tcp_synack_retries=0
ip netns exec fz2 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.tcp_synack_retries=0
ip -n fz0 link set lo up
ip -n fz1 link set lo up
ip -n fz2 link set lo up
ip -n fz0 link add d1 type veth peer name eth0 netns fz1
ip -n fz0 link add d2 type veth peer name eth0 netns fz2
ip -n fz0 addr add 10.0.1.1/24 dev d1
ip -n fz0 addr add 10.0.2.1/24 dev d2
ip -n fz1 addr add 10.0.1.2/24 dev eth0
ip -n fz2 addr add 10.0.2.2/24 dev eth0
ip -n fz0 link set d1 up
ip -n fz0 link set d2 up
ip -n fz1 link set eth0 up
ip -n fz2 link set eth0 up
ip -n fz1 route add default via 10.0.1.1
ip -n fz2 route add default via 10.0.2.1
ip netns exec fz0 sysctl -w net.ipv4.ip_forward=1
ip netns exec fz0 iptables -t raw -A PREROUTING -i d1 -p tcp --dport 80 -j CT --zone 5
ip netns exec fz0 iptables -t raw -A PREROUTING -i d1 -p tcp --dport 8080 -j CT --zone-orig 5
ip netns exec fz0 iptables -t raw -A PREROUTING -i d1 -p udp --dport 53 -j CT --zone 5
ip netns exec fz0 iptables -t raw -A PREROUTING -i d1 -p udp --dport 5353 -j CT --zone-orig 5
ip netns exec fz0 iptables -t raw -A PREROUTING -i d1 -p icmp -j MARK --set-mark 0x50005
ip netns exec fz0 iptables -t raw -A PREROUTING -i d1 -p icmp -j CT --zone mark
ip netns exec fz0 iptables -t nat -A PREROUTING -d 10.0.1.1 -p tcp -j DNAT --to-destination 10.0.2.2
ip netns exec fz0 iptables -t nat -A PREROUTING -d 10.0.1.1 -p udp -j DNAT --to-destination 10.0.2.2
ip netns exec fz0 iptables -A FORWARD -i d2 -p tcp --sport 80 -m conntrack --ctstate INVALID -j DROP
ip netns exec fz2 nc -l -k 80 &
ip netns exec fz2 nc -l -k 8080 &
ip netns exec fz1 nc -z -w 1 10.0.1.1 80
ip netns exec fz1 nc -z -w 1 10.0.1.1 8080
echo x | ip netns exec fz1 nc -u -w 1 10.0.1.1 53
echo x | ip netns exec fz1 nc -u -w 1 10.0.1.1 5353
ip netns exec fz1 ping -c 1 -W 1 10.0.2.2
