#!/bin/sh
# A client's abort (SO_LINGER 0 close) sends RST with ACK set (tcp_send_active_reset), so an OUTPUT
# rule matching --tcp-flags SYN,ACK ACK counts the handshake's ACK and the RST: 2 (simnet sent a bare
# RST and counted 1). Found by the fuzzer (a world of the suite's fixed sample).
ip netns add a
ip netns add b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.9.0.1/24 dev eth0
ip -n b addr add 10.9.0.3/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip netns exec a iptables -A OUTPUT -p tcp --tcp-flags SYN,ACK ACK -j LOG
ip netns exec a iptables -A OUTPUT -p tcp --tcp-flags RST,ACK RST,ACK
ip netns exec b nc -l -k 8080 &
ip netns exec a nc -z -w 1 10.9.0.3 8080
# expect: connected via filter/OUTPUT#2
