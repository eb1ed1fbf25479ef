#!/bin/sh
# What a daemon restart does to the rules (docker-rules.md §6.2), era 27 (20.10-27.x), with a
# user rule added before the daemon started and one added after.
#  * Docker flushes nat/filter DOCKER and the isolation chains and rebuilds them;
#  * FORWARD is never flushed: the user's appended rule stays where it was, but Docker's own
#    rules for docker0 are deleted with the stale default network and inserted again at the top,
#    and the DOCKER-ISOLATION-STAGE-1 and DOCKER-USER jumps are moved back above everything;
#  * DOCKER-USER keeps the user's rules; containers without --restart stay stopped, those with
#    --restart always come back (with their published ports).
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

# Before the daemon: the user blocks the client from anything forwarded to 172.17.0.0/16.
ip netns exec h1 iptables -A FORWARD -s 203.0.113.20 -d 172.17.0.0/16 -j DROP
ip netns exec h1 dockerd --era 27 &
ip netns exec h1 iptables -S FORWARD
ip netns exec h1 docker run -d -p 1180:5000 --restart always --name registry registry:2
ip netns exec h1 docker run -d -p 1181:5000 --name scratch registry:2

# The user's DROP was appended before Docker's inserts, so it is now last: Docker's DOCKER
# chain accepts the published port first.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20

# After the daemon: a rule in DOCKER-USER is evaluated first, and survives restarts.
ip netns exec h1 iptables -I DOCKER-USER -s 203.0.113.20 -p tcp -m conntrack --ctorigdstport 1181 -j DROP
ip netns exec client nc -z -w 1 203.0.113.10 1181
# expect: timeout via filter/DOCKER-USER#1

ip netns exec h1 systemctl restart docker
ip netns exec h1 iptables-save -t filter
ip netns exec h1 docker ps -a

# registry (--restart always) is back with its port; scratch is not, so nothing DNATs 1181 and
# the host itself answers with a RST.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20
ip netns exec client nc -z -w 1 203.0.113.10 1181
# expect: refused
