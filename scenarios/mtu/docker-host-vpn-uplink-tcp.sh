#!/bin/sh
# A Docker host behind a VPN-like uplink of MTU 1400 whose firewall drops the ICMP it sends:
# an MTU black hole for TCP, then its two fixes (issue #15; every probe checked on Linux 6.18).
# The host is built as Docker builds it: a container (MTU 1500) on docker0, MASQUERADE out of
# eth0. Its uplink eth0 and the router's end of that link have MTU 1400. The container's SYN
# offers MSS 1460 and so does the server's SYN-ACK, so both sides send 1448-byte segments
# (1500-byte packets) with DF set:
# * small transfers fit one small segment and always complete;
# * an upload from the container: the host cannot forward 1500 bytes into eth0 and answers
#   "fragmentation needed, mtu 1400" through its own OUTPUT chain, where the firewall's
#   `-p icmp -j DROP` kills it: the container never learns the path MTU, its segments are
#   retransmitted unchanged, and not one byte arrives (stalled);
# * fix 1: accept ICMP 3/4 (`--icmp-type fragmentation-needed`) before the DROP: the container
#   learns the path MTU and resends at 1348;
# * fix 2: clamp the MSS of forwarded SYNs to the path MTU (mangle FORWARD): xt_TCPMSS takes the
#   smaller of the output route's MTU and the MTU of the route back to the sender, so the server's
#   SYN-ACK, on its way to docker0, is lowered to 1360 by the 1400-byte route back to the server.
ip netns add host
ip netns add ctr
ip netns add router
ip netns add server
ip -n host link set lo up
ip -n ctr link set lo up
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip -n host link add veth0 type veth peer name eth0 netns ctr
ip -n host link set veth0 master docker0
ip -n host link set veth0 up
ip -n ctr addr add 172.17.0.2/16 dev eth0
ip -n ctr link set eth0 up
ip -n ctr route add default via 172.17.0.1
ip -n host link add eth0 type veth peer name hst netns router
ip -n host link set eth0 mtu 1400
ip -n router link set hst mtu 1400
ip -n host addr add 10.0.0.2/24 dev eth0
ip -n router addr add 10.0.0.1/24 dev hst
ip -n host link set eth0 up
ip -n router link set hst up
ip -n host route add default via 10.0.0.1
ip -n server link add eth0 type veth peer name srv netns router
ip -n server addr add 10.9.0.2/24 dev eth0
ip -n server addr add 10.9.0.3/24 dev eth0
ip -n router addr add 10.9.0.1/24 dev srv
ip -n server link set eth0 up
ip -n router link set srv up
ip -n server route add default via 10.9.0.1
ip -n router route add 172.17.0.0/16 via 10.0.0.2
ip netns exec host sysctl -qw net.ipv4.ip_forward=1
ip netns exec router sysctl -qw net.ipv4.ip_forward=1
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
ip netns exec host iptables -A OUTPUT -p icmp -j DROP
ip netns exec server nc -l -k -p 9000 &

head -c 1000 /dev/zero | ip netns exec ctr nc -w 2 10.9.0.2 9000
# expect: connected complete from 10.0.0.2
head -c 20000 /dev/zero | ip netns exec ctr nc -w 2 10.9.0.2 9000
# expect: connected stalled from 10.0.0.2

# Fix 1: let "fragmentation needed" out.
ip netns exec host iptables -I OUTPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT
head -c 20000 /dev/zero | ip netns exec ctr nc -w 2 10.9.0.2 9000
# expect: connected complete via filter/OUTPUT#1
ip netns exec ctr ip route get 10.9.0.2

# Fix 2, without fix 1 (and to the server's other address, whose path MTU nobody learnt).
ip netns exec host iptables -D OUTPUT 1
ip netns exec host iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
head -c 20000 /dev/zero | ip netns exec ctr nc -w 2 10.9.0.3 9000
# expect: connected complete from 10.0.0.2
