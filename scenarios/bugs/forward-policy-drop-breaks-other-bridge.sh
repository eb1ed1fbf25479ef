#!/bin/sh
# Bug 5: Docker sets the FORWARD policy to DROP and breaks every other bridge on the host.
# Since 1.13, a dockerd that had to switch ip_forward on also runs `iptables -P FORWARD DROP`,
# and its own ACCEPT rules only name docker0. Two neighbours die with it:
# * a bridged KVM VM: with br_netfilter loaded (Docker loaded it unconditionally before 27.3),
#   frames bridged between br0's ports traverse iptables FORWARD too, with -i br0 -o br0;
# * an LXD (or libvirt NAT) bridge: its guests' traffic is routed, so it always crosses FORWARD.
# ARP is not iptables' business, so the neighbours still resolve each other: pings just time out.
# "host" has eth0 203.0.113.10 to the upstream "client" 203.0.113.20, and br0 192.168.1.10 that
# bridges its NIC eth1 (to "lanpc" 192.168.1.30) and the VM's tap vnet0 ("vm" 192.168.1.40).
ip netns add host
ip netns add client
ip netns add lanpc
ip netns add vm
ip netns add lxc
ip -n host link set lo up
ip -n client link set lo up
ip -n lanpc link set lo up
ip -n vm link set lo up
ip -n lxc link set lo up
ip -n host link add eth0 type veth peer name eth0 netns client
ip -n host addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n host link set eth0 up
ip -n client link set eth0 up
ip -n host link add br0 type bridge
ip -n host addr add 192.168.1.10/24 dev br0
ip -n host link set br0 up
ip -n host link add eth1 type veth peer name eth0 netns lanpc
ip -n host link set eth1 master br0
ip -n host link set eth1 up
ip -n lanpc addr add 192.168.1.30/24 dev eth0
ip -n lanpc link set eth0 up
ip -n host link add vnet0 type veth peer name eth0 netns vm
ip -n host link set vnet0 master br0
ip -n host link set vnet0 up
ip -n vm addr add 192.168.1.40/24 dev eth0
ip -n vm link set eth0 up
ip netns exec lanpc nc -l -k -p 22 &
ip netns exec vm nc -l -k -p 22 &
ip netns exec client nc -l -k -p 443 &
# br_netfilter is loaded: bridged IPv4 goes through iptables (the default once the module is in).
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=1

# Before Docker: ip_forward is 0, which bridging does not need, and no iptables table exists yet.
# The VM and the PC on the LAN reach each other.
ip netns exec vm ping -c 1 -W 1 192.168.1.30
# expect: reply
ip netns exec lanpc nc -z -w 1 192.168.1.40 22
# expect: connected from 192.168.1.30

# dockerd starts (what Docker 27 issues, as `simnet export` writes it): it finds ip_forward=0,
# switches it on and sets the DROP policy.
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

# LXD starts after Docker: lxdbr0 10.0.3.1/24 with one guest, masqueraded to the world.
ip -n host link add lxdbr0 type bridge
ip -n host addr add 10.0.3.1/24 dev lxdbr0
ip -n host link set lxdbr0 up
ip -n host link add vethlxc0 type veth peer name eth0 netns lxc
ip -n host link set vethlxc0 master lxdbr0
ip -n host link set vethlxc0 up
ip -n lxc addr add 10.0.3.50/24 dev eth0
ip -n lxc link set eth0 up
ip -n lxc route add default via 10.0.3.1
ip netns exec host iptables -t nat -A POSTROUTING -s 10.0.3.0/24 ! -d 10.0.3.0/24 -j MASQUERADE

# The VM's bridged frames now run through Docker's chains, match none of the docker0 rules and
# die on the policy, in both directions.
ip netns exec vm ping -c 1 -W 1 192.168.1.30
# expect: timeout via filter/FORWARD#0
ip netns exec lanpc nc -z -w 1 192.168.1.40 22
# expect: timeout via filter/FORWARD#0
# The LXD guest's connection to the outside is routed: dropped before it is masqueraded.
ip netns exec lxc nc -z -w 1 203.0.113.20 443
# expect: timeout via filter/FORWARD#0
# The host itself is not affected: INPUT and OUTPUT are still ACCEPT.
ip netns exec vm ping -c 1 -W 1 192.168.1.10
# expect: reply
ip netns exec lxc ping -c 1 -W 1 10.0.3.1
# expect: reply

# Switching br_netfilter's iptables hook off gives the VM its bridge back (the workaround most
# threads end with), but it is no cure: the LXD guest is routed, not bridged, and Docker needs the
# hook for --icc=false and (from 27.4) for --userland-proxy=false.
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=0
ip netns exec vm ping -c 1 -W 1 192.168.1.30
# expect: reply
ip netns exec lxc nc -z -w 1 203.0.113.20 443
# expect: timeout via filter/FORWARD#0
ip netns exec host sysctl -w net.bridge.bridge-nf-call-iptables=1

# Docker's documented place for the admin's own forwarding rules is DOCKER-USER, which FORWARD
# jumps to first (and Docker never flushes): let lxdbr0's guests out and their replies back in.
ip netns exec host iptables -I DOCKER-USER -i lxdbr0 ! -o lxdbr0 -j ACCEPT
ip netns exec host iptables -I DOCKER-USER -o lxdbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip netns exec lxc nc -z -w 1 203.0.113.20 443
# expect: connected from 203.0.113.10 via filter/DOCKER-USER#2
# The bridged VM still falls through to the policy...
ip netns exec vm ping -c 1 -W 1 192.168.1.30
# expect: timeout via filter/FORWARD#0
# ...until frames that stay on the bridge are accepted (libvirt's and Docker's docs both give the
# explicit "-i br0 -o br0 -j ACCEPT"; "-m physdev --physdev-is-bridged" is the other common form).
ip netns exec host iptables -I FORWARD -i br0 -o br0 -j ACCEPT
ip netns exec vm ping -c 1 -W 1 192.168.1.30
# expect: reply via filter/FORWARD#1
ip netns exec lanpc nc -z -w 1 192.168.1.40 22
# expect: connected from 192.168.1.30 via filter/FORWARD#1
