#!/bin/sh
# Exercise 02-block-ping: Drop the client's pings at the host's INPUT hook, but keep ssh (22) open.
ip netns add host
ip netns add client
ip -n host link set lo up
ip -n client link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip netns exec host nc -l -k -p 22 &

# >>> your commands here

ip netns exec client ping -c 1 -W 1 203.0.113.10
# expect: timeout
ip netns exec client nc -z -w 1 203.0.113.10 22
# expect: connected from 203.0.113.20
