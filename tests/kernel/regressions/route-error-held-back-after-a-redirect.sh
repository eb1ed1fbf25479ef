#!/bin/sh
# Found by the differential fuzzer once redirects stayed on: s4n0 owns the bridge and routes
# 10.0.4.0/24 via s4n2, which sends it back (default via s4n0): every loop through s4n0 goes out
# of br0, where it came in, so s4n0 redirects s4n1 (each probe 0.5 s apart). Two things simnet
# had wrong: nc reports a time-exceeded like an unreachable ("No route to host"), not as
# ttl-exceeded (ping does); and a route error (s4n0 has no route to 10.0.3.0/24) is held back
# for s4n1, because the redirect 0.5 s before set the peer's rate_last and ip_error's token
# bucket (1 s per error) refills only from there.
ip netns add s4n0
ip netns add s4n1
ip netns add s4n2
ip netns add s4n3
ip netns add s4n4
ip netns exec s4n0 sysctl -q -w net.ipv4.tcp_synack_retries=0
ip -n s4n0 link set lo up
ip netns exec s4n1 sysctl -q -w net.ipv4.tcp_synack_retries=0
ip -n s4n1 link set lo up
ip netns exec s4n2 sysctl -q -w net.ipv4.tcp_synack_retries=0
ip -n s4n2 link set lo up
ip netns exec s4n3 sysctl -q -w net.ipv4.tcp_synack_retries=0
ip -n s4n3 link set lo up
ip netns exec s4n4 sysctl -q -w net.ipv4.tcp_synack_retries=0
ip -n s4n4 link set lo up
ip -n s4n0 link add br0 type bridge
ip -n s4n0 link set br0 up
ip -n s4n0 addr add 10.9.0.1/24 dev br0
ip -n s4n0 link add d1 type veth peer name eth0 netns s4n1
ip -n s4n0 link set d1 master br0
ip -n s4n0 link set d1 up
ip -n s4n1 addr add 10.9.0.2/24 dev eth0
ip -n s4n1 link set eth0 up
ip -n s4n0 link add d2 type veth peer name eth0 netns s4n2
ip -n s4n0 link set d2 master br0
ip -n s4n0 link set d2 up
ip -n s4n2 addr add 10.9.0.3/24 dev eth0
ip -n s4n2 link set eth0 up
ip -n s4n2 link add d3 type veth peer name eth0 netns s4n3
ip -n s4n2 addr add 10.0.3.1/24 dev d3
ip -n s4n2 link set d3 up
ip -n s4n3 addr add 10.0.3.2/24 dev eth0
ip -n s4n3 link set eth0 up
ip -n s4n3 link add d4 type veth peer name eth0 netns s4n4
ip -n s4n3 addr add 10.0.4.1/24 dev d4
ip -n s4n3 link set d4 up
ip -n s4n4 addr add 10.0.4.2/24 dev eth0
ip -n s4n4 link set eth0 up
ip -n s4n0 route add 10.0.4.0/24 via 10.9.0.3
ip netns exec s4n0 sysctl -w net.ipv4.ip_forward=1
ip -n s4n1 route add default via 10.9.0.1
ip netns exec s4n1 sysctl -w net.ipv4.ip_forward=1
ip -n s4n2 route add default via 10.9.0.1
ip netns exec s4n2 sysctl -w net.ipv4.ip_forward=1
ip -n s4n3 route add default via 10.0.3.1
ip netns exec s4n3 sysctl -w net.ipv4.ip_forward=1
ip netns exec s4n4 sysctl -w net.ipv4.ip_forward=1
ip netns exec s4n0 iptables -N U
ip netns exec s4n0 iptables -A U -p udp --dport 5353 -j DROP
ip netns exec s4n0 iptables -A U -p tcp --dport 9 -j DROP
ip netns exec s4n0 iptables -A INPUT -p icmp -j U
ip netns exec s4n0 iptables -A INPUT -m iprange --src-range 10.0.3.1-10.0.4.2 -j ACCEPT
ip netns exec s4n0 iptables -A INPUT -p udp -j DROP
ip netns exec s4n0 iptables -A FORWARD -p icmp -m state --state NEW -j U
ip netns exec s4n0 iptables -A OUTPUT -p icmp -j ACCEPT
ip netns exec s4n0 iptables -A OUTPUT -m iprange --src-range 10.0.3.2-10.0.4.1 -j DROP
ip netns exec s4n1 iptables -N U
ip netns exec s4n1 iptables -A U -p tcp --dport 80 -m iprange --src-range 10.0.3.1-10.0.4.1 -j ACCEPT
ip netns exec s4n1 iptables -A FORWARD -p udp -j U
ip netns exec s4n1 iptables -A FORWARD -p icmp -m state --state NEW -j DROP
ip netns exec s4n1 iptables -A FORWARD -p icmp -j DROP
ip netns exec s4n1 iptables -P FORWARD DROP
ip netns exec s4n1 iptables -A OUTPUT -p icmp -m addrtype --dst-type BROADCAST -j LOG
ip netns exec s4n1 iptables -A OUTPUT -p icmp --icmp-type destination-unreachable -j LOG
ip netns exec s4n1 iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
ip netns exec s4n1 iptables -t nat -A PREROUTING -p udp --dport 53 -j DNAT --to-destination 10.9.0.3:5353
ip netns exec s4n2 iptables -t raw -A PREROUTING -p icmp -j CT --zone-reply 5
ip netns exec s4n2 iptables -N U
ip netns exec s4n2 iptables -A U -p icmp -j ACCEPT
ip netns exec s4n2 iptables -A OUTPUT -p tcp -j U
ip netns exec s4n2 iptables -A INPUT -p tcp -j ACCEPT
ip netns exec s4n2 iptables -A FORWARD -p udp -m state --state NEW -j DROP
ip netns exec s4n2 iptables -A OUTPUT -p udp -d 10.0.4.0/24 -j ACCEPT
ip netns exec s4n3 iptables -A FORWARD -p udp --dport 53 -d 10.0.4.0/24 -j REJECT --reject-with icmp-host-unreachable
ip netns exec s4n3 iptables -A FORWARD -m state --state ESTABLISHED -j LOG
ip netns exec s4n3 iptables -A OUTPUT -m mark --mark 0x2/0x2 -j REJECT --reject-with icmp-port-unreachable
ip netns exec s4n3 iptables -t nat -A OUTPUT -p udp --dport 7 -j REDIRECT --to-ports 5353
ip netns exec s4n4 iptables -t raw -A OUTPUT -p icmp -j CT --zone 5
ip netns exec s4n0 nc -l -k 8080 &
ip netns exec s4n0 nc -l -k 80 &
ip netns exec s4n1 nc -l -k 8080 &
ip netns exec s4n1 nc -l -k 80 &
ip netns exec s4n1 nc -u -l 5353 &
ip netns exec s4n2 nc -u -l 53 &
ip netns exec s4n3 nc -l -k 80 &
ip netns exec s4n3 nc -l -k 8080 &
ip netns exec s4n3 nc -u -l 53 &
ip netns exec s4n3 nc -u -l 5353 &
ip netns exec s4n4 nc -l -k 8080 &
ip netns exec s4n4 nc -l -k 80 &
ip netns exec s4n4 nc -u -l 53 &
ip netns exec s4n4 nc -u -l 5353 &
ip netns exec s4n1 ping -c 1 -W 1 10.0.4.2
sleep 0.5
echo x | ip netns exec s4n4 nc -u -w 1 10.9.0.3 7
sleep 0.5
ip netns exec s4n1 nc -z -w 1 10.0.4.2 9
sleep 0.5
ip netns exec s4n1 nc -z -w 1 10.0.3.1 8080
