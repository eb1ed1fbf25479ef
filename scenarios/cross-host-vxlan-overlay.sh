#!/bin/sh
# How an overlay lets containers on two hosts share one subnet, and how a firewall breaks it.
# h1 and h2 share a LAN (192.168.1.0/24); c1 (10.0.0.2) runs on h1, c2 (10.0.0.3) on h2, in one
# 10.0.0.0/24. Without an overlay c1 would ARP for c2 on h1's bridge and nobody would answer
# (cross-host-same-subnet.sh). Here each host's bridge has a VXLAN port (VNI 42, UDP 4789):
# frames for the other host leave inside UDP datagrams between 192.168.1.1 and 192.168.1.2.
ip netns add h1
ip netns add h2
ip netns add c1
ip netns add c2
ip -n h1 link set lo up
ip -n h2 link set lo up
ip -n c1 link set lo up
ip -n c2 link set lo up

ip -n h1 link add eth0 type veth peer name eth0 netns h2
ip -n h1 addr add 192.168.1.1/24 dev eth0
ip -n h2 addr add 192.168.1.2/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 link set eth0 up

# The container bridges carry no address: the overlay is pure layer 2, as Docker's overlay networks are.
ip -n h1 link add br0 type bridge
ip -n h1 link set br0 up
ip -n h2 link add br0 type bridge
ip -n h2 link set br0 up

# h1 names its peer with 'remote' (the all-zeros FDB entry: where broadcasts and unknown MACs go);
# h2 gets the same entry with 'bridge fdb append'. Each host pins its outer UDP source port
# (srcport A A+1): the kernel otherwise hashes the inner flow with a per-boot seed.
ip -n h1 link add vxlan0 type vxlan id 42 local 192.168.1.1 remote 192.168.1.2 dev eth0 dstport 4789 srcport 4789 4790
ip -n h1 link set vxlan0 master br0
ip -n h1 link set vxlan0 up
ip -n h2 link add vxlan0 type vxlan id 42 local 192.168.1.2 dev eth0 dstport 4789 srcport 4790 4791
ip netns exec h2 bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst 192.168.1.1
ip -n h2 link set vxlan0 master br0
ip -n h2 link set vxlan0 up

# h1 masquerades its containers' traffic to the outside: a nat table, so conntrack runs there and
# tracks the outer datagrams it sends (the inner frames are bridged: the rule never matches them).
ip netns exec h1 iptables -t nat -A POSTROUTING -s 10.0.0.0/24 ! -o br0 -j MASQUERADE

ip -n h1 link add veth1 type veth peer name eth0 netns c1
ip -n h1 link set veth1 master br0
ip -n h1 link set veth1 up
ip -n c1 addr add 10.0.0.2/24 dev eth0
ip -n c1 link set eth0 up

ip -n h2 link add veth1 type veth peer name eth0 netns c2
ip -n h2 link set veth1 master br0
ip -n h2 link set veth1 up
ip -n c2 addr add 10.0.0.3/24 dev eth0
ip -n c2 link set eth0 up

ip netns exec c2 nc -l -k -p 80 &

# c1's ARP request floods out of vxlan0 to 192.168.1.2; h2 learns c1's MAC behind 192.168.1.1, and
# c2's answer comes back the same way: c1 and c2 talk as if on one switch.
ip netns exec c1 ping -c 1 -W 1 10.0.0.3
# expect: reply

ip netns exec c1 nc -z -w 1 10.0.0.3 80
# expect: connected from 10.0.0.2

# Each VXLAN FDB learned the other container's MAC behind the other host (the MACs are random:
# compare the 'dst' and 'self' words).
ip netns exec h2 bridge fdb show dev vxlan0

# h2 closes its door: only loopback and established traffic may come in. The overlay dies: h1's
# datagrams to 192.168.1.2:4789 are new flows to h2 (h2's own datagrams leave from port 4790, so
# they are not the replies of anything h2 sent), and the INPUT policy drops them.
ip netns exec h2 iptables -A INPUT -i lo -j ACCEPT
ip netns exec h2 iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip netns exec h2 iptables -P INPUT DROP

ip netns exec c1 nc -z -w 1 10.0.0.3 80
# expect: timeout via filter/INPUT#0

# Opening UDP 4789 mends it.
ip netns exec h2 iptables -A INPUT -p udp --dport 4789 -j ACCEPT
ip netns exec c1 nc -z -w 1 10.0.0.3 80
# expect: connected from 10.0.0.2 via filter/INPUT#3
