#!/bin/sh
# Names in a lab: a dnsmasq in namespace "dns" answers for the lab, a client resolves through it.
# The client's resolver configuration is /etc/netns/client/resolv.conf, which `ip netns exec client`
# binds over /etc/resolv.conf; its queries are real UDP datagrams, counted in the server's rules.
ip netns add dns
ip netns add client
ip -n dns link add eth0 type veth peer name eth0 netns client
ip -n dns link set lo up
ip -n client link set lo up
ip -n dns link set eth0 up
ip -n client link set eth0 up
ip -n dns addr add 10.0.0.53/24 dev eth0
ip -n client addr add 10.0.0.10/24 dev eth0
mkdir -p /etc/netns/client
printf "nameserver 10.0.0.53\noptions timeout:1 attempts:2\n" > /etc/netns/client/resolv.conf
printf "127.0.0.1 localhost\n10.0.0.99 printer\n" > /etc/netns/client/hosts
ip netns exec dns dnsmasq -k --listen-address=10.0.0.53 --bind-interfaces --no-resolv --no-hosts --address=/web/10.0.0.53 --host-record=db,10.0.0.10 --local=/lab/ &
ip netns exec client python3 -m http.server 8080 &
ip netns exec dns iptables -A INPUT -p udp --dport 53
ip netns exec dns iptables -A OUTPUT -p udp --sport 53
# dig's full answer: status, flags, sections, the server, the message size
ip netns exec client dig @10.0.0.53 web
# expect: reply
# +short, and the server from resolv.conf
ip netns exec client dig db +short
# expect: reply
# a --local domain answers NXDOMAIN for names it does not know
ip netns exec client dig @10.0.0.53 nope.lab
# expect: reply
ip netns exec client host db 10.0.0.53
# expect: reply
ip netns exec client nslookup nope.lab 10.0.0.53
# expect: reply
# getent: files first (hosts), then DNS (AAAA, then A)
ip netns exec client getent hosts printer
# expect: reply
ip netns exec client getent hosts db
# expect: reply
# names where tools take hosts: resolved first, their A and AAAA queries counted too
ip netns exec client ping -c 1 web
# expect: reply
# (db is the client's own address: curl's HTTP exchange stays off the counted rules)
ip netns exec client curl -s -o /dev/null -w '%{http_code}\n' http://db:8080/
# expect: connected
ip netns exec client nc -z -w 1 nope.lab 80
# expect: error EAI_NONAME
