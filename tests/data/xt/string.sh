#!/bin/sh
# -m string in b: datagrams carrying "secret" (any case) are dropped, others reach b's listener.
set -e
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip netns exec b iptables -A INPUT -p udp -m string --algo bm --string secret --icase -j DROP
ip netns exec b iptables -A INPUT -p udp -m string --algo kmp --hex-string "|68656c|lo" --from 28
ip netns exec b iptables -A INPUT -p udp -m string --algo kmp --string hello --to 20

ip netns exec b nc -u -l -k -p 5000 &
echo hello | ip netns exec a nc -u -w 1 10.0.0.2 5000
# expect: delivered from 10.0.0.1
echo "my SeCrEt" | ip netns exec a nc -u -w 1 10.0.0.2 5000
# expect: lost via filter/INPUT#1
kill %1
ip netns exec b iptables -L INPUT -v -n -x
