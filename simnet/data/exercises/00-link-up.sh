#!/bin/sh
# Exercise 00-link-up: Make a's ping to b answered. b's end of the veth pair is still down.
ip netns add a
ip netns add b
ip -n a link set lo up
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up

# >>> your commands here

ip netns exec a ping -c 1 -W 1 10.0.0.2
# expect: reply
