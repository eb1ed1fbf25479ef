#!/bin/sh
# A devcontainer-style firewall script run inside a container (Docker 29, user network): it
# flushes and deletes every chain of every table, then locks the container down.  The nat table
# held Docker's embedded-DNS rules (DOCKER_OUTPUT maps 127.0.0.11:53 to the resolver's own
# port): "good" saves that table first and restores it, so names still resolve; "bad" forgets,
# so its queries reach 127.0.0.11:53, where nothing listens, and come back port unreachable.
# `simnet explain --line N` names the place: delivered to lo, no socket on udp port 53.
ip netns add h1
ip -n h1 link set lo up
ip netns exec h1 dockerd --era 29 &
ip netns exec h1 docker network create --subnet 10.10.0.0/24 devnet
ip netns exec h1 docker run -d --network devnet --name api nginx
ip netns exec h1 docker run -d --network devnet --name good busybox
ip netns exec h1 docker run -d --network devnet --name bad busybox

# good: save the nat table (its 127.0.0.11 rules), flush everything, restore, then the policy
# (the container's namespace is h1-good: `docker exec good CMD` runs CMD there).
ip netns exec h1-good iptables-save -t nat > /tmp/good-nat.rules
ip netns exec h1 docker exec good iptables -F
ip netns exec h1 docker exec good iptables -X
ip netns exec h1 docker exec good iptables -t nat -F
ip netns exec h1 docker exec good iptables -t nat -X
ip netns exec h1 docker exec good iptables -t mangle -F
ip netns exec h1 docker exec good iptables -t mangle -X
ip netns exec h1-good iptables-restore /tmp/good-nat.rules
ip netns exec h1 docker exec good iptables -A OUTPUT -o lo -j ACCEPT
ip netns exec h1 docker exec good iptables -A OUTPUT -d 10.10.0.0/24 -j ACCEPT
ip netns exec h1 docker exec good iptables -A INPUT -i lo -j ACCEPT
ip netns exec h1 docker exec good iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip netns exec h1 docker exec good iptables -P INPUT DROP
ip netns exec h1 docker exec good iptables -P OUTPUT DROP
ip netns exec h1 docker exec good iptables-save -t nat

# bad: the same script without the save and restore.
ip netns exec h1 docker exec bad iptables -F
ip netns exec h1 docker exec bad iptables -X
ip netns exec h1 docker exec bad iptables -t nat -F
ip netns exec h1 docker exec bad iptables -t nat -X
ip netns exec h1 docker exec bad iptables -t mangle -F
ip netns exec h1 docker exec bad iptables -t mangle -X
ip netns exec h1 docker exec bad iptables -A OUTPUT -o lo -j ACCEPT
ip netns exec h1 docker exec bad iptables -A OUTPUT -d 10.10.0.0/24 -j ACCEPT
ip netns exec h1 docker exec bad iptables -A INPUT -i lo -j ACCEPT
ip netns exec h1 docker exec bad iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip netns exec h1 docker exec bad iptables -P INPUT DROP
ip netns exec h1 docker exec bad iptables -P OUTPUT DROP
ip netns exec h1 docker exec bad iptables-save -t nat

# The query leaves by lo in both (after the DNAT its port is no longer 53: "-o lo" lets it out).
ip netns exec h1 docker exec good dig +short api
# expect: reply via nat/DOCKER_OUTPUT#2
ip netns exec h1 docker exec good nc -z -w 1 api 80
# expect: connected from 10.10.0.3
ip netns exec h1 docker exec bad dig +short +tries=1 api
# expect: refused
ip netns exec h1 docker exec bad nc -z -w 1 10.10.0.2 80
# expect: connected from 10.10.0.4
