#!/bin/sh
# A dnsmasq on the Docker host listens on docker0's address (172.17.0.1) for its containers
# (`docker run --dns 172.17.0.1`).  Their queries come in on docker0 to a local address: they
# meet the host's INPUT chain, not FORWARD, so a host firewall with "INPUT DROP" that only lets
# SSH in silently blocks them (dig times out); one ACCEPT for udp/53 on docker0 fixes it.
ip netns add h1
ip -n h1 link set lo up
ip netns exec h1 dockerd --era 28 &
ip netns exec h1 dnsmasq -k --no-resolv --no-hosts --listen-address 172.17.0.1 --address=/db.internal/10.30.0.7 &
ip netns exec h1 docker run -d --dns 172.17.0.1 --name app busybox
ip netns exec h1 docker exec app cat /etc/resolv.conf

ip netns exec h1 docker exec app dig +short db.internal
# expect: reply
# The host's firewall: stateful, SSH only, everything else dropped.
ip netns exec h1 iptables -A INPUT -i lo -j ACCEPT
ip netns exec h1 iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip netns exec h1 iptables -A INPUT -p tcp --dport 22 -j ACCEPT
ip netns exec h1 iptables -P INPUT DROP
ip netns exec h1 docker exec app dig +short +time=1 +tries=1 db.internal
# expect: timeout via filter/INPUT#0
ip netns exec h1 iptables -I INPUT 3 -i docker0 -p udp --dport 53 -j ACCEPT
ip netns exec h1 docker exec app dig +short +time=1 +tries=1 db.internal
# expect: reply via filter/INPUT#3
