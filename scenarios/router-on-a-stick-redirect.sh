#!/bin/sh
# Router on a stick: two LAN clients route h2's container subnet 10.20.0.0/24 via the wrong host,
# h1. h1 forwards their packets to h2 back out of eth0, the interface they came in on, and its
# kernel tells the sender so with an ICMP redirect (type 5 code 1: "10.20.0.2 via 192.168.1.2"),
# sent before h1's FORWARD chain, through h1's OUTPUT chain like any ICMP error it sends.
# The sender learns the better gateway (a next-hop exception, 300 s) once it has a neighbour
# entry for it: the first redirect only starts ARP for h2, the second is learnt, and from then
# on the client's packets go straight to h2 (h1's counters stay still).
ip netns add lan
ip netns add client
ip netns add laptop
ip netns add h1
ip netns add h2
ip netns add c2
ip -n lan link add br0 type bridge
ip -n lan link set br0 up
ip -n lan link add p1 type veth peer name eth0 netns client
ip -n lan link add p2 type veth peer name eth0 netns h1
ip -n lan link add p3 type veth peer name eth0 netns h2
ip -n lan link add p4 type veth peer name eth0 netns laptop
ip -n lan link set p1 master br0
ip -n lan link set p2 master br0
ip -n lan link set p3 master br0
ip -n lan link set p4 master br0
ip -n lan link set p1 up
ip -n lan link set p2 up
ip -n lan link set p3 up
ip -n lan link set p4 up
ip -n client addr add 192.168.1.10/24 dev eth0
ip -n client link set eth0 up
ip -n laptop addr add 192.168.1.11/24 dev eth0
ip -n laptop link set eth0 up
ip -n h1 addr add 192.168.1.1/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 addr add 192.168.1.2/24 dev eth0
ip -n h2 link set eth0 up

# h2's container network
ip -n h2 link add veth1 type veth peer name eth0 netns c2
ip -n h2 addr add 10.20.0.1/24 dev veth1
ip -n h2 link set veth1 up
ip -n c2 addr add 10.20.0.2/24 dev eth0
ip -n c2 link set eth0 up
ip -n c2 route add default via 10.20.0.1
ip netns exec h1 sysctl -w net.ipv4.ip_forward=1
ip netns exec h2 sysctl -w net.ipv4.ip_forward=1
ip -n h1 route add 10.20.0.0/24 via 192.168.1.2

# The mistake: the clients send the container subnet to h1.
ip -n client route add 10.20.0.0/24 via 192.168.1.1
ip -n laptop route add 10.20.0.0/24 via 192.168.1.1

# Counting rules: redirects h1 sends, packets h1 forwards, redirects the client receives.
ip netns exec h1 iptables -A OUTPUT -p icmp --icmp-type redirect
ip netns exec h1 iptables -A FORWARD -d 10.20.0.0/24
ip netns exec client iptables -A INPUT -p icmp --icmp-type redirect

ip -n client route get 10.20.0.2
ip netns exec client ping -c 1 -W 1 10.20.0.2
# expect: reply from 10.20.0.2 via filter/OUTPUT#1
# The client had no neighbour entry for h2 yet: it asked ARP and kept its route.
ip -n client route get 10.20.0.2

# (simnet's clock does not move between commands: the sleeps keep the redirects further apart
# than h1's per-client backoff, 20 ms after the first, doubled after each)
sleep 1
ip netns exec client ping -c 1 -W 1 10.20.0.2
# expect: reply from 10.20.0.2 via filter/INPUT#1
ip -n client route get 10.20.0.2

# Learnt: straight to h2 now; nothing moves on h1.
sleep 1
ip netns exec client ping -c 1 -W 1 10.20.0.2
# expect: reply from 10.20.0.2

# Switching redirects off on h1: conf.all alone does not do it, the device's own key is ORed
# with it (IN_DEV_TX_REDIRECTS), so the laptop is still redirected...
ip netns exec h1 sysctl -w net.ipv4.conf.all.send_redirects=0
ip netns exec laptop ping -c 1 -W 1 10.20.0.2
# expect: reply from 10.20.0.2 via filter/OUTPUT#1

# ...until eth0's is off too: h1 forwards silently, the laptop keeps its detour.
ip netns exec h1 sysctl -w net.ipv4.conf.eth0.send_redirects=0
sleep 1
ip netns exec laptop ping -c 1 -W 1 10.20.0.2
# expect: reply from 10.20.0.2 via filter/FORWARD#1
ip -n laptop route get 10.20.0.2
