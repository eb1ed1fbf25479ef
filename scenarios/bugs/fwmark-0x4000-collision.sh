#!/bin/sh
# Bug 10: kube-proxy's masquerade mark (bit 14, 0x4000) collides with another user of the fwmark.
# kube-proxy marks what must be SNATed with KUBE-MARK-MASQ (--or-mark 0x4000) and KUBE-POSTROUTING
# MASQUERADEs every packet carrying that bit, whoever set it. Here the admin's policy routing
# marks a pod's traffic 0x4000 too: it is masqueraded, and the far end sees the node's address.
# A Kubernetes node "node": eth0 on the LAN (203.0.113.10, a client at .20), eth1 a private link
# to a partner (198.51.100.10; the partner's API is 192.0.2.20 behind 198.51.100.20), cni0 the
# pod bridge (10.244.0.1/24) with pods "web" (10.244.0.2, behind NodePort 30080) and "billing"
# (10.244.0.3). The partner allowlists the billing pod's own address.
ip netns add node
ip netns add client
ip netns add partner
ip netns add web
ip netns add billing
ip -n node link set lo up
ip -n client link set lo up
ip -n partner link set lo up
ip -n web link set lo up
ip -n billing link set lo up
ip -n node link add eth0 type veth peer name eth0 netns client
ip -n node addr add 203.0.113.10/24 dev eth0
ip -n client addr add 203.0.113.20/24 dev eth0
ip -n node link set eth0 up
ip -n client link set eth0 up
ip -n node link add eth1 type veth peer name eth0 netns partner
ip -n node addr add 198.51.100.10/24 dev eth1
ip -n partner addr add 198.51.100.20/24 dev eth0
ip -n partner addr add 192.0.2.20/32 dev lo
ip -n node link set eth1 up
ip -n partner link set eth0 up
# the partner routes the pod network back over the private link
ip -n partner route add 10.244.0.0/24 via 198.51.100.10
ip -n node link add cni0 type bridge
ip -n node addr add 10.244.0.1/24 dev cni0
ip -n node link set cni0 up
ip -n node link add veth-web type veth peer name eth0 netns web
ip -n node link set veth-web master cni0
ip -n node link set veth-web up
ip -n web addr add 10.244.0.2/24 dev eth0
ip -n web link set eth0 up
ip -n web route add default via 10.244.0.1
ip -n node link add veth-billing type veth peer name eth0 netns billing
ip -n node link set veth-billing master cni0
ip -n node link set veth-billing up
ip -n billing addr add 10.244.0.3/24 dev eth0
ip -n billing link set eth0 up
ip -n billing route add default via 10.244.0.1
ip netns exec node sysctl -w net.ipv4.ip_forward=1

# kube-proxy (iptables mode) for one NodePort service, ns1/web:http -> 10.244.0.2:80.
ip netns exec node iptables-restore <<'RULES'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-EXT-WEB - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-WEB1 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-WEB - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-EXT-WEB -m comment --comment "masquerade traffic for ns1/web:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-WEB -j KUBE-SVC-WEB
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-NODEPORTS -p tcp -m comment --comment "ns1/web:http" -m tcp --dport 30080 -j KUBE-EXT-WEB
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SEP-WEB1 -s 10.244.0.2/32 -m comment --comment "ns1/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-WEB1 -p tcp -m comment --comment "ns1/web:http" -m tcp -j DNAT --to-destination 10.244.0.2:80
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-WEB -m comment --comment "ns1/web:http -> 10.244.0.2:80" -j KUBE-SEP-WEB1
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
RULES

# The admin's policy routing: the billing pod's traffic to the partner takes the private link.
# Table 100 knows the way; the main table has no route to 192.0.2.0/24 at all.
ip -n node route add 192.0.2.0/24 via 198.51.100.20 dev eth1 table 100
ip -n node rule add fwmark 0x4000 table 100
ip netns exec node iptables -t mangle -A PREROUTING -i cni0 -s 10.244.0.3 -d 192.0.2.0/24 -j MARK --set-mark 0x4000
ip -n node rule show

ip netns exec web nc -l -k -p 80 &
ip netns exec partner nc -l -k -p 443 &

# The NodePort works as kube-proxy means it to: marked in KUBE-EXT-WEB, masqueraded, so the pod
# sees the node (its cni0 address) and answers through it.
ip netns exec client nc -z -w 1 203.0.113.10 30080
# expect: connected from 10.244.0.1 via nat/KUBE-POSTROUTING#3
# Only the marked pod has a route to the partner...
ip netns exec web nc -z -w 1 192.0.2.20 443
# expect: unreachable from 10.244.0.1
# ...and its connection arrives masqueraded: the 0x4000 the admin set for routing is kube-proxy's
# "SNAT me" bit, so the partner sees 198.51.100.10 and its allowlist of 10.244.0.3 fails.
ip netns exec billing nc -z -w 1 192.0.2.20 443
# expect: connected from 198.51.100.10 via nat/KUBE-POSTROUTING#3

# The fix: a bit nobody else uses (0x100), set and matched under its own mask, so neither
# side reads or writes the other's bits (the fwmark registry: 0x4000 and 0x8000 are Kubernetes').
ip netns exec node iptables -t mangle -R PREROUTING 1 -i cni0 -s 10.244.0.3 -d 192.0.2.0/24 -j MARK --or-mark 0x100
ip -n node rule del fwmark 0x4000 table 100
ip -n node rule add fwmark 0x100/0x100 table 100
ip -n node rule show
ip netns exec billing nc -z -w 1 192.0.2.20 443
# expect: connected from 10.244.0.3 via nat/KUBE-POSTROUTING#1
ip netns exec client nc -z -w 1 203.0.113.10 30080
# expect: connected from 10.244.0.1 via nat/KUBE-POSTROUTING#3

# The other way round: a rule that writes the whole mark clears kube-proxy's bit. mangle
# POSTROUTING runs before nat POSTROUTING, so an accounting tag on traffic into the pods, set
# with --set-mark (mask 0xffffffff), leaves KUBE-POSTROUTING nothing to see: no SNAT, and the
# pod sees the client. (This pod still answers through the node; a pod on another node would
# answer the client directly, and the client would drop a reply from an address it never called.)
ip netns exec node iptables -t mangle -A POSTROUTING -o cni0 -j MARK --set-mark 0x20
ip netns exec client nc -z -w 1 203.0.113.10 30080
# expect: connected from 203.0.113.20 via nat/KUBE-POSTROUTING#1
# Setting only its own bit leaves 0x4000 alone.
ip netns exec node iptables -t mangle -R POSTROUTING 1 -o cni0 -j MARK --or-mark 0x20
ip netns exec client nc -z -w 1 203.0.113.10 30080
# expect: connected from 10.244.0.1 via nat/KUBE-POSTROUTING#3
