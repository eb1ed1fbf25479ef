#!/bin/sh
# Found by the differential fuzzer: an OUTPUT DNAT to the sender's own address loops the
# packet back through lo, and the looped skb keeps its conntrack entry (loopback_xmit does
# not reset it), so PREROUTING/INPUT neither look it up again nor run the nat chains.
# simnet used to start a second connection there: timeout instead of refused, extra nat counters.
ip netns add fz0
ip netns add fz1
ip netns exec fz0 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
ip -n fz0 link set lo up
ip netns exec fz1 sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
ip -n fz1 link set lo up
ip -n fz0 link add d1 type veth peer name eth0 netns fz1
ip -n fz0 addr add 10.0.1.1/24 dev d1
ip -n fz0 link set d1 up
ip -n fz1 addr add 10.0.1.2/24 dev eth0
ip -n fz1 link set eth0 up
ip netns exec fz0 sysctl -w net.ipv4.ip_forward=1
ip -n fz1 route add default via 10.0.1.1
ip netns exec fz1 sysctl -w net.ipv4.ip_forward=1
ip netns exec fz0 iptables -t nat -A OUTPUT -p tcp --dport 80 -j DNAT --to-destination 10.0.1.1
ip netns exec fz1 iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
ip netns exec fz0 nc -z -w 1 10.0.1.2 80
ip netns exec fz0 ping -c 1 -W 1 10.0.1.1
