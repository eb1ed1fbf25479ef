#!/bin/sh
# -m hashlimit in b: two pings per source address pass (burst 2 at 1/min), the third is dropped; c has its own bucket.
set -e
ip netns add a
ip netns add b
ip netns add c
ip -n b link add br0 type bridge
ip -n b link add ba type veth peer name eth0 netns a
ip -n b link add bc type veth peer name eth0 netns c
ip -n b link set ba master br0
ip -n b link set bc master br0
ip -n b addr add 10.0.0.254/24 dev br0
ip -n b link set br0 up
ip -n b link set ba up
ip -n b link set bc up
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n a link set eth0 up
ip -n c addr add 10.0.0.3/24 dev eth0
ip -n c link set eth0 up
ip netns exec b iptables -A INPUT -p icmp -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name pings -j ACCEPT
ip netns exec b iptables -A INPUT -p icmp -j DROP

ip netns exec a ping -c 1 -W 1 10.0.0.254
# expect: reply from 10.0.0.254
ip netns exec a ping -c 1 -W 1 10.0.0.254
# expect: reply from 10.0.0.254
ip netns exec a ping -c 1 -W 1 10.0.0.254
# expect: timeout via filter/INPUT#2
ip netns exec c ping -c 1 -W 1 10.0.0.254
# expect: reply from 10.0.0.254
ip netns exec b iptables -L INPUT -v -n -x
