#!/bin/sh
# A router with a smaller MTU in the middle, and the path MTU the sender learns from it.
# a (10.0.1.2) reaches b (10.0.2.2) through r, whose link to b has MTU 1400 (a tunnel, a VPN, a
# cloud network). A 1500-byte datagram with DF set cannot cross it: r answers ICMP 3/4
# "fragmentation needed" with the next hop's MTU, from its own address on a's side. a remembers
# the smaller MTU for b (a next-hop exception: 'ip route get' shows it, 'ip route show' does not).
ip netns add a
ip netns add r
ip netns add b
ip -n a link set lo up
ip -n r link set lo up
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns r
ip -n r link add eth1 type veth peer name eth0 netns b
ip -n a addr add 10.0.1.2/24 dev eth0
ip -n a link set eth0 up
ip -n a route add default via 10.0.1.1
ip -n r addr add 10.0.1.1/24 dev eth0
ip -n r link set eth0 up
ip -n r addr add 10.0.2.1/24 dev eth1
ip -n r link set eth1 mtu 1400
ip -n r link set eth1 up
ip -n b addr add 10.0.2.2/24 dev eth0
ip -n b link set eth0 mtu 1400
ip -n b link set eth0 up
ip -n b route add default via 10.0.2.1
ip netns exec r sysctl -w net.ipv4.ip_forward=1

# r has no conntrack: fragments cross FORWARD one by one, and '-f' counts the second pieces.
ip netns exec r iptables -A FORWARD -f
ip netns exec r iptables -A FORWARD -p icmp

# Small pings pass.
ip netns exec a ping -c 1 -W 1 10.0.2.2
# expect: reply

# 1472 data bytes make a 1500-byte datagram; -M do sets DF. r answers "Frag needed and DF set
# (mtu = 1400)" before its FORWARD chain sees the packet.
ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2
# expect: unreachable from 10.0.1.1

# a learnt the path MTU: 'cache expires 599sec mtu 1400' (net.ipv4.route.mtu_expires, 600 s).
ip -n a route get 10.0.2.2

# Now a refuses the datagram itself: "ping: local error: message too long, mtu=1400".
ip netns exec a ping -c 1 -W 1 -s 1472 -M do 10.0.2.2
# expect: error EMSGSIZE

# ping's default (-M want) fragments to the learnt MTU instead: 1396 + 124 bytes each way (b's
# own link is 1400 too), and b reassembles before its INPUT chain.
ip netns exec a ping -c 1 -W 1 -s 1472 10.0.2.2
# expect: reply
ip netns exec r iptables -L FORWARD -v -n -x
