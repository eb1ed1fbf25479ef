#!/bin/sh
# -m connlimit in s: at most two tracked connections (each ping is one, alive 30 s in conntrack) per source
# address; a's third ping is dropped while its first two are remembered, c, another address, still gets through.
set -e
ip netns add a
ip netns add c
ip netns add s
ip -n s link add br0 type bridge
ip -n s link add sa type veth peer name eth0 netns a
ip -n s link add sc type veth peer name eth0 netns c
ip -n s link set sa master br0
ip -n s link set sc master br0
ip -n s addr add 10.0.0.254/24 dev br0
ip -n s link set br0 up
ip -n s link set sa up
ip -n s link set sc up
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n a link set eth0 up
ip -n c addr add 10.0.0.3/24 dev eth0
ip -n c link set eth0 up
ip netns exec s iptables -A INPUT -p icmp -m connlimit --connlimit-above 2 -j DROP

ip netns exec a ping -c 1 -W 1 10.0.0.254
# expect: reply from 10.0.0.254
ip netns exec a ping -c 1 -W 1 10.0.0.254
# expect: reply from 10.0.0.254
ip netns exec a ping -c 1 -W 1 10.0.0.254
# expect: timeout via filter/INPUT#1
ip netns exec c ping -c 1 -W 1 10.0.0.254
# expect: reply from 10.0.0.254
ip netns exec s iptables -L INPUT -v -n -x
