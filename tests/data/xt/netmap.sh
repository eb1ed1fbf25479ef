#!/bin/sh
# -j NETMAP in r: a's 10.0.0.0/24 appears to s as 10.8.0.0/24 (POSTROUTING, source) and s's 10.0.1.0/24 is reached
# as 10.9.0.0/24 (PREROUTING, destination); host parts are kept.
set -e
ip netns add a
ip netns add r
ip netns add s
ip -n r link add ra type veth peer name eth0 netns a
ip -n r link add rs type veth peer name eth0 netns s
ip -n r addr add 10.0.0.254/24 dev ra
ip -n r addr add 10.0.1.254/24 dev rs
ip -n r link set ra up
ip -n r link set rs up
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n a link set eth0 up
ip -n a route add default via 10.0.0.254
ip -n s addr add 10.0.1.2/24 dev eth0
ip -n s link set eth0 up
ip -n s route add default via 10.0.1.254
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec r iptables -t nat -A PREROUTING -d 10.9.0.0/24 -j NETMAP --to 10.0.1.0/24
ip netns exec r iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o rs -j NETMAP --to 10.8.0.0/255.255.255.0

ip netns exec s nc -l -k -p 8080 &
ip netns exec a nc -z -w 1 10.9.0.2 8080
# expect: connected from 10.8.0.1
ip netns exec a ping -c 1 -W 1 10.9.0.2
# expect: reply from 10.9.0.2
ip netns exec a ping -c 1 -W 1 10.9.0.3
# expect: timeout
kill %1
ip netns exec r iptables -t nat -L -v -n -x
