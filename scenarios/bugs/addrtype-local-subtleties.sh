#!/bin/sh
# Bug 11: "-m addrtype --dst-type LOCAL" means "any address of this namespace's local routing
# table": every interface's address (docker0's and other bridges' gateways included) and all of
# 127/8, but not a broadcast address, and not the address of an interface that is down. Docker's
# "PREROUTING -m addrtype --dst-type LOCAL -j DOCKER" therefore publishes a port on all of them.
# "host" has eth0 203.0.113.10 (the LAN, with "client"), eth1 198.51.100.1 (a second LAN, with
# "lan2"), docker0 172.17.0.1 (web, port 80 published as 8080) and br-x 172.18.0.1 ("other").
ip netns add host
ip netns add client
ip netns add lan2
ip netns add web
ip netns add other
ip -n host link set lo up
ip -n client link set lo up
ip -n lan2 link set lo up
ip -n web link set lo up
ip -n other link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
# The client routes everything behind the host through it.
ip -n client route add 198.51.100.0/24 via 203.0.113.10
ip -n client route add 172.16.0.0/12 via 203.0.113.10
ip -n host link add eth1 type veth peer name eth0 netns lan2
ip -n host addr add 198.51.100.1/24 dev eth1
ip -n lan2 addr add 198.51.100.2/24 dev eth0
ip -n host link set eth1 up
ip -n lan2 link set eth0 up
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
# Docker's nat rules for -p 8080:80 with the userland proxy on (no docker-proxy runs here).
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
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
RULES
ip netns exec web nc -l -k -p 80 &
ip netns exec host nc -u -l -k -p 8080 &
ip netns exec host ip route show table local

# The address the admin meant.
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#2

# eth1's address, reached over eth0: LOCAL too, so published there as well.
ip netns exec client nc -z -w 1 198.51.100.1 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#2

# docker0's gateway address from the LAN: LOCAL, DNATed.
ip netns exec client nc -z -w 1 172.17.0.1 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#2

# A container of another bridge reaches the port on its own gateway, 172.18.0.1.
ip netns exec other nc -z -w 1 172.18.0.1 8080
# expect: connected from 172.18.0.2 via nat/DOCKER#2

# docker0's broadcast address is BROADCAST, not LOCAL: no DNAT. The host still takes the
# packets in as broadcasts (INPUT runs): TCP ignores the SYN without a RST, ICMP ignores the
# echo request (icmp_echo_ignore_broadcasts), a UDP socket on the port gets the datagram.
ip netns exec client nc -z -w 1 172.17.255.255 8080
# expect: timeout via nat/INPUT#0
ip netns exec client ping -c 1 -W 1 172.17.255.255
# expect: timeout via nat/INPUT#0
echo hello | ip netns exec client nc -u -w 1 172.17.255.255 8080
# expect: delivered from 203.0.113.20 via nat/PREROUTING#0

# From the host itself (nat OUTPUT): another bridge's address is LOCAL, DNATed, and web sees it
# as the source (the MASQUERADE only covers 172.17.0.0/16).
ip netns exec host nc -z -w 1 172.18.0.1 8080
# expect: connected from 172.18.0.1 via nat/DOCKER#2

# 127/8 is LOCAL but excluded by "! -d 127.0.0.0/8": left to docker-proxy, which is not there.
ip netns exec host nc -z -w 1 127.0.0.1 8080
# expect: refused

# An interface that goes down loses its broadcast and prefix routes but keeps its local route:
# 198.51.100.1 is still LOCAL, and still published.
ip -n host link set eth1 down
ip netns exec host ip route show table local
ip netns exec client nc -z -w 1 198.51.100.1 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#2
ip -n host link set eth1 up

# --limit-iface-in: only addresses of the interface the packet came in by count as LOCAL.
ip netns exec host iptables -t nat -R PREROUTING 1 -m addrtype --dst-type LOCAL --limit-iface-in -j DOCKER
ip netns exec client nc -z -w 1 203.0.113.10 8080
# expect: connected from 203.0.113.20 via nat/DOCKER#2
ip netns exec client nc -z -w 1 172.17.0.1 8080
# expect: refused via nat/PREROUTING#0
ip netns exec other nc -z -w 1 172.18.0.1 8080
# expect: connected from 172.18.0.2 via nat/DOCKER#2
