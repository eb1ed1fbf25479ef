#!/bin/sh
# The VXLAN overlay of vxlan-overlay-mtu.sh seen by TCP (issue #15; every probe checked on Linux
# 6.18): containers with MTU 1500 on bridges whose VXLAN port has MTU 1450. Both SYNs offer MSS
# 1460, so c2's http.server sends segments of up to 1500 bytes, and h2's bridge drops one that
# does not fit vxlan0 without an ICMP (a bridge does not route): a response that is one such
# segment stalls (curl -m gives up: 000, exit 28). A kernel surprise: a larger response
# arrives. TCP hands a burst of segments down as one GSO packet (veth offers TSO), and
# is_skb_forwardable lets a GSO packet through a port whatever its MTU; vxlan0 then sends the
# 1550-byte outer datagrams fragmented. Only a lone segment (a short response, or a
# retransmission) meets the MTU check. Two fixes make every size work:
# * TCPMSS on the hosts: with br_netfilter, bridged SYNs meet mangle FORWARD, and
#   --clamp-mss-to-pmtu lowers their MSS to the bridge's MTU less 40 (1410);
# * the containers' MTU set to the overlay's (1450): both sides then offer 1410 themselves.
ip netns add h1
ip netns add h2
ip netns add c1
ip netns add c2
ip -n h1 link set lo up
ip -n h2 link set lo up
ip -n c1 link set lo up
ip -n c2 link set lo up

ip -n h1 link add eth0 type veth peer name eth0 netns h2
ip -n h1 addr add 192.168.1.1/24 dev eth0
ip -n h2 addr add 192.168.1.2/24 dev eth0
ip -n h1 link set eth0 up
ip -n h2 link set eth0 up

ip -n h1 link add br0 type bridge
ip -n h1 link set br0 up
ip -n h2 link add br0 type bridge
ip -n h2 link set br0 up

ip -n h1 link add vxlan0 type vxlan id 42 local 192.168.1.1 remote 192.168.1.2 dev eth0 dstport 4789 srcport 4789 4790
ip -n h1 link set vxlan0 master br0
ip -n h1 link set vxlan0 up
ip -n h2 link add vxlan0 type vxlan id 42 local 192.168.1.2 remote 192.168.1.1 dev eth0 dstport 4789 srcport 4790 4791
ip -n h2 link set vxlan0 master br0
ip -n h2 link set vxlan0 up

ip -n h1 link add veth1 type veth peer name eth0 netns c1
ip -n h1 link set veth1 master br0
ip -n h1 link set veth1 up
ip -n c1 addr add 10.0.0.2/24 dev eth0
ip -n c1 link set eth0 up
ip -n h2 link add veth1 type veth peer name eth0 netns c2
ip -n h2 link set veth1 master br0
ip -n h2 link set veth1 up
ip -n c2 addr add 10.0.0.3/24 dev eth0
ip -n c2 link set eth0 up


ip netns exec c2 mkdir -p /tmp/www
ip netns exec c2 sh -c 'head -c 200 /dev/zero > /tmp/www/small'
ip netns exec c2 sh -c 'head -c 1200 /dev/zero > /tmp/www/one'
ip netns exec c2 sh -c 'truncate -s 100000 /tmp/www/large'
ip netns exec c2 python3 -m http.server --directory /tmp/www 8000 &

# 200 bytes (and http.server's 202-byte header) fit one small segment: they arrive.
ip netns exec c1 curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.0.3:8000/small
# expect: connected complete
# 1200 bytes: one 1468-byte segment, too long for vxlan0, dropped again at each retransmission.
ip netns exec c1 curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.0.3:8000/one
# expect: connected stalled
# 100000 bytes leave as GSO bursts, which pass the bridge port.
ip netns exec c1 curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.0.3:8000/large
# expect: connected complete

# Fix 1: clamp the MSS of bridged SYNs to the bridge's MTU on both hosts.
ip netns exec h1 sysctl -qw net.bridge.bridge-nf-call-iptables=1
ip netns exec h2 sysctl -qw net.bridge.bridge-nf-call-iptables=1
ip netns exec h1 iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
ip netns exec h2 iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
ip netns exec c1 curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.0.3:8000/one
# expect: connected complete
ip netns exec h1 iptables -t mangle -F
ip netns exec h2 iptables -t mangle -F

# Fix 2: the containers take the overlay's MTU; their SYNs then offer 1410.
ip -n c1 link set eth0 mtu 1450
ip -n c2 link set eth0 mtu 1450
ip netns exec c1 curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.0.3:8000/one
# expect: connected complete
ip netns exec c1 curl -s -m 2 -o /dev/null -w '%{http_code} %{exitcode}\n' http://10.0.0.3:8000/large
# expect: connected complete
