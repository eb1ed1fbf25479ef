#!/bin/sh
# Found by the differential fuzzer. NOTRACK and CT --notrack in the raw table do not switch
# conntrack on in a namespace (xt_CT takes nf_ct_netns_get for every CT target but those), so
# fn1's ping leaves no entry; simnet listed one. And a packet left untracked in OUTPUT stays
# untracked when it loops back through lo (nf_conntrack_in ignores IP_CT_UNTRACKED): fn0's
# local connection leaves no entry although a conntrack match switched conntrack on there.
ip netns add fn0
ip netns add fn1
ip -n fn0 link set lo up
ip -n fn1 link set lo up
ip -n fn0 link add eth0 type veth peer name eth0 netns fn1
ip -n fn0 addr add 10.0.0.1/24 dev eth0
ip -n fn1 addr add 10.0.0.2/24 dev eth0
ip -n fn0 link set eth0 up
ip -n fn1 link set eth0 up
ip netns exec fn1 iptables -t raw -A PREROUTING -p udp -j CT --notrack
ip netns exec fn1 iptables -t raw -A OUTPUT -p udp -j NOTRACK
ip netns exec fn0 iptables -t raw -A OUTPUT -p tcp -j NOTRACK
ip netns exec fn0 iptables -t mangle -A INPUT -p icmp -m conntrack --ctstate RELATED -j MARK --set-mark 2
ip netns exec fn0 nc -l -k 80 &
ip netns exec fn0 ping -c 1 -W 1 10.0.0.2
ip netns exec fn1 ping -c 1 -W 1 10.0.0.1
ip netns exec fn0 nc -z -w 1 10.0.0.1 80
echo x | ip netns exec fn1 nc -u -w 1 10.0.0.1 53
