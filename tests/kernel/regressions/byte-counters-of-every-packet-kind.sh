#!/bin/sh
# Every packet kind simnet sends, counted in bytes by iptables (Linux 6.18 measured: SYN and SYN-ACK
# 60 with MSS, SACK-permitted, timestamps and window scale; ACK and the abort RST|ACK 52 with
# timestamps; a closed port's or REJECT's RST 40; echo 28 + -s; UDP 28 + data; an ICMP error
# quotes the whole datagram up to 576 bytes). simnet counted a SYN as 40 and every ICMP error as 56.
# c turns timestamps and window scaling off (a 48-byte SYN: MSS, NOP NOP SACK-permitted; b answers
# with the same, and the ACK and RST carry no timestamps: 40); r forwards and sends a time-exceeded.
# --tcp-option N finds the option kinds on each segment (NOP 1 included); simnet never matched.
ip netns add a
ip netns add b
ip netns add r
ip netns add c
ip -n a link set lo up
ip -n b link set lo up
ip -n r link set lo up
ip -n c link set lo up
ip -n a link add eth0 type veth peer name ra netns r
ip -n b link add eth0 type veth peer name rb netns r
ip -n c link add eth0 type veth peer name rc netns r
ip -n a addr add 10.1.0.2/24 dev eth0
ip -n b addr add 10.2.0.2/24 dev eth0
ip -n c addr add 10.3.0.2/24 dev eth0
ip -n r addr add 10.1.0.1/24 dev ra
ip -n r addr add 10.2.0.1/24 dev rb
ip -n r addr add 10.3.0.1/24 dev rc
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n c link set eth0 up
ip -n r link set ra up
ip -n r link set rb up
ip -n r link set rc up
ip -n a route add default via 10.1.0.1
ip -n b route add default via 10.2.0.1
ip -n c route add default via 10.3.0.1
ip netns exec r sysctl -q -w net.ipv4.ip_forward=1
ip netns exec c sysctl -q -w net.ipv4.tcp_timestamps=0 net.ipv4.tcp_window_scaling=0
ip netns exec r iptables -A FORWARD -p tcp --tcp-flags ALL SYN
ip netns exec r iptables -A FORWARD -p tcp --tcp-flags ALL SYN,ACK
ip netns exec r iptables -A FORWARD -p tcp --tcp-flags ALL ACK
ip netns exec r iptables -A FORWARD -p tcp --tcp-flags ALL RST,ACK
ip netns exec r iptables -A FORWARD -p tcp --tcp-flags ALL RST
ip netns exec r iptables -A FORWARD -p icmp --icmp-type echo-request
ip netns exec r iptables -A FORWARD -p icmp --icmp-type echo-reply
ip netns exec r iptables -A FORWARD -p icmp --icmp-type destination-unreachable
ip netns exec r iptables -A FORWARD -p udp
ip netns exec r iptables -A FORWARD -p tcp --tcp-option 8
ip netns exec r iptables -A FORWARD -p tcp --tcp-option 3
ip netns exec r iptables -A FORWARD -p tcp ! --tcp-option 4
ip netns exec r iptables -A FORWARD -p tcp --tcp-option 1
ip netns exec r iptables -A OUTPUT -p icmp
ip netns exec r iptables -A INPUT -p icmp
ip netns exec b iptables -A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset
ip netns exec b iptables -A INPUT -p udp --dport 54 -j REJECT
ip netns exec b iptables -A INPUT -p icmp --icmp-type echo-request -m length --length 1000:1500 -j REJECT --reject-with icmp-host-prohibited
ip netns exec b nc -l -k -p 80 &
ip netns exec b nc -u -l -k -p 53 &
ip netns exec a nc -z -w 1 10.2.0.2 80
# expect: connected
ip netns exec c nc -z -w 1 10.2.0.2 80
# expect: connected
ip netns exec a nc -z -w 1 10.2.0.2 81
# expect: refused
ip netns exec a nc -z -w 1 10.2.0.2 82
# expect: refused
ip netns exec a ping -c 1 -W 1 10.2.0.2
# expect: reply
ip netns exec a ping -c 1 -W 1 -s 0 10.2.0.2
# expect: reply
ip netns exec a ping -c 2 -i 0.5 -W 1 -s 700 10.2.0.2
# expect: reply
ip netns exec a ping -c 1 -W 1 -s 1400 10.2.0.2
# expect: unreachable
ip netns exec a ping -c 1 -W 1 -t 1 -s 300 10.2.0.2
# expect: ttl-exceeded
ip netns exec a ping -c 1 -W 1 10.1.0.1
# expect: reply
echo hello | ip netns exec a nc -u -w 1 10.2.0.2 53
# expect: delivered
echo hello | ip netns exec a nc -u -w 1 10.2.0.2 54
# expect: unreachable
echo x | ip netns exec a nc -u -w 1 10.2.0.2 55
# expect: unreachable
ip netns exec r iptables-save -c
