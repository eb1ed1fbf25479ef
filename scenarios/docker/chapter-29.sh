#!/bin/sh
# The chapter's story again, step by step, with a current daemon (Docker 29).
# What changed since 1.9 (chapter-1.9.sh) and why it matters:
#  * FORWARD no longer holds Docker's rules directly: it jumps to DOCKER-USER (yours, evaluated
#    first and never flushed by Docker) and DOCKER-FORWARD, which splits into DOCKER-BRIDGE ->
#    DOCKER (per-port ACCEPTs, then a DROP for everything else coming into the bridge),
#    DOCKER-CT (replies) and DOCKER-INTERNAL.
#  * Docker turned ip_forward on itself, so it also set the FORWARD policy to DROP: a host that
#    routed other traffic before the daemon started stops doing so.
#  * The raw table drops packets addressed to a container's own IP from anywhere but its bridge:
#    a neighbour on the LAN with a route to 172.17.0.0/16 can no longer reach unpublished ports
#    (in 1.9 it could: nothing in filter FORWARD stopped it).
#  * MACs are random (1.9 derived them from the IP: 02:42:ac:11:00:02).
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

# The daemon starts: docker0 gets 172.17.0.1/16 (the first free candidate pool), ip_forward is
# turned on, and the era's rules go in, in the order the daemon issues them.
ip netns exec h1 dockerd --era 29 &
ip netns exec h1 ip addr show docker0
ip netns exec h1 sysctl net.ipv4.ip_forward
ip netns exec h1 iptables-save

# docker run without -p: a veth pair, eth0 = 172.17.0.2/16 inside, default route via docker0.
ip netns exec h1 docker run -d --name registry registry:2
ip netns exec h1 docker ps
ip netns exec h1 docker exec registry ip addr show eth0
ip netns exec h1 docker exec registry ip route

# The host reaches the container directly over docker0; the container sees the gateway address.
ip netns exec h1 nc -z -w 1 172.17.0.2 5000
# expect: connected from 172.17.0.1

# The client has no route to 172.17.0.0/16: the container is invisible from the LAN.
ip netns exec client ping -c 1 -W 1 172.17.0.2
# expect: error ENETUNREACH

# And no port is published: the host itself refuses 1180.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: refused

# The container reaches the LAN; MASQUERADE makes it look like the host.
ip netns exec client nc -l -k -p 8080 &
ip netns exec h1 docker exec registry nc -z -w 1 203.0.113.20 8080
# expect: connected from 203.0.113.10

# Publish: docker run -p 1180:5000 adds a DNAT in nat DOCKER and an ACCEPT in filter DOCKER.
ip netns exec h1 docker rm -f registry
ip netns exec h1 docker run -d -p 1180:5000 --name registry registry:2
# The new container has 172.17.0.2 again but a new random MAC; h1 still caches the old one,
# until Docker 28+'s unsolicited ARP for the new endpoint (advertise_addr_nmsgs) updates it:
# the kernel takes a gratuitous ARP for an entry it already has whatever arp_accept says, so
# the next connection goes to the new MAC.
ip netns exec h1 docker ps
ip netns exec h1 iptables -t nat -S DOCKER
ip netns exec h1 iptables -S DOCKER

# Now the client reaches the registry through the host's port 1180, and the container sees the client.
ip netns exec client nc -z -w 1 203.0.113.10 1180
# expect: connected from 203.0.113.20 via nat/DOCKER#1

# The container's own port is still not on the LAN: 5000 on the host is closed.
ip netns exec client nc -z -w 1 203.0.113.10 5000
# expect: refused

# In 29 a LAN neighbour that routes 172.17.0.0/16 via the host cannot reach unpublished ports:
# the raw PREROUTING rule drops anything for 172.17.0.3 not arriving on docker0.
ip netns exec h1 docker run -d --name app busybox nc -l -k -p 80
ip -n client route add 172.17.0.0/16 via 203.0.113.10
ip netns exec client nc -z -w 1 172.17.0.3 80
# expect: timeout via raw/PREROUTING#2

ip netns exec h1 docker network ls
ip netns exec h1 docker network inspect -f '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}} {{end}}' bridge
