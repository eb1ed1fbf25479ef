#!/bin/sh
# Found by the differential fuzzer: fp0 pings itself and REJECTs the echo reply in INPUT. The
# ICMP error quotes the echo *reply*; ping (like ping_err) only takes errors quoting its echo
# request, so it times out. simnet handed the error to the ping by its id.
ip netns add fp0
ip netns add fp1
ip -n fp0 link set lo up
ip -n fp0 link add eth0 type veth peer name eth0 netns fp1
ip -n fp0 addr add 10.9.0.2/24 dev eth0
ip -n fp0 link set eth0 up
ip -n fp1 link set eth0 up
ip netns exec fp0 iptables -A INPUT -p icmp --icmp-type echo-reply -j REJECT --reject-with icmp-admin-prohibited
ip netns exec fp0 ping -c 1 -W 1 10.9.0.2
