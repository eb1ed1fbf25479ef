#!/bin/sh
# Exercise 02-redirect-port: Only port 80 listens on the host. Make connections to 8080 reach it, rewritten before routing.
ip netns add host
ip netns add client
ip -n host link set lo up
ip -n client link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip netns exec host nc -l -k -p 80 &

# >>> your commands here

ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via nat/PREROUTING#1
