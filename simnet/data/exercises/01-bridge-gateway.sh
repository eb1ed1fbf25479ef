#!/bin/sh
# Exercise 01-bridge-gateway: The bridge switches c1 and c2. Make it a router too: c1 must reach the host's 192.0.2.1 (on dummy0).
ip netns add host
ip netns add c1
ip -n host link set lo up
ip -n host link add dummy0 type dummy
ip -n host addr add 192.0.2.1/32 dev dummy0
ip -n host link set dummy0 up
ip -n host link add br0 type bridge
ip -n host link set br0 up
ip -n host link add veth1 type veth peer name eth0 netns c1
ip -n host link set veth1 master br0
ip -n host link set veth1 up
ip -n c1 addr add 10.0.1.2/24 dev eth0
ip -n c1 link set eth0 up

# >>> your commands here

ip netns exec c1 ping -c 1 -W 1 10.0.1.1
# expect: reply
ip netns exec c1 ping -c 1 -W 1 192.0.2.1
# expect: reply
