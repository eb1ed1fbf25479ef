#!/bin/sh
# Bug 13: MASQUERADE picks the source address itself, and some traffic never meets it.
# MASQUERADE takes the primary address of the outgoing interface that is in the next hop's subnet
# (inet_select_addr): never a secondary address, never the route's "src", and whatever interface
# routing (policy rules included) picked. And the nat table only sees packets that start a
# connection: untracked and INVALID packets, or a second bridge the rule does not name, leave
# with the containers' private source.
# "host" has two uplinks to "isp": eth0 203.0.113.10 (+ secondary .11) and eth1 (192.168.50.10,
# then 198.51.100.10). isp holds the remote server 192.0.2.80. Containers: web on docker0,
# other on br-x (a second bridge made by hand, which Docker's MASQUERADE does not cover).
ip netns add host
ip netns add isp
ip netns add web
ip netns add other
ip -n host link set lo up
ip -n isp link set lo up
ip -n web link set lo up
ip -n other link set lo up
ip -n host link add eth0 type veth peer name eth0 netns isp
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n host addr add 203.0.113.11/24 dev eth0
ip -n isp addr add 203.0.113.1/24 dev eth0
ip -n host link set eth0 up
ip -n isp link set eth0 up
ip -n host link add eth1 type veth peer name eth1 netns isp
ip -n host addr add 192.168.50.10/24 dev eth1
ip -n host addr add 198.51.100.10/24 dev eth1
ip -n isp addr add 198.51.100.1/24 dev eth1
ip -n host link set eth1 up
ip -n isp link set eth1 up
ip -n isp addr add 192.0.2.80/32 dev lo
ip -n host route add default via 203.0.113.1 dev eth0
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
ip -n host link add veth1 type veth peer name eth0 netns web
ip -n host link set veth1 master docker0
ip -n host link set veth1 up
ip -n web addr add 172.17.0.2/16 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 172.17.0.1
ip -n host link add br-x type bridge
ip -n host addr add 172.18.0.1/16 dev br-x
ip -n host link set br-x up
ip -n host link add veth2 type veth peer name eth0 netns other
ip -n host link set veth2 master br-x
ip -n host link set veth2 up
ip -n other addr add 172.18.0.2/16 dev eth0
ip -n other link set eth0 up
ip -n other route add default via 172.18.0.1
ip netns exec host sysctl -w net.ipv4.ip_forward=1
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
ip netns exec isp nc -l -k -p 80 &
ip netns exec isp nc -u -l -k -p 5353 &
ip netns exec other nc -l -k -p 80 &
ip netns exec host ip addr show dev eth0

# The primary address of eth0, not the secondary.
ip netns exec web nc -z -w 1 192.0.2.80 80
# expect: connected from 203.0.113.10 via nat/POSTROUTING#1

# A "src" on the route steers the host's own traffic, not MASQUERADE.
ip -n host route replace default via 203.0.113.1 dev eth0 src 203.0.113.11
ip netns exec host nc -z -w 1 192.0.2.80 80
# expect: connected from 203.0.113.11
ip netns exec web nc -z -w 1 192.0.2.80 80
# expect: connected from 203.0.113.10 via nat/POSTROUTING#1

# "! -o docker0" also matches traffic into the second bridge: other sees br-x's address.
ip netns exec web nc -z -w 1 172.18.0.2 80
# expect: connected from 172.18.0.1 via nat/POSTROUTING#1

# ...while other's own traffic matches no MASQUERADE and reaches the ISP from 172.18.0.2.
echo query | ip netns exec other nc -u -w 1 192.0.2.80 5353
# expect: delivered from 172.18.0.2 via nat/POSTROUTING#0

# A NOTRACK for the containers' DNS (a "performance" tweak): untracked packets skip nat.
ip netns exec host iptables -t raw -A PREROUTING -i docker0 -p udp --dport 5353 -j NOTRACK
echo query | ip netns exec web nc -u -w 1 192.0.2.80 5353
# expect: delivered from 172.17.0.2 via raw/PREROUTING#1

# INVALID skips nat too. The ISP routes to the containers directly, and the host exempts that
# inbound traffic from conntrack: web's echo reply then starts no valid connection (INVALID),
# so no MASQUERADE can translate it: the ISP sees 172.17.0.2.
ip -n isp route add 172.17.0.0/16 via 203.0.113.10
ip netns exec host iptables -t raw -A PREROUTING -i eth0 -d 172.17.0.0/16 -j NOTRACK
ip netns exec host iptables -A FORWARD -m conntrack --ctstate INVALID
ip netns exec isp ping -c 1 -W 1 172.17.0.2
# expect: reply from 172.17.0.2 via filter/FORWARD#1
# The usual cure for such leaks, dropping INVALID in FORWARD, drops this reply too.
ip netns exec host iptables -I FORWARD -m conntrack --ctstate INVALID -j DROP
ip netns exec isp ping -c 1 -W 1 172.17.0.2
# expect: timeout via filter/FORWARD#1

# Policy routing sends the containers out of eth1: MASQUERADE takes eth1's primary address in
# the gateway's subnet, 198.51.100.10, although 192.168.50.10 came first (and the published
# ports live on eth0).
ip -n host rule add from 172.17.0.0/16 lookup 100
ip -n host route add default via 198.51.100.1 dev eth1 table 100
ip netns exec web nc -z -w 1 192.0.2.80 80
# expect: connected from 198.51.100.10 via nat/POSTROUTING#1
