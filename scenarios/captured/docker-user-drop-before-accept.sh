#!/bin/sh
# A Docker host, captured: `simnet capture --docker --listeners` run on it (as root) printed
# everything from the "simnet capture" line to "end of the capture" (tests/kernel/
# test_capture_docker.py builds this host on the kernel, captures it the same way and requires
# the same text). Docker 29, three containers on docker0: web (-p 8080:80), app, db (redis, 6379);
# "lan" is a machine on the host's eth0.
#
# The admin wants: app may reach db's redis, nothing else may cross between containers. They
# appended two rules to DOCKER-USER (the chain Docker leaves to the admin), in this order:
#   iptables -A DOCKER-USER -i docker0 -o docker0 -j DROP
#   iptables -A DOCKER-USER -s 172.17.0.3 -d 172.17.0.4 -p tcp --dport 6379 -j ACCEPT
# app cannot reach db. Why?  `simnet explain scenarios/captured/docker-user-drop-before-accept.sh --line 120`
# on the first probe below answers offline: the DROP is rule 1 of DOCKER-USER, so the ACCEPT after
# it never sees the packet (bridged traffic passes FORWARD with br_netfilter).
# (db runs with net.ipv4.tcp_synack_retries=0, so that the half-open connection of the "half a
# fix" probe below retransmits no SYN-ACK into later probes: simnet models those retransmissions,
# but when they land depends on how long the kernel runner takes between probes.)

# simnet capture of host vm, kernel 6.18.44-fc-v1300, at 2026-12-07T14:25:56Z
# namespaces: host (the root namespace), lan, host-app, host-db, host-web

ip netns add host
ip netns add lan
ip netns add host-app
ip netns add host-db
ip netns add host-web
ip netns exec host sysctl -q -w net.ipv4.ip_forward=1
ip netns exec host-db sysctl -q -w net.ipv4.tcp_synack_retries=0

# devices, in each namespace in the order the host numbered them
ip -n host link add eth0 address 02:00:cb:00:71:0a type veth peer name eth0 address 02:00:cb:00:71:14 netns lan
ip -n host link add docker0 address 02:42:5e:8f:00:01 type bridge
ip -n host link add veth1b0c1b0 address 02:00:5e:11:00:02 type veth peer name eth0 address 02:42:ac:11:00:02 netns host-web
ip -n host link add veth2a9f2a9 address 02:00:5e:11:00:03 type veth peer name eth0 address 02:42:ac:11:00:03 netns host-app
ip -n host link add veth3e7d3e7 address 02:00:5e:11:00:04 type veth peer name eth0 address 02:42:ac:11:00:04 netns host-db

# ---- host (the root namespace)
ip -n host link set veth1b0c1b0 master docker0
ip -n host link set veth2a9f2a9 master docker0
ip -n host link set veth3e7d3e7 master docker0
ip -n host link set lo up
ip -n host link set eth0 up
ip -n host link set docker0 up
ip -n host link set veth1b0c1b0 up
ip -n host link set veth2a9f2a9 up
ip -n host link set veth3e7d3e7 up
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n host addr add 172.17.0.1/16 brd 172.17.255.255 dev docker0
ip netns exec host iptables-restore <<'RULES'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP
-A PREROUTING -d 172.17.0.3/32 ! -i docker0 -j DROP
-A PREROUTING -d 172.17.0.4/32 ! -i docker0 -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-BRIDGE - [0:0]
:DOCKER-CT - [0:0]
:DOCKER-FORWARD - [0:0]
:DOCKER-INTERNAL - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-FORWARD
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER ! -i docker0 -o docker0 -j DROP
-A DOCKER-BRIDGE -o docker0 -j DOCKER
-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-FORWARD -j DOCKER-CT
-A DOCKER-FORWARD -j DOCKER-INTERNAL
-A DOCKER-FORWARD -j DOCKER-BRIDGE
-A DOCKER-FORWARD -i docker0 -j ACCEPT
-A DOCKER-USER -i docker0 -o docker0 -j DROP
-A DOCKER-USER -s 172.17.0.3/32 -d 172.17.0.4/32 -p tcp -m tcp --dport 6379 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
RULES

# ---- lan
ip -n lan link set lo up
ip -n lan link set eth0 up
ip -n lan addr add 203.0.113.20/24 dev eth0

# ---- host-app
ip -n host-app link set lo up
ip -n host-app link set eth0 up
ip -n host-app addr add 172.17.0.3/16 brd 172.17.255.255 dev eth0
ip -n host-app route add default via 172.17.0.1 dev eth0

# ---- host-db
ip -n host-db link set lo up
ip -n host-db link set eth0 up
ip -n host-db addr add 172.17.0.4/16 brd 172.17.255.255 dev eth0
ip -n host-db route add default via 172.17.0.1 dev eth0
ip netns exec host-db nc -l -k -p 6379 &

# ---- host-web
ip -n host-web link set lo up
ip -n host-web link set eth0 up
ip -n host-web addr add 172.17.0.2/16 brd 172.17.255.255 dev eth0
ip -n host-web route add default via 172.17.0.1 dev eth0
ip netns exec host-web nc -l -k -p 80 &
# ---- end of the capture

# ---- the admin's questions, added by hand
ip netns exec host-app nc -z -w 1 172.17.0.4 6379
# expect: timeout via filter/DOCKER-USER#1
ip netns exec lan nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20

# Half a fix: the exception above the DROP lets app's SYN through, but db's SYN-ACK comes back
# over the bridge too, and meets the DROP (Docker's own ESTABLISHED rule is in DOCKER-FORWARD,
# after DOCKER-USER). `simnet explain ... --line 130` says so.
ip netns exec host iptables -D DOCKER-USER -s 172.17.0.3/32 -d 172.17.0.4/32 -p tcp -m tcp --dport 6379 -j ACCEPT
ip netns exec host iptables -I DOCKER-USER -s 172.17.0.3/32 -d 172.17.0.4/32 -p tcp -m tcp --dport 6379 -j ACCEPT
ip netns exec host-app nc -z -w 1 172.17.0.4 6379
# expect: timeout via filter/DOCKER-USER#2
# The whole fix: answers to allowed connections first.
ip netns exec host iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip netns exec host-app nc -z -w 1 172.17.0.4 6379
# expect: connected from 172.17.0.3 via filter/DOCKER-USER#2
ip netns exec host-web nc -z -w 1 172.17.0.4 6379
# expect: timeout via filter/DOCKER-USER#3
