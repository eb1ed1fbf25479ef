#!/bin/sh
# -m rpfilter in r's raw PREROUTING: a's packets pass the reverse-path check only from addresses r routes back to a.
#   a 10.0.0.1 (+10.0.1.50, 10.0.9.9, 10.0.1.254 spoofed) -- ra: r 10.0.0.254 | 10.0.1.254 rs -- s 10.0.1.2
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
ip -n a addr add 10.0.1.50/32 dev eth0
ip -n a addr add 10.0.9.9/32 dev eth0
ip -n a link set eth0 up
ip -n a route add default via 10.0.0.254
ip -n s addr add 10.0.1.2/24 dev eth0
ip -n s link set eth0 up
ip -n s route add default via 10.0.1.254
ip netns exec r iptables -t raw -A PREROUTING -i ra -m rpfilter
ip netns exec r iptables -t raw -A PREROUTING -i ra -m rpfilter --loose
ip netns exec r iptables -t raw -A PREROUTING -i ra -m rpfilter --accept-local --loose
ip netns exec r iptables -t raw -A PREROUTING -i ra -m rpfilter --invert -j DROP

ip netns exec a ping -c 1 -W 1 10.0.0.254
# expect: reply from 10.0.0.254
ip netns exec a ping -c 1 -W 1 -I 10.0.1.50 10.0.0.254
# expect: timeout via raw/PREROUTING#4
ip netns exec a ping -c 1 -W 1 -I 10.0.9.9 10.0.0.254
# expect: timeout via raw/PREROUTING#4
ip netns exec r iptables -t raw -D PREROUTING 4
ip netns exec s ping -c 1 -W 1 10.0.1.254
# expect: reply from 10.0.1.254
ip netns exec r iptables -t raw -L PREROUTING -v -n -x
