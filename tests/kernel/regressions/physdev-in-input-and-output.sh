#!/bin/sh
# Issue #13.3, seen on Linux 6.18 with br_netfilter: a packet that reached the local stack through
# the bridge port vb keeps its nf_bridge_info, so in INPUT --physdev-in vb, --physdev-is-in,
# ! --physdev-is-bridged and ! --physdev-is-out match, and neither --physdev-out vb nor
# ! --physdev-out vb does (no out port). The bridge's own packets (OUTPUT) carry none: only
# inverted tests match. simnet treated the INPUT packet as never bridged.
ip netns add xb
ip netns add xh
ip -n xb link set lo up
ip -n xh link set lo up
ip -n xb link add br0 type bridge
ip -n xb link add vb type veth peer name eth0 netns xh
ip -n xb link set vb master br0
ip -n xb addr add 10.5.0.1/24 dev br0
ip -n xh addr add 10.5.0.2/24 dev eth0
ip -n xb link set br0 up
ip -n xb link set vb up
ip -n xh link set eth0 up
ip netns exec xb sysctl -w net.bridge.bridge-nf-call-iptables=1
ip netns exec xb iptables -A INPUT -p icmp -m physdev --physdev-in vb
ip netns exec xb iptables -A INPUT -p icmp -m physdev --physdev-in vx
ip netns exec xb iptables -A INPUT -p icmp -m physdev ! --physdev-in vb
ip netns exec xb iptables -A INPUT -p icmp -m physdev --physdev-is-in
ip netns exec xb iptables -A INPUT -p icmp -m physdev ! --physdev-is-in
ip netns exec xb iptables -A INPUT -p icmp -m physdev --physdev-is-bridged
ip netns exec xb iptables -A INPUT -p icmp -m physdev ! --physdev-is-bridged
ip netns exec xb iptables -A INPUT -p icmp -m physdev --physdev-is-out
ip netns exec xb iptables -A INPUT -p icmp -m physdev ! --physdev-is-out
ip netns exec xb iptables -A INPUT -p icmp -m physdev --physdev-out vb
ip netns exec xb iptables -A INPUT -p icmp -m physdev ! --physdev-out vb
ip netns exec xb iptables -A INPUT -p icmp -m physdev --physdev-in vb --physdev-is-bridged
ip netns exec xb iptables -A OUTPUT -p icmp -m physdev --physdev-is-in
ip netns exec xb iptables -A OUTPUT -p icmp -m physdev ! --physdev-is-in
ip netns exec xb iptables -A OUTPUT -p icmp -m physdev ! --physdev-in vb
ip netns exec xb iptables -A OUTPUT -p icmp -m physdev ! --physdev-is-bridged
ip netns exec xb iptables -t mangle -A POSTROUTING -p icmp -m physdev --physdev-is-in
ip netns exec xb iptables -t mangle -A POSTROUTING -p icmp -m physdev ! --physdev-is-in
ip netns exec xb iptables -t mangle -A POSTROUTING -p icmp -m physdev --physdev-is-out
ip netns exec xb iptables -t mangle -A POSTROUTING -p icmp -m physdev ! --physdev-is-out
ip netns exec xb iptables -t mangle -A PREROUTING -p icmp -m physdev --physdev-in vb
ip netns exec xb iptables -t mangle -A PREROUTING -p icmp -m physdev --physdev-is-bridged
ip netns exec xb iptables -t mangle -A PREROUTING -p icmp -m physdev ! --physdev-is-bridged
ip netns exec xh ping -c 1 -W 1 10.5.0.1
ip netns exec xb ping -c 1 -W 1 10.5.0.2
