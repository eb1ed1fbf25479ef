#!/bin/sh
# The chapter's story on one host, with the rules Docker 1.9 installs.
# Namespaces: "host" (the Docker host, eth0 203.0.113.10 on the LAN), "client"
# (another machine on that LAN) and "registry" (a container on docker0).

ip netns add host
ip netns add client
ip netns add registry
ip -n host link set lo up
ip -n client link set lo up
ip -n registry link set lo up

# The LAN between the client and the host.
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up

# The daemon starts: docker0 gets 172.17.0.1/16, ip_forward is turned on, and its rules go in.
ip -n host link add docker0 type bridge
ip -n host addr add 172.17.0.1/16 dev docker0
ip -n host link set docker0 up
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
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
COMMIT
RULES
ip netns exec host iptables-save

# docker run -d --name registry registry:2 (no port mapping): a veth pair, eth0 inside.
ip -n host link add veth0a1b2c3 type veth peer name eth0 netns registry
ip -n host link set veth0a1b2c3 master docker0
ip -n host link set veth0a1b2c3 up
ip -n registry addr add 172.17.0.2/16 dev eth0
ip -n registry link set eth0 up
ip -n registry route add default via 172.17.0.1
ip -n registry addr show eth0
ip -n registry route

# The registry listens on 5000 inside its namespace.
ip netns exec registry nc -l -k -p 5000 &

# The host reaches the container directly over docker0.
ip netns exec host nc -z -w 1 172.17.0.2 5000
# expect: connected from 172.17.0.1

# Nobody outside can: 172.17.0.0/16 is not routed on the LAN.
ip netns exec client ping -c 1 -W 1 172.17.0.2
# expect: error ENETUNREACH

# And no port is published yet: the host itself refuses 1180.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: refused

# docker run -p 1180:5000: a DNAT in nat DOCKER, an ACCEPT in filter DOCKER, and the self-MASQUERADE.
ip netns exec host iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 5000 -j MASQUERADE
ip netns exec host iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 1180 -j DNAT --to-destination 172.17.0.2:5000
ip netns exec host iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5000 -j ACCEPT
ip netns exec host iptables -t nat -S

# Now the client reaches the registry through the host's port; the container sees the client.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20 via nat/DOCKER#1

# The container reaches the LAN; MASQUERADE makes it look like the host.
ip netns exec client nc -l -k -p 8080 &
ip netns exec registry nc -z -w 1 203.0.113.20 8080
# expect: connected from 203.0.113.10 via nat/POSTROUTING#1
