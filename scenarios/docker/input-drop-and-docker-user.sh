#!/bin/sh
# A host firewall that does not protect a published port, and the DOCKER-USER rule that does
# (Docker 29). INPUT policy DROP guards the host's own sockets, but a published port is DNATed
# in PREROUTING and forwarded: it never sees INPUT. DOCKER-USER, the first jump in FORWARD, is
# where the host's policy for containers belongs; Docker never flushes it, not even on restart.
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
# A second LAN machine that should be allowed in.
ip netns add admin
ip -n admin link set lo up
ip -n h1 link add eth1 type veth peer name eth0 netns admin
ip -n h1 addr add 198.51.100.10/24 dev eth1
ip -n admin addr add 198.51.100.20/24 dev eth0
ip -n h1 link set eth1 up
ip -n admin link set eth0 up

ip netns exec h1 dockerd &
ip netns exec h1 docker run -d -p 1180:5000 --name registry registry:2
ip netns exec h1 nc -l -k -p 22 &

# The "firewall": only established traffic and lo in, everything else dropped.
ip netns exec h1 iptables -A INPUT -i lo -j ACCEPT
ip netns exec h1 iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip netns exec h1 iptables -P INPUT DROP

# The host's own ssh is protected...
ip netns exec client nc -z -w 1 203.0.113.10 22
# expect: timeout via filter/INPUT#0
# ...the registry is not.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20

# The fix: in DOCKER-USER, drop new connections to containers unless they come from the admin
# LAN. The packet is already DNATed here, so match the original port with conntrack.
ip netns exec h1 iptables -I DOCKER-USER -i eth0 -m conntrack --ctstate NEW --ctorigdstport 1180 -j DROP
ip netns exec h1 iptables -S DOCKER-USER
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: timeout via filter/DOCKER-USER#1
ip netns exec admin nc -z -w 1 198.51.100.10 1180
# expect: connected from 198.51.100.20

# A daemon restart flushes Docker's own chains and rebuilds them, but keeps DOCKER-USER as it
# is: the rule still protects the port afterwards.
ip netns exec h1 systemctl restart docker
ip netns exec h1 docker run -d -p 1180:5000 --name registry2 registry:2
# registry2 got 172.17.0.2 again with a new random MAC: Docker 28+ announces it with an
# unsolicited ARP (advertise_addr_nmsgs), which updates h1's cached entry for 172.17.0.2
# (the kernel takes a gratuitous ARP for an existing entry whatever arp_accept says).
ip netns exec h1 iptables -S FORWARD
ip netns exec h1 iptables -S DOCKER-USER
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: timeout via filter/DOCKER-USER#1
ip netns exec admin nc -z -w 1 198.51.100.10 1180
# expect: connected from 198.51.100.20
