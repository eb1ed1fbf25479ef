#!/bin/sh
# --icc=false (Docker 1.9 and 29 behave alike here): containers on docker0 cannot talk to each
# other, but published ports still work. Docker turns bridge-nf-call-iptables on so that
# bridged container-to-container frames traverse FORWARD, where "-i docker0 -o docker0 -j DROP" waits.
# Two machines on a LAN: "h1", the Docker host (eth0 203.0.113.10), and "client" (203.0.113.20).
ip netns add h1
ip netns add client
ip -n h1 link set lo up
ip -n client link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns client
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n client link set eth0 up

ip netns exec h1 dockerd --era 1.9 --icc=false &
ip netns exec h1 sysctl net.bridge.bridge-nf-call-iptables
ip netns exec h1 iptables -S FORWARD
ip netns exec h1 docker run -d -p 1180:5000 --name registry registry:2
ip netns exec h1 docker run -d --name app busybox

# app -> registry directly: dropped by the icc rule.
ip netns exec h1 docker exec app nc -z -w 1 172.17.0.2 5000
# expect: timeout via filter/FORWARD#4

# app -> the LAN still works (-i docker0 ! -o docker0 ACCEPT).
ip netns exec client nc -l -k -p 8080 &
ip netns exec h1 docker exec app nc -z -w 1 203.0.113.20 8080
# expect: connected from 203.0.113.10

# The published port from outside still works.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20
