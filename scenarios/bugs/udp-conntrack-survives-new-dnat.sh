#!/bin/sh
# Bug 9: a conntrack entry outlives the rule change; a UDP flow keeps its old (null) NAT binding.
ip netns add host
ip netns add client
ip netns add web
ip -n host link set lo up
ip -n client link set lo up
ip -n web link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip -n host link add veth1 type veth peer name eth0 netns web
ip -n host link set veth1 master docker0
ip -n host link set veth1 up
ip -n web addr add 172.17.0.2/16 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 172.17.0.1
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
ip netns exec web nc -u -l -k -p 53 &
# A client starts sending to the host's port 5353 before anything is published there.
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: unreachable from 203.0.113.10
# Now the port is published (docker run -p 5353:53/udp)...
ip netns exec host iptables -t nat -A PREROUTING -i eth0 -p udp --dport 5353 -j DNAT --to-destination 172.17.0.2:53
# ...but the same flow still hits the host: its conntrack entry kept the null binding.
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: unreachable from 203.0.113.10
# A new flow (another source port) is translated.
echo query | ip netns exec client nc -u -w 1 -p 40001 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40001
# conntrack -F forgets the stale binding.
ip netns exec host conntrack -F
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40000
