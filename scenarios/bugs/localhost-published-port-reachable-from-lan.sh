#!/bin/sh
# Bug 8: "localhost-only" services answer the LAN. `docker run -p 127.0.0.1:8080:80` (Docker 27)
# installs "-A DOCKER -d 127.0.0.1/32 ! -i docker0 ... -j DNAT", and PREROUTING jumps to DOCKER from
# every interface. A neighbour on the same segment only has to route 127.0.0.1 via the host: the
# DNAT rewrites the destination in PREROUTING, before the routing decision that would have
# called 127.0.0.1 from eth0 a martian, and the packet is forwarded to the container like any
# other published port. Kubernetes' CVE-2020-8558 is the same hole made wider: kube-proxy sets
# route_localnet=1, so even services the host itself binds on 127.0.0.1 accept the neighbour.
# "host" has eth0 192.168.1.10 and runs Docker 27; "neighbour" 192.168.1.66 is on its LAN;
# "admin" is the container 172.17.0.2 whose port 80 was meant for the host's eyes only.
ip netns add host
ip netns add neighbour
ip -n host link set lo up
ip -n neighbour link set lo up
ip -n host link add eth0 type veth peer name eth0 netns neighbour
ip -n host addr add 192.168.1.10/24 dev eth0
ip -n neighbour addr add 192.168.1.66/24 dev eth0
ip -n host link set eth0 up
ip -n neighbour link set eth0 up

# dockerd starts (what Docker 27 issues, as `simnet export` writes it)...
ip netns exec host iptables -t nat -N DOCKER
ip netns exec host iptables -t filter -N DOCKER
ip netns exec host iptables -t filter -N DOCKER-ISOLATION-STAGE-1
ip netns exec host iptables -t filter -N DOCKER-ISOLATION-STAGE-2
ip netns exec host iptables -t filter -A DOCKER-ISOLATION-STAGE-1 -j RETURN
ip netns exec host iptables -t filter -A DOCKER-ISOLATION-STAGE-2 -j RETURN
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip netns exec host iptables -t filter -P FORWARD DROP
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip netns exec host iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
ip netns exec host iptables -t nat -I DOCKER -i docker0 -j RETURN
ip netns exec host iptables -t filter -I FORWARD -i docker0 -o docker0 -j ACCEPT
ip netns exec host iptables -t filter -I FORWARD -i docker0 ! -o docker0 -j ACCEPT
ip netns exec host iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
ip netns exec host iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
ip netns exec host iptables -t filter -I FORWARD -o docker0 -j DOCKER
ip netns exec host iptables -t filter -I FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip netns exec host iptables -t filter -I FORWARD -j DOCKER-ISOLATION-STAGE-1
ip netns exec host iptables -t filter -I DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
ip netns exec host iptables -t filter -I DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
ip -n host link set docker0 up
ip netns exec host iptables -t filter -N DOCKER-USER
ip netns exec host iptables -t filter -A DOCKER-USER -j RETURN
ip netns exec host iptables -t filter -I FORWARD -j DOCKER-USER
# ...and `docker run -d -p 127.0.0.1:8080:80 --name admin nginx`.
ip netns add admin
ip -n admin link set lo up
ip -n host link add veth7e3b1c0 type veth peer name eth0 netns admin
ip -n host link set veth7e3b1c0 master docker0
ip -n host link set veth7e3b1c0 up
ip -n admin addr add 172.17.0.2/16 dev eth0
ip -n admin link set eth0 up
ip -n admin route add default via 172.17.0.1 dev eth0
ip netns exec host iptables -t nat -A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
ip netns exec host iptables -t filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
ip netns exec admin nc -l -k -p 80 &
# A SYN-ACK that never gets its ACK is retransmitted 1 s later, into whichever probe runs then:
# not part of this story, so the container gives up on the first one.
ip netns exec admin sysctl -w net.ipv4.tcp_synack_retries=0
# The host's own services on loopback: a kubelet-style health port on 127.0.0.1 only.
ip netns exec host nc -l -k -s 127.0.0.1 -p 10248 &

# What the owner checked: the port is not published on the LAN address. Nothing DNATs it and
# nothing listens there, so the host answers with a RST.
ip netns exec neighbour nc -z -w 1 192.168.1.10 8080
# expect: refused

# The neighbour gives up its own loopback routes and sends 127.0.0.1 to the host's MAC instead.
ip -n neighbour route del local 127.0.0.1 dev lo table local
ip -n neighbour route del local 127.0.0.0/8 dev lo table local
ip -n neighbour route add 127.0.0.1/32 via 192.168.1.10

# The SYN is DNATed in PREROUTING (127.0.0.1 is a LOCAL address) and forwarded: the container
# answers a SYN from 192.168.1.66. Its SYN-ACK, un-DNATed, leaves eth0 as from 127.0.0.1, which
# the neighbour's own kernel drops as a martian source, so its nc times out.
ip netns exec neighbour nc -z -w 1 127.0.0.1 8080
# expect: timeout via nat/DOCKER#2
# An attacker controls its own sysctls. route_localnet=1 lets a loopback source in from eth0,
# but with rp_filter off fib_validate_source only asks whether 127.0.0.1 is one of its own
# addresses, and it still is (lo's): dropped again.
ip netns exec neighbour sysctl -w net.ipv4.conf.eth0.route_localnet=1
ip netns exec neighbour nc -z -w 1 127.0.0.1 8080
# expect: timeout via nat/DOCKER#2
# Loose rp_filter (or accept_local=1) makes it look 127.0.0.1 up in its FIB instead, where the
# local route is gone and the route via the host is found: the answers get through.
ip netns exec neighbour sysctl -w net.ipv4.conf.eth0.rp_filter=2
ip netns exec neighbour nc -z -w 1 127.0.0.1 8080
# expect: connected from 192.168.1.66 via nat/DOCKER#2

# The container's address is just as good: routed via the host, 172.17.0.2:80 passes Docker's
# filter ACCEPT for the published port without any DNAT.
ip -n neighbour route add 172.17.0.0/16 via 192.168.1.10
ip netns exec neighbour nc -z -w 1 172.17.0.2 80
# expect: connected from 192.168.1.66 via filter/DOCKER#1

# Services the host binds on 127.0.0.1 itself are safe while route_localnet is 0 on eth0: the
# routing decision calls a loopback destination from a real device a martian and drops it.
ip netns exec neighbour nc -z -w 1 127.0.0.1 10248
# expect: timeout
# Docker sets route_localnet=1 on docker0 only (with --userland-proxy=false), which eth0 ignores...
ip netns exec host sysctl -w net.ipv4.conf.docker0.route_localnet=1
ip netns exec neighbour nc -z -w 1 127.0.0.1 10248
# expect: timeout
# ...but kube-proxy sets it for all interfaces (CVE-2020-8558): the host's loopback service answers.
ip netns exec host sysctl -w net.ipv4.conf.all.route_localnet=1
ip netns exec neighbour nc -z -w 1 127.0.0.1 10248
# expect: connected from 192.168.1.66

# Kubernetes' fix for CVE-2020-8558 (KUBE-FIREWALL): drop what comes for 127/8 from outside 127/8 unless
# conntrack knows it as DNATed or established.
ip netns exec host iptables -I INPUT -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
ip netns exec neighbour nc -z -w 1 127.0.0.1 10248
# expect: timeout via filter/INPUT#1
# It never sees the Docker DNAT, which is forwarded, not delivered.
ip netns exec neighbour nc -z -w 1 127.0.0.1 8080
# expect: connected from 192.168.1.66 via nat/DOCKER#2

# Docker 28's fix: raw PREROUTING drops 127.0.0.1:8080 unless it comes in on lo, and drops the
# container's own address unless it comes from docker0 (direct routing), both before conntrack.
ip netns exec host iptables -t raw -A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP
ip netns exec host iptables -t raw -A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 8080 -j DROP
ip netns exec neighbour nc -z -w 1 127.0.0.1 8080
# expect: timeout via raw/PREROUTING#2
ip netns exec neighbour nc -z -w 1 172.17.0.2 80
# expect: timeout via raw/PREROUTING#1
# The generic form covers every loopback port at once, including the host's own services.
ip netns exec host iptables -t raw -I PREROUTING -d 127.0.0.0/8 ! -i lo -j DROP
ip netns exec neighbour nc -z -w 1 127.0.0.1 10248
# expect: timeout via raw/PREROUTING#1
# The host itself still reaches its loopback service.
ip netns exec host nc -z -w 1 127.0.0.1 10248
# expect: connected from 127.0.0.1
