#!/bin/sh
# Solution of exercise 00-listener: Make a's TCP connection to b port 80 succeed (today b answers with a RST).
ip netns add a
ip netns add b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up

# >>> solution
ip netns exec b nc -l -k -p 80 &
# <<< solution

ip netns exec a nc -z -w 1 10.0.0.2 80
# expect: connected from 10.0.0.1
