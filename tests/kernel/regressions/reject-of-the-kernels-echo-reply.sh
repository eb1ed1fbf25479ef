#!/bin/sh
# Found by the differential fuzzer: REJECT in OUTPUT of the kernel's own echo reply sends no
# ICMP error (icmp_reply holds icmp_xmit_lock, so icmp_send gives up); simnet used to send one,
# which then met the same REJECT and counted twice.
ip netns add fa
ip netns add fb
ip -n fa link set lo up
ip -n fb link set lo up
ip -n fa link add eth0 type veth peer name eth0 netns fb
ip -n fa addr add 10.0.3.1/24 dev eth0
ip -n fb addr add 10.0.3.2/24 dev eth0
ip -n fa link set eth0 up
ip -n fb link set eth0 up
ip netns exec fa iptables -A OUTPUT -p icmp -j REJECT --reject-with icmp-host-unreachable
ip netns exec fb ping -c 1 -W 1 10.0.3.1
# expect: timeout
