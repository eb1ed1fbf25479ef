#!/bin/sh
# Docker's MTU options (issue #15): `dockerd --mtu 1400` gives the default bridge network MTU 1400,
# `docker network create -o com.docker.network.driver.mtu=1450` a user network MTU 1450.
# libnetwork's bridge driver sets the MTU on the bridge and on both ends of every container's veth
# pair, so a container's eth0 and its host-side veth show it; a container's SYN offers MSS = MTU - 40.
# "h1" is the Docker host (eth0 203.0.113.10, MTU 1500) on a LAN with "lan" (203.0.113.20).
ip netns add h1
ip netns add lan
ip -n h1 link set lo up
ip -n lan link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns lan
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n lan addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n lan link set eth0 up

ip netns exec h1 dockerd --era 29 --mtu 1400 --userland-proxy=false &
ip netns exec h1 docker network create -o com.docker.network.driver.mtu=1450 --subnet 10.30.0.0/24 ov
ip netns exec h1 docker run -d --name a busybox
ip netns exec h1 docker run -d --network ov --name b busybox
ip netns exec h1 docker run -d --network ov -p 8080:80 --name web nginx
ip netns exec h1 ip link show
ip netns exec h1 docker exec a ip link show eth0
ip netns exec h1 docker exec b ip link show eth0

# With DF (-M do) a packet larger than the device's MTU is not sent: the sender's own stack
# says "message too long" and names the MTU.  1372 + 28 = 1400 fits the default bridge's.
ip netns exec h1 docker exec a ping -c 1 -W 1 -M do -s 1372 172.17.0.1
# expect: reply
ip netns exec h1 docker exec a ping -c 1 -W 1 -M do -s 1373 172.17.0.1
# expect: error EMSGSIZE
ip netns exec h1 docker exec b ping -c 1 -W 1 -M do -s 1422 10.30.0.1
# expect: reply
ip netns exec h1 docker exec b ping -c 1 -W 1 -M do -s 1423 10.30.0.1
# expect: error EMSGSIZE
# The host's route into the user network leaves through its bridge, MTU 1450 too.
ip netns exec h1 ping -c 1 -W 1 -M do -s 1423 10.30.0.3
# expect: error EMSGSIZE
# Without DF the container fragments to 1450; the host reassembles (conntrack) before the
# MASQUERADE and the LAN answers.
ip netns exec h1 docker exec b ping -c 1 -W 1 -s 1472 203.0.113.20
# expect: reply
# From the LAN into the published port: web's SYN-ACK offers 1410, so the LAN sends segments of
# 1398 bytes (1410 less the timestamp option) that fit the 1450-byte network: 20000 bytes arrive.
head -c 20000 /dev/zero | ip netns exec lan nc -w 2 203.0.113.10 8080
# expect: connected complete from 203.0.113.20
