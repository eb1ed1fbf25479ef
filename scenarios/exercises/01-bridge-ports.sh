#!/bin/sh
# Solution of exercise 01-bridge-ports: c1 and c2 hang on veth pairs whose host ends are up but not on a bridge. Put both on br0.
ip netns add host
ip netns add c1
ip netns add c2
ip -n host link add br0 type bridge
ip -n host link set br0 up
ip -n host link add veth1 type veth peer name eth0 netns c1
ip -n host link add veth2 type veth peer name eth0 netns c2
ip -n host link set veth1 up
ip -n host link set veth2 up
ip -n c1 addr add 10.0.1.2/24 dev eth0
ip -n c2 addr add 10.0.1.3/24 dev eth0
ip -n c1 link set eth0 up
ip -n c2 link set eth0 up

# >>> solution
ip -n host link set veth1 master br0
ip -n host link set veth2 master br0
# <<< solution

ip netns exec c1 ping -c 1 -W 1 10.0.1.3
# expect: reply
