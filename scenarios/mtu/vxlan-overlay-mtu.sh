#!/bin/sh
# An overlay whose containers keep MTU 1500: small packets pass, large ones vanish.
# Two hosts h1 and h2 (LAN MTU 1500) join their container bridges with a VXLAN port (VNI 42).
# VXLAN adds 50 bytes (outer IP, UDP, VXLAN and inner Ethernet headers), so vxlan0 takes the
# lower device's MTU less 50: 1450, and each bridge follows its smallest port. The containers'
# eth0 still say 1500: they send 1500-byte frames the bridge cannot put on vxlan0, and no ICMP
# tells them (a bridge does not route: it drops them silently).
ip netns add h1
ip netns add h2
ip netns add c1
ip netns add c2
ip -n h1 link set lo up
ip -n h2 link set lo up
ip -n c1 link set lo up
ip -n c2 link set lo up

ip -n h1 link add eth0 type veth peer name eth0 netns h2
ip -n h1 addr add 192.168.1.1/24 dev eth0
ip -n h2 addr add 192.168.1.2/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 link set eth0 up

ip -n h1 link add br0 type bridge
ip -n h1 link set br0 up
ip -n h2 link add br0 type bridge
ip -n h2 link set br0 up

ip -n h1 link add vxlan0 type vxlan id 42 local 192.168.1.1 remote 192.168.1.2 dev eth0 dstport 4789 srcport 4789 4790
ip -n h1 link set vxlan0 master br0
ip -n h1 link set vxlan0 up
ip -n h2 link add vxlan0 type vxlan id 42 local 192.168.1.2 remote 192.168.1.1 dev eth0 dstport 4789 srcport 4790 4791
ip -n h2 link set vxlan0 master br0
ip -n h2 link set vxlan0 up
ip -n h1 link show vxlan0

ip -n h1 link add veth1 type veth peer name eth0 netns c1
ip -n h1 link set veth1 master br0
ip -n h1 link set veth1 up
ip -n c1 addr add 10.0.0.2/24 dev eth0
ip -n c1 link set eth0 up
ip -n h2 link add veth1 type veth peer name eth0 netns c2
ip -n h2 link set veth1 master br0
ip -n h2 link set veth1 up
ip -n c2 addr add 10.0.0.3/24 dev eth0
ip -n c2 link set eth0 up

# Small pings pass the overlay.
ip netns exec c1 ping -c 1 -W 1 10.0.0.3
# expect: reply

# 1472 data bytes: a 1500-byte datagram with DF (it fits c1's own MTU). h1's bridge drops it at
# vxlan0: a timeout, not an error.
ip netns exec c1 ping -c 1 -W 1 -s 1472 -M do 10.0.0.3
# expect: timeout
ip netns exec c1 ping -c 1 -W 1 -s 1472 10.0.0.3
# expect: timeout

# 1422 data bytes (1450 in all) still fit.
ip netns exec c1 ping -c 1 -W 1 -s 1422 -M do 10.0.0.3
# expect: reply

# The fix: give the containers the overlay's MTU.
ip -n c1 link set eth0 mtu 1450
ip -n c2 link set eth0 mtu 1450

# Now c1 itself refuses a DF datagram that cannot fit ("message too long, mtu=1450")...
ip netns exec c1 ping -c 1 -W 1 -s 1472 -M do 10.0.0.3
# expect: error EMSGSIZE

# ...and ping's default fragments it: 1444 + 76 bytes, both fit vxlan0, c2 reassembles.
ip netns exec c1 ping -c 1 -W 1 -s 1472 10.0.0.3
# expect: reply
