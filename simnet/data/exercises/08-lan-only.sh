#!/bin/sh
# Exercise 08-lan-only: Now nothing published may be reached from the WAN at all; the admin LAN keeps both ports.
ip netns add h1
ip netns add client
ip netns add admin
ip -n h1 link set lo up
ip -n client link set lo up
ip -n admin link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns client
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n client link set eth0 up
ip -n h1 link add eth1 type veth peer name eth0 netns admin
ip -n h1 addr add 198.51.100.10/24 dev eth1
ip -n admin addr add 198.51.100.20/24 dev eth0
ip -n h1 link set eth1 up
ip -n admin link set eth0 up
ip netns exec h1 dockerd &
ip netns exec h1 docker run -d -p 80:80 --name web nginx
ip netns exec h1 docker run -d -p 8080:6379 --name cache redis

# >>> your commands here

ip netns exec client nc -z -w 1 203.0.113.10 80
# expect: timeout
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: timeout
ip netns exec admin nc -z -w 1 198.51.100.10 80
# expect: connected from 198.51.100.20
