#!/bin/sh
# Bug 4: restarting the iptables service (or reloading firewalld, ferm, APF) deletes Docker's chains.
# The service's "stop" flushes every table and deletes every user chain; its "start" restores
# the admin's own saved ruleset, which knows nothing of Docker. nat DOCKER (the DNATs), the
# MASQUERADE and the filter DOCKER* chains are gone until the daemon puts them back.
# Conntrack keeps the NAT bindings of flows that already existed: those still work.
# Two machines on a LAN: "host" (eth0 203.0.113.10) runs Docker 27, "client" is 203.0.113.20.
ip netns add host
ip netns add client
ip -n host link set lo up
ip -n client link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up

# The admin's host firewall, loaded at boot (the file the iptables service restores).
ip netns exec host iptables-restore <<'RULES'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
RULES

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
# ...and `docker run -d -p 8080:80 -p 5353:53/udp --name web nginx`.
ip netns add web
ip -n web link set lo up
ip -n host link add vetha4711ac type veth peer name eth0 netns web
ip -n host link set vetha4711ac master docker0
ip -n host link set vetha4711ac up
ip -n web addr add 172.17.0.2/16 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 172.17.0.1 dev eth0
ip netns exec host iptables -t nat -A DOCKER ! -i docker0 -p tcp -d 0.0.0.0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80
ip netns exec host iptables -t filter -A DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT
ip netns exec host iptables -t nat -A POSTROUTING -p tcp -s 172.17.0.2 -d 172.17.0.2 --dport 80 -j MASQUERADE
ip netns exec host iptables -t nat -A DOCKER ! -i docker0 -p udp -d 0.0.0.0/0 --dport 5353 -j DNAT --to-destination 172.17.0.2:53
ip netns exec host iptables -t filter -A DOCKER ! -i docker0 -o docker0 -p udp -d 172.17.0.2 --dport 53 -j ACCEPT
ip netns exec host iptables -t nat -A POSTROUTING -p udp -s 172.17.0.2 -d 172.17.0.2 --dport 53 -j MASQUERADE
ip netns exec web nc -l -k -p 80 &
ip netns exec web nc -u -l -k -p 53 &
ip netns exec client nc -u -l -k -p 53 &

# A working Docker host: the published ports answer, the container reaches the LAN masqueraded.
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via filter/DOCKER#1
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40000 via nat/DOCKER#3
echo query | ip netns exec web nc -u -w 1 -p 40000 203.0.113.20 53
# expect: delivered from 203.0.113.10:40000 via nat/POSTROUTING#1

# Some time later (10 s: the check's TCP entry has left conntrack's 10 s CLOSE state, on the
# kernel as in simnet, so no comparison lands near that boundary; UDP entries live 30 s)...
sleep 10
# `systemctl restart iptables`: stop flushes every table, deletes every user chain and opens
# the policies; start restores the admin's saved file (filter only: the nat table stays empty).
ip netns exec host iptables -F
ip netns exec host iptables -X
ip netns exec host iptables -P FORWARD ACCEPT
ip netns exec host iptables -t nat -F
ip netns exec host iptables -t nat -X
ip netns exec host iptables-restore <<'RULES'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
RULES
ip netns exec host iptables -t nat -S
ip netns exec host iptables -S

# The published port is dead: without the DNAT the SYN is for the host itself, and INPUT drops it.
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: timeout via filter/INPUT#0
# A new UDP flow to the published port meets the same fate...
echo query | ip netns exec client nc -u -w 1 -p 40001 203.0.113.10 5353
# expect: lost via filter/INPUT#0
# ...but the flow that existed before the restart keeps its DNAT: conntrack holds the binding,
# and the nat table is not consulted again for it.
echo query | ip netns exec client nc -u -w 1 -p 40000 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40000
# The container's old flow is still masqueraded (its conntrack entry carries the SNAT)...
echo query | ip netns exec web nc -u -w 1 -p 40000 203.0.113.20 53
# expect: delivered from 203.0.113.10:40000
# ...a new one leaves with the container's private address, which the LAN cannot answer.
echo query | ip netns exec web nc -u -w 1 -p 40001 203.0.113.20 53
# expect: delivered from 172.17.0.2:40001
ip netns exec web ping -c 1 -W 1 203.0.113.20
# expect: timeout

# Recovery: the daemon re-creates its chains and rules (its firewalld-reload handler, or a
# restart of dockerd, replays the same commands as its start).
ip netns exec host iptables -t nat -N DOCKER
ip netns exec host iptables -t filter -N DOCKER
ip netns exec host iptables -t filter -N DOCKER-ISOLATION-STAGE-1
ip netns exec host iptables -t filter -N DOCKER-ISOLATION-STAGE-2
ip netns exec host iptables -t filter -A DOCKER-ISOLATION-STAGE-1 -j RETURN
ip netns exec host iptables -t filter -A DOCKER-ISOLATION-STAGE-2 -j RETURN
ip netns exec host iptables -t filter -P FORWARD DROP
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
ip netns exec host iptables -t filter -N DOCKER-USER
ip netns exec host iptables -t filter -A DOCKER-USER -j RETURN
ip netns exec host iptables -t filter -I FORWARD -j DOCKER-USER
ip netns exec host iptables -t nat -A DOCKER ! -i docker0 -p tcp -d 0.0.0.0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80
ip netns exec host iptables -t filter -A DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT
ip netns exec host iptables -t nat -A POSTROUTING -p tcp -s 172.17.0.2 -d 172.17.0.2 --dport 80 -j MASQUERADE
ip netns exec host iptables -t nat -A DOCKER ! -i docker0 -p udp -d 0.0.0.0/0 --dport 5353 -j DNAT --to-destination 172.17.0.2:53
ip netns exec host iptables -t filter -A DOCKER ! -i docker0 -o docker0 -p udp -d 172.17.0.2 --dport 53 -j ACCEPT
ip netns exec host iptables -t nat -A POSTROUTING -p udp -s 172.17.0.2 -d 172.17.0.2 --dport 53 -j MASQUERADE

ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via filter/DOCKER#1
echo query | ip netns exec client nc -u -w 1 -p 40002 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40002 via nat/DOCKER#3
echo query | ip netns exec web nc -u -w 1 -p 40002 203.0.113.20 53
# expect: delivered from 203.0.113.10:40002 via nat/POSTROUTING#1
ip netns exec web ping -c 1 -W 1 203.0.113.20
# expect: reply from 203.0.113.20

sleep 10
# firewall-cmd --reload (firewalld's iptables backend) does the same in one step: an
# iptables-restore without --noflush of every table it owns, each replaced by its own chains
# (trimmed here to the public zone with ssh).
ip netns exec host iptables-restore <<'RULES'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:PREROUTING_direct - [0:0]
:POSTROUTING_direct - [0:0]
-A PREROUTING -j PREROUTING_direct
-A POSTROUTING -j POSTROUTING_direct
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:INPUT_direct - [0:0]
:IN_public - [0:0]
:FORWARD_direct - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -j INPUT_direct
-A INPUT -j IN_public
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i lo -j ACCEPT
-A FORWARD -j FORWARD_direct
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
-A IN_public -p icmp -j ACCEPT
-A IN_public -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW,UNTRACKED -j ACCEPT
COMMIT
RULES

# firewalld rejects what is not its own: the published port now answers "host prohibited".
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: unreachable from 203.0.113.10 via filter/INPUT#6
# The UDP flow from before the reload is still DNATed to the container (conntrack), but it was
# never answered, so it is not ESTABLISHED: firewalld's FORWARD rejects it.
echo query | ip netns exec client nc -u -w 1 -p 40002 203.0.113.10 5353
# expect: unreachable from 203.0.113.10 via filter/FORWARD#5
echo query | ip netns exec web nc -u -w 1 -p 40002 203.0.113.20 53
# expect: unreachable from 172.17.0.1 via filter/FORWARD#5

# Docker's replay again: its -I rules land above firewalld's REJECT, so everything works again.
ip netns exec host iptables -t nat -N DOCKER
ip netns exec host iptables -t filter -N DOCKER
ip netns exec host iptables -t filter -N DOCKER-ISOLATION-STAGE-1
ip netns exec host iptables -t filter -N DOCKER-ISOLATION-STAGE-2
ip netns exec host iptables -t filter -A DOCKER-ISOLATION-STAGE-1 -j RETURN
ip netns exec host iptables -t filter -A DOCKER-ISOLATION-STAGE-2 -j RETURN
ip netns exec host iptables -t filter -P FORWARD DROP
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
ip netns exec host iptables -t filter -N DOCKER-USER
ip netns exec host iptables -t filter -A DOCKER-USER -j RETURN
ip netns exec host iptables -t filter -I FORWARD -j DOCKER-USER
ip netns exec host iptables -t nat -A DOCKER ! -i docker0 -p tcp -d 0.0.0.0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80
ip netns exec host iptables -t filter -A DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT
ip netns exec host iptables -t nat -A POSTROUTING -p tcp -s 172.17.0.2 -d 172.17.0.2 --dport 80 -j MASQUERADE
ip netns exec host iptables -t nat -A DOCKER ! -i docker0 -p udp -d 0.0.0.0/0 --dport 5353 -j DNAT --to-destination 172.17.0.2:53
ip netns exec host iptables -t filter -A DOCKER ! -i docker0 -o docker0 -p udp -d 172.17.0.2 --dport 53 -j ACCEPT
ip netns exec host iptables -t nat -A POSTROUTING -p udp -s 172.17.0.2 -d 172.17.0.2 --dport 53 -j MASQUERADE

ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via filter/DOCKER#1
echo query | ip netns exec client nc -u -w 1 -p 40003 203.0.113.10 5353
# expect: delivered from 203.0.113.20:40003 via nat/DOCKER#3
echo query | ip netns exec web nc -u -w 1 -p 40003 203.0.113.20 53
# expect: delivered from 203.0.113.10:40003 via nat/POSTROUTING#1
