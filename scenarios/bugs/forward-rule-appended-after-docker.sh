#!/bin/sh
# Bug 2: a rule appended to FORWARD lands after the ACCEPTs Docker inserted; it never sees the traffic.
ip netns add host
ip netns add client
ip netns add web
ip -n host link set lo up
ip -n client link set lo up
ip -n web link set lo up
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
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip netns exec host iptables-restore <<'RULES'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
RULES
ip netns exec web nc -l -k -p 80 &
# The admin wants to block the client from the container's published port.
ip netns exec host iptables -A FORWARD -s 203.0.113.20/32 -j DROP
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via filter/DOCKER#1
# The fix: put it in DOCKER-USER, which FORWARD consults first.
ip netns exec host iptables -I DOCKER-USER -s 203.0.113.20/32 -j DROP
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: timeout via filter/DOCKER-USER#1
