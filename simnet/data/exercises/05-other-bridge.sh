#!/bin/sh
# Exercise 05-other-bridge: Docker 27 set FORWARD's policy to DROP and the VM on br0 lost its LAN. Let br0's traffic through again.
ip netns add host
ip netns add lanpc
ip netns add vm
ip -n host link set lo up
ip -n lanpc link set lo up
ip -n vm link set lo up
ip -n host link add br0 type bridge
ip -n host addr add 192.168.1.10/24 dev br0
ip -n host link set br0 up
ip -n host link add eth1 type veth peer name eth0 netns lanpc
ip -n host link set eth1 master br0
ip -n host link set eth1 up
ip -n lanpc addr add 192.168.1.30/24 dev eth0
ip -n lanpc link set eth0 up
ip -n host link add vnet0 type veth peer name eth0 netns vm
ip -n host link set vnet0 master br0
ip -n host link set vnet0 up
ip -n vm addr add 192.168.1.40/24 dev eth0
ip -n vm link set eth0 up
ip netns exec lanpc nc -l -k -p 22 &
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=1
ip netns exec host dockerd --era 27 &

# >>> your commands here

ip netns exec vm ping -c 1 -W 1 192.168.1.30
# expect: reply
ip netns exec vm nc -z -w 1 192.168.1.30 22
# expect: connected from 192.168.1.40
