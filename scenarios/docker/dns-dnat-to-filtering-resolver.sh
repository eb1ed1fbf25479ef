#!/bin/sh
# All DNS from containers is sent to a filtering resolver on the host (a dnsmasq on
# 172.17.0.1:5353 that answers blocked names with 0.0.0.0 and forwards the rest) by a DNAT in
# PREROUTING for udp/53.  A default-bridge container asks 203.0.113.20 and gets the filtered
# answer, which conntrack makes look as if 203.0.113.20 sent it.  A container on a user network
# asks 127.0.0.11, and Docker 29 forwards from the host's own namespace: that query is locally
# generated, goes through OUTPUT and never meets PREROUTING, so it escapes the filter.
ip netns add h1
ip netns add lan
ip -n h1 link set lo up
ip -n lan link set lo up
ip -n h1 link add eth0 type veth peer name eth0 netns lan
ip -n h1 addr add 203.0.113.10/24 dev eth0
ip -n lan addr add 203.0.113.20/24 dev eth0
ip -n h1 link set eth0 up
ip -n lan link set eth0 up
ip -n h1 route add default via 203.0.113.20
mkdir -p /etc/netns/h1
echo "nameserver 203.0.113.20" > /etc/netns/h1/resolv.conf
ip netns exec lan dnsmasq -k --no-resolv --no-hosts --listen-address 203.0.113.20 --address=/ads.example/198.51.100.66 --address=/git.example.com/198.51.100.7 &

ip netns exec h1 dockerd --era 29 &
ip netns exec h1 dnsmasq -k --no-resolv --no-hosts --listen-address 172.17.0.1 --port=5353 --address=/ads.example/0.0.0.0 --server=203.0.113.20 &
ip netns exec h1 iptables -t nat -I PREROUTING -p udp --dport 53 -j DNAT --to-destination 172.17.0.1:5353
ip netns exec h1 iptables -I INPUT -p udp -d 172.17.0.1 --dport 5353 -j ACCEPT
ip netns exec h1 docker network create --subnet 10.10.0.0/24 front
ip netns exec h1 docker run -d --name legacy busybox
ip netns exec h1 docker run -d --network front --name app busybox

# Filtered: the blocked name comes back as 0.0.0.0, "from" the server the container asked.
ip netns exec h1 docker exec legacy dig +short ads.example
# expect: reply via nat/PREROUTING#1
ip netns exec h1 docker exec legacy dig +short git.example.com
# expect: reply via nat/PREROUTING#1
# Not filtered: the embedded resolver's forward leaves h1 itself (OUTPUT), PREROUTING never sees it.
ip netns exec h1 docker exec app dig +short ads.example
# expect: reply
ip netns exec h1 iptables -t nat -L PREROUTING -v -n
