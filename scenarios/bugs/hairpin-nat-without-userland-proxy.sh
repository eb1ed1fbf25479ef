#!/bin/sh
# Bug 7: hairpin NAT without the userland proxy. With --userland-proxy=false nothing relays a
# container's connection to a published port: the DNAT must send it back into docker0, and that
# takes br_netfilter, hairpin mode on the bridge port, a MASQUERADE for a container reaching
# itself, and route_localnet plus a MASQUERADE for the host's own 127.0.0.1. Each probe below
# removes the failure of the one before it.
# "host" (eth0 203.0.113.10) publishes web's port 80 as 8080; "client" is on the LAN; web and
# peer are two containers on docker0.
ip netns add host
ip netns add client
ip netns add web
ip netns add peer
ip -n host link set lo up
ip -n client link set lo up
ip -n web link set lo up
ip -n peer link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip -n host link add veth1 type veth peer name eth0 netns web
ip -n host link set veth1 master docker0
ip -n host link set veth1 up
ip -n web addr add 172.17.0.2/16 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 172.17.0.1
ip -n host link add veth2 type veth peer name eth0 netns peer
ip -n host link set veth2 master docker0
ip -n host link set veth2 up
ip -n peer addr add 172.17.0.3/16 dev eth0
ip -n peer link set eth0 up
ip -n peer route add default via 172.17.0.1
ip netns exec host sysctl -w net.ipv4.ip_forward=1
# A routed packet sent back out of docker0 makes the host send an ICMP redirect first: not part
# of this story (and not modelled), so switched off.
ip netns exec host sysctl -w net.ipv4.conf.all.send_redirects=0
ip netns exec host sysctl -w net.ipv4.conf.docker0.send_redirects=0
# Docker's nat rules with the proxy off, but none of the hairpin pieces yet: no "-i docker0 -j
# RETURN" in DOCKER (containers' connections are DNATed too), no "! -d 127.0.0.0/8" in OUTPUT.
ip netns exec host iptables-restore <<'RULES'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
RULES
ip netns exec web nc -l -k -p 80 &

# From the LAN the DNAT alone is enough.
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#1

# Another container, without br_netfilter: the SYN is routed (in and out of docker0) and DNATed,
# but web's SYN-ACK goes straight to 172.17.0.3 over the bridge, from 172.17.0.2, never
# un-DNATed. peer expected 203.0.113.10 and answers with a RST.
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=0
ip netns exec peer nc -z -w 1 203.0.113.10 8080
# expect: timeout via nat/DOCKER#1

# With br_netfilter (Docker 27.4+ switches it on for --userland-proxy=false too) the bridged
# SYN-ACK meets conntrack in the bridge's PREROUTING and goes back out as from 203.0.113.10.
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=1
ip netns exec peer nc -z -w 1 203.0.113.10 8080
# expect: connected from 172.17.0.3 via nat/DOCKER#1

# web reaches its own published port: the DNATed frame must leave through the port it came in
# by, and the bridge refuses without hairpin mode (after PREROUTING has DNATed it).
ip netns exec web nc -z -w 1 203.0.113.10 8080
# expect: timeout via nat/DOCKER#1

# Hairpin mode on (Docker sets it on every veth with the proxy off): now web receives a SYN from
# 172.17.0.2, its own address, on eth0: a martian source, dropped.
ip -n host link set veth1 type bridge_slave hairpin on
ip netns exec web nc -z -w 1 203.0.113.10 8080
# expect: timeout via nat/DOCKER#1

# The hairpin MASQUERADE (-s C -d C) gives the SYN the bridge's address as its source.
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
ip netns exec web nc -z -w 1 203.0.113.10 8080
# expect: connected from 172.17.0.1 via nat/POSTROUTING#2

# The host's own 127.0.0.1:8080 is DNATed in OUTPUT too, but a packet from 127.0.0.1 may not
# be routed out of docker0: the reroute after the DNAT fails and the SYN is dropped.
ip netns exec host nc -z -w 1 127.0.0.1 8080
# expect: timeout via nat/DOCKER#1

# route_localnet=1 on docker0 lets it out, but web sees the loopback source and drops it.
ip netns exec host sysctl -w net.ipv4.conf.docker0.route_localnet=1
ip netns exec host nc -z -w 1 127.0.0.1 8080
# expect: timeout via nat/DOCKER#1

# Docker's last piece: MASQUERADE what the host itself sends into docker0.
ip netns exec host iptables -t nat -I POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE
ip netns exec host nc -z -w 1 127.0.0.1 8080
# expect: connected from 172.17.0.1 via nat/POSTROUTING#1
